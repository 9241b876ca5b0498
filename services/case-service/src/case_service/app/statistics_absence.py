"""Absence statistics (sykefraværsstatistikk) for an org unit and period: pure functions.

Definitions (the period is ``start`` to ``end``, both days included):

- **workdays**: Monday-Friday in the period; public holidays are not known here, so they count.
- **available workdays** (avtalte dagsverk): headcount x workdays. The headcount comes from the
  caller (the tenant's HR system knows who was employed in the period); without it no rate.
- **days lost** (tapte dagsverk): absent workdays in the period weighted by grade (a 50 % day
  is 0.5). Pending-note (avventende) days weigh 0: the employee works when the workplace adapts.
- **absence rate**: 100 * days lost / available workdays, in per cent.
- **short / long**: a case (oppfølgingstilfelle) with absence in the period is short when its
  absence days up to the period end are at most 16 (the employer period), else long. Days are
  the case's calendar days of absence inside the period.
- **self-certified / doctor-certified days**: calendar days of absence inside the period by
  what covers them (egenmelding / sykmelding).
- **repeated short absence** (a neutral pattern, not a judgement): at least
  ``pattern_min_spells`` short spells (runs of consecutive absence days, ≤ 16 days) starting in
  the ``pattern_window_months`` before the period end.
- **NAV's flag** (tilbakevendende sykefravær): within ``nav_window_years`` before the period end,
  at least 5 cases with 100 or more absence days in all, or at least 2 with 300 or more.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from case_service.app.summary_days import Segment, Source


@dataclass(frozen=True)
class Period:
    """Calendar days from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period ends on or after the day it starts")

    def overlap(self, segment: Segment) -> tuple[date, date] | None:
        first, last = max(segment.start, self.start), min(segment.end, self.end)
        return (first, last) if first <= last else None


@dataclass(frozen=True)
class AbsenceCase:
    """One case of the unit as the statistics see it: whose it is and its absence."""

    case_id: str
    employee_id: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Thresholds:
    short_max_days: int = 16
    pattern_min_spells: int = 3
    pattern_window_months: int = 6
    nav_window_years: int = 3
    # (at least this many cases, with at least this many days in all)
    nav_rules: tuple[tuple[int, int], ...] = ((5, 100), (2, 300))

    @property
    def lookback_months(self) -> int:
        """How far before the period end the flags look (the query must fetch that far)."""
        return max(self.pattern_window_months, 12 * self.nav_window_years)


@dataclass(frozen=True)
class Tally:
    count: int = 0
    days: int = 0


@dataclass(frozen=True)
class EmployeeFlags:
    employee_id: str
    short_spells: int
    pattern_flag: bool
    nav_cases: int
    nav_days: int
    nav_flag: bool


@dataclass(frozen=True)
class AbsenceStatistics:
    period: Period
    headcount: int | None
    workdays: int
    available_workdays: int | None
    days_lost: float
    absence_rate: float | None
    short: Tally
    long: Tally
    self_certified_days: int
    doctor_certified_days: int
    flagged: tuple[EmployeeFlags, ...] = field(default=())


def absence_statistics(
    cases: Sequence[AbsenceCase],
    period: Period,
    *,
    headcount: int | None = None,
    thresholds: Thresholds | None = None,
) -> AbsenceStatistics:
    """The unit's statistics for ``period`` from its cases (see the module docstring)."""
    limits = thresholds or Thresholds()
    workdays = weekdays(period.start, period.end)
    available = headcount * workdays if headcount is not None else None
    lost = round(sum(days_lost(case.segments, period) for case in cases), 2)
    short, long = duration_tallies(cases, period, limits.short_max_days)
    by_source = days_by_source(cases, period)
    return AbsenceStatistics(
        period=period,
        headcount=headcount,
        workdays=workdays,
        available_workdays=available,
        days_lost=lost,
        absence_rate=round(100 * lost / available, 2) if available else None,
        short=short,
        long=long,
        self_certified_days=by_source["self_certification"],
        doctor_certified_days=by_source["sick_note"],
        flagged=tuple(f for f in employee_flags(cases, period.end, limits) if _flagged(f)),
    )


def weekdays(start: date, end: date) -> int:
    """Monday-Friday days from ``start`` to ``end``, both included (0 if end < start)."""
    total = (end - start).days + 1
    if total <= 0:
        return 0
    weeks, rest = divmod(total, 7)
    extra = sum(1 for i in range(rest) if (start.weekday() + i) % 7 < 5)
    return weeks * 5 + extra


def days_lost(segments: Iterable[Segment], period: Period) -> float:
    """Absent workdays in ``period`` weighted by grade; pending-note days weigh 0."""
    lost = 0.0
    for segment in segments:
        span = period.overlap(segment)
        if span is not None and not segment.pending:
            lost += weekdays(*span) * segment.grade / 100
    return lost


def duration_tallies(
    cases: Iterable[AbsenceCase], period: Period, short_max_days: int
) -> tuple[Tally, Tally]:
    """(short, long): cases with absence in the period, and their absence days in it."""
    short, long = Tally(), Tally()
    for case in cases:
        inside = _days_inside(case.segments, period)
        if inside == 0:
            continue
        if _days_inside(case.segments, Period(date.min, period.end)) <= short_max_days:
            short = Tally(short.count + 1, short.days + inside)
        else:
            long = Tally(long.count + 1, long.days + inside)
    return short, long


def days_by_source(cases: Iterable[AbsenceCase], period: Period) -> dict[Source, int]:
    totals: dict[Source, int] = {"self_certification": 0, "sick_note": 0}
    for case in cases:
        for segment in case.segments:
            span = period.overlap(segment)
            if span is not None:
                totals[segment.source] += (span[1] - span[0]).days + 1
    return totals


def spells(segments: Iterable[Segment]) -> list[tuple[date, date]]:
    """Runs of consecutive absence days (fraværsperioder), whatever covers them."""
    runs: list[tuple[date, date]] = []
    for segment in sorted(segments, key=lambda s: s.start):
        if runs and segment.start <= runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], max(runs[-1][1], segment.end))
        else:
            runs.append((segment.start, segment.end))
    return runs


def employee_flags(
    cases: Iterable[AbsenceCase], as_of: date, limits: Thresholds
) -> list[EmployeeFlags]:
    """Both repeated-absence flags for every employee with cases, as of ``as_of``."""
    by_employee: dict[str, list[AbsenceCase]] = defaultdict(list)
    for case in cases:
        by_employee[case.employee_id].append(case)
    return [_flags(employee, own, as_of, limits) for employee, own in sorted(by_employee.items())]


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier, clamped to the month's end (31 Aug -> 28/29 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def _flags(
    employee: str, cases: Sequence[AbsenceCase], as_of: date, limits: Thresholds
) -> EmployeeFlags:
    pattern = Period(months_before(as_of, limits.pattern_window_months) + timedelta(1), as_of)
    all_segments = [segment for case in cases for segment in case.segments]
    short = [
        (first, min(last, as_of))
        for first, last in spells(all_segments)
        if pattern.start <= first <= as_of
    ]
    short_spells = sum(1 for a, b in short if (b - a).days + 1 <= limits.short_max_days)
    nav = Period(months_before(as_of, 12 * limits.nav_window_years) + timedelta(1), as_of)
    nav_days = [_days_inside(case.segments, nav) for case in cases]
    nav_cases, nav_total = sum(1 for d in nav_days if d > 0), sum(nav_days)
    return EmployeeFlags(
        employee_id=employee,
        short_spells=short_spells,
        pattern_flag=short_spells >= limits.pattern_min_spells,
        nav_cases=nav_cases,
        nav_days=nav_total,
        nav_flag=any(nav_cases >= n and nav_total >= d for n, d in limits.nav_rules),
    )


def _days_inside(segments: Iterable[Segment], period: Period) -> int:
    total = 0
    for segment in segments:
        span = period.overlap(segment)
        if span is not None:
            total += (span[1] - span[0]).days + 1
    return total


def _flagged(flags: EmployeeFlags) -> bool:
    return flags.pattern_flag or flags.nav_flag
