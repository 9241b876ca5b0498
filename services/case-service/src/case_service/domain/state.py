"""What the case knows: its state, folded from its events (``evolve``), and nothing else.

The aggregate decides on this state; the state never decides. Events that change nothing a
rule looks at (a conversation held, an AAP application …) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from case_service.domain.periods import Period
from naervaer.contracts.case import (
    CaseClosed,
    CaseOpened,
    CaseReopened,
    GradingChanged,
    ManagerReassigned,
    ObligationWaived,
    ReturnedToWork,
    SelfCertificationRegistered,
    SickNoteCancelled,
    SickNoteCorrected,
    SickNoteExtended,
    SickNoteReceived,
)
from naervaer.contracts.followup import (
    DialogueMeetingCancelled,
    DialogueMeetingHeld,
    DialogueMeetingScheduled,
    DoctorConsentRecorded,
    FollowUpPlanCreated,
    FollowUpPlanRevised,
    MeetingExceptionRecorded,
    MeetingNumber,
)
from naervaer.contracts.measures import (
    AdjustmentEvaluated,
    AdjustmentRecorded,
    ExpertAssistanceDecided,
    ExpertAssistanceRequested,
)

Status = Literal["new", "open", "closed"]
MeetingStatus = Literal["scheduled", "held", "cancelled"]


@dataclass
class SickNote:
    """A sick note (sykmelding) as it stands after extensions, corrections and gradings."""

    period: Period
    grade: int
    kind: str
    cancelled: bool = False
    gradings: list[tuple[date, int]] = field(default_factory=list)

    def grade_on(self, day: date) -> int:
        """The grade in force on ``day``: the latest grading change on or before it."""
        grade = self.grade
        for effective_from, changed in sorted(self.gradings):
            if effective_from <= day:
                grade = changed
        return grade


@dataclass
class Meeting:
    number: MeetingNumber
    status: MeetingStatus


@dataclass
class ExpertRequest:
    amount_nok: int
    decided: bool = False
    approved: bool = False


@dataclass
class Adjustment:
    starts_on: date
    evaluated: bool = False


@dataclass
class CaseState:
    """Everything the case's rules look at."""

    case_id: str
    opened: CaseOpened | None = None
    status: Status = "new"
    manager_id: str | None = None
    sick_notes: dict[str, SickNote] = field(default_factory=dict)
    self_certifications: list[Period] = field(default_factory=list)
    returned_on: date | None = None  # a full return to work (friskmelding)
    plan_version: int = 0  # 0: no follow-up plan yet
    doctor_consent: bool = False
    meetings: dict[str, Meeting] = field(default_factory=dict)
    meeting_2_exception: bool = False
    adjustments: dict[str, Adjustment] = field(default_factory=dict)
    expert_requests: dict[str, ExpertRequest] = field(default_factory=dict)
    waived: set[str] = field(default_factory=set)

    def absence_periods(self) -> list[Period]:
        """The days the case counts as absence: live sick notes and self-certifications."""
        notes = [note.period for note in self.sick_notes.values() if not note.cancelled]
        return notes + self.self_certifications

    @property
    def case_start(self) -> date:
        """S: the first absence day, moved earlier only by the case's first fact (see rules)."""
        assert self.opened is not None
        return min([self.opened.first_absence_day, *(p.start for p in self.absence_periods())])

    def last_absence_day(self) -> date:
        """The last sick day: the latest absence day, days after a full return not counted."""
        ends = [self.case_start]
        for period in self.absence_periods():
            end = period.end
            if self.returned_on is not None and period.start < self.returned_on <= end:
                end = self.returned_on - timedelta(days=1)  # came back before the note ran out
            ends.append(end)
        return max(ends)

    def held(self, number: int) -> bool:
        return any(m.number == number and m.status == "held" for m in self.meetings.values())


def evolve(state: CaseState, event: BaseModel) -> None:
    """Fold one event into ``state``."""
    apply = _APPLY.get(type(event))
    if apply is not None:
        apply(state, event)


def _opened(s: CaseState, e: CaseOpened) -> None:
    s.opened, s.status, s.manager_id = e, "open", e.manager_id


def _reopened(s: CaseState, _e: CaseReopened) -> None:
    s.status, s.returned_on = "open", None


def _closed(s: CaseState, _e: CaseClosed) -> None:
    s.status = "closed"


def _returned(s: CaseState, e: ReturnedToWork) -> None:
    if e.extent == "full":
        s.returned_on = e.returned_on


def _note(s: CaseState, e: SickNoteReceived | SickNoteCorrected) -> None:
    s.sick_notes[e.sick_note_id] = SickNote(Period(e.period_start, e.period_end), e.grade, e.kind)


def _extended(s: CaseState, e: SickNoteExtended) -> None:
    note = s.sick_notes[e.sick_note_id]
    note.period = Period(note.period.start, e.period_end)


def _note_cancelled(s: CaseState, e: SickNoteCancelled) -> None:
    s.sick_notes[e.sick_note_id].cancelled = True


def _graded(s: CaseState, e: GradingChanged) -> None:
    s.sick_notes[e.sick_note_id].gradings.append((e.effective_from, e.grade))


def _self_certified(s: CaseState, e: SelfCertificationRegistered) -> None:
    s.self_certifications.append(Period(e.period_start, e.period_end))


def _scheduled(s: CaseState, e: DialogueMeetingScheduled) -> None:
    s.meetings[e.meeting_id] = Meeting(e.meeting_number, "scheduled")


def _meeting_held(s: CaseState, e: DialogueMeetingHeld) -> None:
    s.meetings[e.meeting_id].status = "held"


def _meeting_cancelled(s: CaseState, e: DialogueMeetingCancelled) -> None:
    s.meetings[e.meeting_id].status = "cancelled"


def _adjustment(s: CaseState, e: AdjustmentRecorded) -> None:
    s.adjustments[e.adjustment_id] = Adjustment(e.starts_on)


def _adjustment_evaluated(s: CaseState, e: AdjustmentEvaluated) -> None:
    s.adjustments[e.adjustment_id].evaluated = True


def _expert_requested(s: CaseState, e: ExpertAssistanceRequested) -> None:
    s.expert_requests[e.request_id] = ExpertRequest(e.amount_nok)


def _expert_decided(s: CaseState, e: ExpertAssistanceDecided) -> None:
    request = s.expert_requests[e.request_id]
    request.decided, request.approved = True, e.approved


def _set(attribute: str, value: Callable[[Any], object]) -> Callable[[CaseState, Any], None]:
    return lambda s, e: setattr(s, attribute, value(e))


_APPLY: dict[type[BaseModel], Callable[[CaseState, Any], None]] = {
    CaseOpened: _opened,
    CaseReopened: _reopened,
    CaseClosed: _closed,
    ReturnedToWork: _returned,
    ManagerReassigned: _set("manager_id", lambda e: e.manager_id),
    ObligationWaived: lambda s, e: s.waived.add(e.obligation),
    SickNoteReceived: _note,
    SickNoteCorrected: _note,
    SickNoteExtended: _extended,
    SickNoteCancelled: _note_cancelled,
    GradingChanged: _graded,
    SelfCertificationRegistered: _self_certified,
    FollowUpPlanCreated: _set("plan_version", lambda e: e.plan_version),
    FollowUpPlanRevised: _set("plan_version", lambda e: e.plan_version),
    DoctorConsentRecorded: _set("doctor_consent", lambda e: e.consented),
    DialogueMeetingScheduled: _scheduled,
    DialogueMeetingHeld: _meeting_held,
    DialogueMeetingCancelled: _meeting_cancelled,
    MeetingExceptionRecorded: _set("meeting_2_exception", lambda e: True),
    AdjustmentRecorded: _adjustment,
    AdjustmentEvaluated: _adjustment_evaluated,
    ExpertAssistanceRequested: _expert_requested,
    ExpertAssistanceDecided: _expert_decided,
}
