"""Response schemas of the read side: case summaries and absence statistics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from case_service.app.queries import CaseSummary
from case_service.app.statistics_absence import AbsenceStatistics, EmployeeFlags, Tally, Thresholds
from case_service.app.summary_view import meetings_held, meetings_upcoming, summary_today


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class AbsenceSegmentOut(_Out):
    start: date
    end: date
    source: Literal["self_certification", "sick_note"]
    grade: int = Field(description="Sick-leave grade in per cent on these days.")
    pending: bool = Field(description="Covered by a pending (avventende) sick note.")


class MeetingHeldOut(_Out):
    meeting_id: str
    meeting_number: int
    held_on: date


class MeetingUpcomingOut(_Out):
    meeting_id: str
    meeting_number: int
    starts_at: datetime | None


class AdjustmentOut(_Out):
    adjustment_id: str
    area: Literal["tasks", "working_time", "workplace"]
    starts_on: date
    ends_on: date


class CaseSummaryResponse(_Out):
    """A case at a glance (saksoversikt), as projected from its events."""

    case_id: str
    employee_id: str
    manager_id: str = Field(description="The current nearest manager (nærmeste leder).")
    org_unit: str
    status: Literal["open", "closed"]
    began_with: Literal["self_certification", "sick_note"]
    case_start: date = Field(description="S: the first day of the case.")
    closed_on: date | None
    latest_known_day: date | None = Field(
        description="The last day a counting sick note or self-certification covers."
    )
    current_grade: int | None = Field(description="The grade on the latest known day.")
    days_absent: int = Field(description="Calendar days covered, overlaps counted once.")
    days_absent_to_date: int = Field(description="Of those, the days up to and including as_of.")
    employer_period_end: date = Field(
        description="The 16th absence day (arbeidsgiverperioden), or when it falls if the "
        "absence goes on unbroken from the latest known day."
    )
    plan_version: int = Field(description="Current follow-up plan version; 0 when none.")
    plan_made_on: date | None
    plan_shared_with: list[Literal["doctor", "nav"]]
    meetings_held: list[MeetingHeldOut]
    meetings_upcoming: list[MeetingUpcomingOut]
    open_adjustments: list[AdjustmentOut] = Field(
        description="Recorded, not yet evaluated and not ended before as_of."
    )
    adjustments_awaiting_evaluation: int = Field(
        description="Adjustments that ended before as_of without an evaluation."
    )
    absence: list[AbsenceSegmentOut]
    as_of: date = Field(
        description="Today (the service's time zone): what the date-dependent fields refer to."
    )
    version: int = Field(description="The case stream version the summary reflects.")
    updated_at: datetime = Field(description="When that event was recorded.")

    @classmethod
    def of(cls, summary: CaseSummary, today: date) -> CaseSummaryResponse:
        state, facts = summary.state, summary.facts
        now = summary_today(state, facts.segments, today)
        return cls(
            case_id=state.case_id,
            employee_id=state.employee_id,
            manager_id=state.manager_id,
            org_unit=state.org_unit,
            status=state.status,
            began_with=state.began_with,
            case_start=facts.case_start,
            closed_on=state.closed_on,
            latest_known_day=facts.last_absence_day,
            current_grade=facts.current_grade,
            days_absent=facts.days_absent,
            days_absent_to_date=now.days_absent_to_date,
            employer_period_end=facts.employer_period_end,
            plan_version=state.plan_version,
            plan_made_on=state.plan_made_on,
            plan_shared_with=list(state.plan_shared_with),
            meetings_held=[
                MeetingHeldOut(meeting_id=m.meeting_id, meeting_number=m.number, held_on=day)
                for m in meetings_held(state)
                if (day := m.held_on) is not None
            ],
            meetings_upcoming=[
                MeetingUpcomingOut(
                    meeting_id=m.meeting_id, meeting_number=m.number, starts_at=m.starts_at
                )
                for m in meetings_upcoming(state)
            ],
            open_adjustments=[
                AdjustmentOut.model_validate(a, from_attributes=True) for a in now.open_adjustments
            ],
            adjustments_awaiting_evaluation=now.adjustments_awaiting_evaluation,
            absence=[
                AbsenceSegmentOut.model_validate(s, from_attributes=True) for s in facts.segments
            ],
            as_of=today,
            version=summary.version,
            updated_at=summary.updated_at,
        )


class CaseSummaryPage(_Out):
    items: list[CaseSummaryResponse]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class TallyOut(_Out):
    count: int = Field(description="Cases.")
    days: int = Field(description="Their calendar days of absence inside the period.")

    @classmethod
    def of(cls, tally: Tally) -> TallyOut:
        return cls(count=tally.count, days=tally.days)


class RepeatedAbsenceOut(_Out):
    """An employee with repeated absence: a prompt for an early conversation, not a verdict."""

    employee_id: str
    short_spells: int = Field(description="Short spells (≤ 16 days) in the pattern window.")
    pattern_flag: bool
    nav_cases: int = Field(description="Cases with absence in NAV's window (3 years).")
    nav_days: int = Field(description="Their absence days in that window.")
    nav_flag: bool = Field(description="NAV's repeated-absence rule (tilbakevendende fravær).")

    @classmethod
    def of(cls, flags: EmployeeFlags) -> RepeatedAbsenceOut:
        return cls.model_validate(flags, from_attributes=True)


class ThresholdsOut(_Out):
    short_max_days: int
    pattern_min_spells: int
    pattern_window_months: int
    nav_window_years: int
    nav_rules: list[tuple[int, int]] = Field(description="(cases, days in all) pairs.")


class AbsenceStatisticsResponse(_Out):
    """Absence of one org unit over a period (sykefraværsstatistikk)."""

    org_unit: str
    period_start: date
    period_end: date
    headcount: int | None = Field(description="As given by the caller; no rate without it.")
    workdays: int = Field(description="Monday-Friday in the period (holidays included).")
    available_workdays: int | None = Field(description="headcount x workdays.")
    days_lost: float = Field(description="Absent workdays weighted by grade.")
    absence_rate_percent: float | None = Field(description="100 * days lost / available.")
    short_absences: TallyOut = Field(description="Cases of at most 16 absence days.")
    long_absences: TallyOut = Field(description="Cases of more than 16 absence days.")
    self_certified_days: int = Field(description="Calendar days covered by egenmelding.")
    doctor_certified_days: int = Field(description="Calendar days covered by sykmelding.")
    repeated_absence: list[RepeatedAbsenceOut] = Field(
        description="Only employees with a flag set."
    )
    thresholds: ThresholdsOut

    @classmethod
    def of(
        cls, org_unit: str, stats: AbsenceStatistics, thresholds: Thresholds
    ) -> AbsenceStatisticsResponse:
        return cls(
            org_unit=org_unit,
            period_start=stats.period.start,
            period_end=stats.period.end,
            headcount=stats.headcount,
            workdays=stats.workdays,
            available_workdays=stats.available_workdays,
            days_lost=stats.days_lost,
            absence_rate_percent=stats.absence_rate,
            short_absences=TallyOut.of(stats.short),
            long_absences=TallyOut.of(stats.long),
            self_certified_days=stats.self_certified_days,
            doctor_certified_days=stats.doctor_certified_days,
            repeated_absence=[RepeatedAbsenceOut.of(flags) for flags in stats.flagged],
            thresholds=ThresholdsOut(
                short_max_days=thresholds.short_max_days,
                pattern_min_spells=thresholds.pattern_min_spells,
                pattern_window_months=thresholds.pattern_window_months,
                nav_window_years=thresholds.nav_window_years,
                nav_rules=list(thresholds.nav_rules),
            ),
        )
