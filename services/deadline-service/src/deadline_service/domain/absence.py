"""The absence laid day by day: the case start S, its end, the employer period, sick-pay days.

A case (oppfølgingstilfelle) is the run of sick days in which no 16 or more consecutive
non-sick days separate two sick days (isoppfolgingstilfelle ``OppfolgingstilfelleDag.kt``).
An absence with no known end is projected as continuing: deadlines are what the law demands if
the employee stays sick, and they move when the facts change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from deadline_service.domain.calendar import DAY, is_weekday
from deadline_service.domain.facts import CaseFacts, Layer, LayerKind, Return

NEW_CASE_AFTER_DAYS = 16
"""Non-sick days that end a case: 16 or more and the next sick day starts a new one."""
EMPLOYER_PERIOD_DAYS = 16
"""Calendar days the employer pays (arbeidsgiverperioden, ftrl § 8-19)."""


@dataclass(frozen=True)
class Day:
    """One absence day: its grade, what it rests on and the event that laid it."""

    grade: int
    kind: LayerKind
    source: str


class Absence:
    """The current case's absence days, and its end when it is known to have ended."""

    def __init__(self, days: Mapping[date, Day], end: date | None) -> None:
        self.days = dict(sorted(days.items()))
        self.end = end

    @property
    def start(self) -> date:
        """S: the first absence day of the case."""
        return next(iter(self.days))

    @property
    def last_known_day(self) -> date:
        return next(reversed(self.days))

    def active_on(self, day: date) -> bool:
        """Does the case still run on ``day``? (Always, unless it is known to end earlier.)"""
        return self.end is None or day <= self.end

    def day(self, day: date) -> Day | None:
        return self.days.get(day)

    def sick_on(self, day: date) -> bool:
        """Known sick days, and every day after the last one while the absence is open."""
        if day in self.days:
            return True
        return self.end is None and day > self.last_known_day

    def employer_period_end(self) -> date | None:
        """The 16th sick calendar day (days already used before a short gap count); None
        when the absence ends before it."""
        for used, day in enumerate(self.days_from(self.start), start=1):
            if used == EMPLOYER_PERIOD_DAYS:
                return day
        return None

    def days_from(self, first: date) -> Iterator[date]:
        """Sick days from ``first`` on, known then projected (endless while open)."""
        stop = None if self.end is None else min(self.end, self.last_known_day)
        day = first
        while stop is None or day <= stop:
            if self.sick_on(day):
                yield day
            day += DAY

    def sick_pay_weekdays(self, after: date) -> Iterator[date]:
        """Weekdays with sick pay after the employer period (grading does not matter)."""
        return (day for day in self.days_from(after + DAY) if is_weekday(day))


def lay_days(facts: CaseFacts) -> Absence | None:
    """The current case's absence from the facts; None before any absence is known."""
    days = _all_days(facts)
    if not days:
        return None
    current = _current_case(days)
    end = _end(facts, current)
    if end is not None:
        current = {day: info for day, info in current.items() if day <= end}
    return Absence(current, end) if current else None


@dataclass(frozen=True)
class _Part:
    """Days ``first``..``last`` of a layer, laid at ``seq``."""

    layer: Layer
    first: date
    last: date
    seq: int


def _all_days(facts: CaseFacts) -> dict[date, Day]:
    """Lay the layers' parts and the returns in the order they were changed (later wins)."""
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
    """From ``back.day`` the employee works ``working_percent``: what is left is the grade."""
    for day in [d for d in days if d >= back.day]:
        grade = min(days[day].grade, 100 - back.working_percent)
        if grade <= 0:
            del days[day]
        elif grade < days[day].grade:
            days[day] = Day(grade, days[day].kind, back.source)


def _current_case(days: Mapping[date, Day]) -> dict[date, Day]:
    """The last run of sick days not separated by ``NEW_CASE_AFTER_DAYS`` non-sick days."""
    ordered = sorted(days)
    first = 0
    for index in range(1, len(ordered)):
        gap = (ordered[index] - ordered[index - 1]).days - 1
        if gap >= NEW_CASE_AFTER_DAYS:
            first = index
    return {day: days[day] for day in ordered[first:]}


def _end(facts: CaseFacts, current: Mapping[date, Day]) -> date | None:
    """Closing ends the case that day; a full return ends it the day before, unless sick
    days follow it (the absence went on)."""
    ends = [facts.closed_on] if facts.closed_on is not None else []
    last = max(current)
    full_returns = [r.day for r in facts.returns if r.working_percent >= 100 and r.day > last]
    if full_returns:
        ends.append(min(full_returns) - timedelta(days=1))
    return min(ends) if ends else None
