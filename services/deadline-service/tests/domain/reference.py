"""The day-by-day absence and maximum date as they were before issue 8 made them cheaper.

Kept only here, as the oracle of the property tests: they are slow but plainly right, so the
interval arithmetic of ``domain.absence`` and ``domain.maxdate`` must agree with them on every
generated case.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from deadline_service.domain.absence import EMPLOYER_PERIOD_DAYS, NEW_CASE_AFTER_DAYS, Day
from deadline_service.domain.calendar import DAY, is_weekday, years_before
from deadline_service.domain.facts import CaseFacts, Layer, Return
from deadline_service.domain.kinds import Stage, State
from deadline_service.domain.maxdate import (
    COUNT_YEARS,
    FIT_WEEKS_TO_RESET,
    HORIZON_DAYS,
    MAX_SICK_PAY_DAYS,
    SickPayHistory,
)
from deadline_service.domain.timeline import Obligation


class SlowAbsence:
    """The absence walked one calendar day at a time."""

    def __init__(self, days: Mapping[date, Day], end: date | None) -> None:
        self.days = dict(sorted(days.items()))
        self.end = end

    @property
    def start(self) -> date:
        return next(iter(self.days))

    @property
    def last_known_day(self) -> date:
        return next(reversed(self.days))

    def sick_on(self, day: date) -> bool:
        if day in self.days:
            return True
        return self.end is None and day > self.last_known_day

    def employer_period_end(self) -> date | None:
        for used, day in enumerate(self.days_from(self.start), start=1):
            if used == EMPLOYER_PERIOD_DAYS:
                return day
        return None

    def days_from(self, first: date) -> Iterator[date]:
        stop = None if self.end is None else min(self.end, self.last_known_day)
        day = first
        while stop is None or day <= stop:
            if self.sick_on(day):
                yield day
            day += DAY

    def sick_pay_weekdays(self, after: date) -> Iterator[date]:
        return (day for day in self.days_from(after + DAY) if is_weekday(day))


def slow_lay_days(facts: CaseFacts) -> SlowAbsence | None:
    days = _all_days(facts)
    if not days:
        return None
    current = _current_case(days)
    end = _end(facts, current)
    if end is not None:
        current = {day: info for day, info in current.items() if day <= end}
    return SlowAbsence(current, end) if current else None


@dataclass(frozen=True)
class _Part:
    layer: Layer
    first: date
    last: date
    seq: int


def _all_days(facts: CaseFacts) -> dict[date, Day]:
    days: dict[date, Day] = {}
    steps: list[_Part | Return] = [
        _Part(layer, *part) for layer in facts.layers.values() for part in layer.parts()
    ]
    steps.extend(facts.returns)
    steps.sort(key=lambda step: step.seq)
    for step in steps:
        if isinstance(step, _Part):
            for day, grade in _graded_days(step.first, step.last, step.layer.grades):
                days[day] = Day(grade, step.layer.kind, step.layer.source)
        else:
            _return_to_work(days, step)
    return days


def _graded_days(
    start: date, end: date, grades: list[tuple[date, int]]
) -> Iterator[tuple[date, int]]:
    day = start
    while day <= end:
        yield day, [grade for since, grade in grades if since <= day][-1]
        day += DAY


def _return_to_work(days: dict[date, Day], back: Return) -> None:
    for day in [d for d in days if d >= back.day]:
        grade = min(days[day].grade, 100 - back.working_percent)
        if grade <= 0:
            del days[day]
        elif grade < days[day].grade:
            days[day] = Day(grade, days[day].kind, back.source)


def _current_case(days: Mapping[date, Day]) -> dict[date, Day]:
    ordered = sorted(days)
    first = 0
    for index in range(1, len(ordered)):
        gap = (ordered[index] - ordered[index - 1]).days - 1
        if gap >= NEW_CASE_AFTER_DAYS:
            first = index
    return {day: days[day] for day in ordered[first:]}


def _end(facts: CaseFacts, current: Mapping[date, Day]) -> date | None:
    ends = [facts.closed_on] if facts.closed_on is not None else []
    last = max(current)
    full_returns = [r.day for r in facts.returns if r.working_percent >= 100 and r.day > last]
    if full_returns:
        ends.append(min(full_returns) - timedelta(days=1))
    return min(ends) if ends else None


def slow_max_date(
    absence: SlowAbsence, employer_period_end: date, history: SickPayHistory | None = None
) -> date | None:
    earlier = deque(sorted(_still_counting(absence.start, history or SickPayHistory())))
    used = len(earlier)
    for count, day in enumerate(absence.sick_pay_weekdays(employer_period_end), start=1):
        if count > HORIZON_DAYS:
            return None
        window_start = years_before(day, COUNT_YEARS)
        while earlier and earlier[0] <= window_start:
            earlier.popleft()
            used -= 1
        used += 1
        if used >= MAX_SICK_PAY_DAYS:
            return day
    return None


def _still_counting(start: date, history: SickPayHistory) -> Iterable[date]:
    if history.last_sick_day is None:
        return history.days
    fit_days = (start - history.last_sick_day).days - 1
    if fit_days >= 7 * FIT_WEEKS_TO_RESET:
        return ()
    return (day for day in history.days if day < start)


def slow_known_sick_pay_days(absence: SlowAbsence) -> frozenset[date]:
    known = SlowAbsence(absence.days, absence.last_known_day)
    end = known.employer_period_end()
    return frozenset() if end is None else frozenset(known.sick_pay_weekdays(end))


def slow_reminder_stages(obligation: Obligation, lead_days: int) -> list[tuple[Stage, date]]:
    """When each deadline event of an open obligation fires, as the projection derived its
    timers before ``due_timers``; milestones are never overdue."""
    if obligation.state is not State.OPEN or obligation.due_date is None:
        return []
    due = obligation.due_date
    stages = [(Stage.APPROACHING, due - timedelta(days=lead_days)), (Stage.DUE, due)]
    if not obligation.milestone:
        stages.append((Stage.OVERDUE, due + timedelta(days=1)))
    return stages
