"""The absence laid day by day: the case start S, its end, the employer period, sick-pay days.

A case (oppfølgingstilfelle) is the run of sick days in which no 16 or more consecutive
non-sick days separate two sick days (isoppfolgingstilfelle ``OppfolgingstilfelleDag.kt``).
An absence with no known end is projected as continuing: deadlines are what the law demands if
the employee stays sick, and they move when the facts change.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import repeat
from types import MappingProxyType

from deadline_service.domain.calendar import DAY, is_weekday, next_weekday, nth_weekday_after
from deadline_service.domain.facts import CaseFacts, LayerKind, Return

NEW_CASE_AFTER_DAYS = 16
"""Non-sick days that end a case: 16 or more and the next sick day starts a new one."""
EMPLOYER_PERIOD_DAYS = 16
"""Calendar days the employer pays (arbeidsgiverperioden, ftrl § 8-19)."""


@dataclass(frozen=True, slots=True)
class Day:
    """One absence day: its grade, what it rests on and the event that laid it."""

    grade: int
    kind: LayerKind
    source: str


class Absence:
    """The current case's absence days, and its end when it is known to have ended.

    Counting runs over the sorted known days and, while the absence is open, the days after
    the last of them by date arithmetic: no walk day by day through a projected year.
    """

    def __init__(self, days: Mapping[date, Day], end: date | None) -> None:
        self._order = sorted(days)
        # Read-only: ``lay_days`` hands the same Absence to every caller of the same facts.
        self.days: Mapping[date, Day] = MappingProxyType({day: days[day] for day in self._order})
        self.end = end
        # Known days from this index on lie after the end: ``days_from`` never yields them.
        self._stop_index = len(self._order) if end is None else bisect_right(self._order, end)

    @property
    def start(self) -> date:
        """S: the first absence day of the case."""
        return self._order[0]

    @property
    def last_known_day(self) -> date:
        return self._order[-1]

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
        known = self._stop_index
        if known >= EMPLOYER_PERIOD_DAYS:
            return self._order[EMPLOYER_PERIOD_DAYS - 1]
        if self.end is None:  # every day after the last known one is projected sick
            return self.last_known_day + timedelta(days=EMPLOYER_PERIOD_DAYS - known)
        return None

    def days_from(self, first: date) -> Iterator[date]:
        """Sick days from ``first`` on, known then projected (endless while open)."""
        yield from self._order[bisect_left(self._order, first) : self._stop_index]
        if self.end is None:
            day = max(first, self.last_known_day + DAY)
            while True:
                yield day
                day += DAY

    def sick_pay_weekdays(self, after: date) -> Iterator[date]:
        """Weekdays with sick pay after the employer period (grading does not matter)."""
        yield from self._known_weekdays(after)
        if self.end is None:
            day = next_weekday(max(after, self.last_known_day))
            while True:
                yield day
                day = next_weekday(day)

    def sick_pay_weekday(self, after: date, number: int) -> date | None:
        """The ``number``-th (from 1) of ``sick_pay_weekdays(after)``; None if it has fewer."""
        known = self._known_weekdays(after)
        if number <= len(known):
            return known[number - 1]
        if self.end is not None:
            return None
        return nth_weekday_after(max(after, self.last_known_day), number - len(known))

    def _known_weekdays(self, after: date) -> list[date]:
        first = bisect_right(self._order, after)
        return [day for day in self._order[first : self._stop_index] if is_weekday(day)]


def lay_days(facts: CaseFacts) -> Absence | None:
    """The current case's absence from the facts; None before any absence is known.

    Memoised on what it reads: a recomputation lays the same facts twice (for the case row
    and in ``plan``), and the result is read-only (``Absence.days`` is a mapping proxy)."""
    return _laid(_steps(facts), facts.closed_on)


@dataclass(frozen=True, slots=True)
class _Part:
    """Days ``first``..``last`` of a layer, laid at ``seq`` (hashable: a memo key)."""

    first: date
    last: date
    seq: int
    grades: tuple[tuple[date, int], ...]
    kind: LayerKind
    source: str


_Step = _Part | Return


def _steps(facts: CaseFacts) -> tuple[_Step, ...]:
    """The layers' parts and the returns in the order they were changed (later wins)."""
    steps: list[_Step] = [
        _Part(first, last, seq, tuple(layer.grades), layer.kind, layer.source)
        for layer in facts.layers.values()
        for first, last, seq in layer.parts()
    ]
    steps.extend(facts.returns)
    steps.sort(key=lambda step: step.seq)
    return tuple(steps)


@lru_cache(maxsize=256)
def _laid(steps: tuple[_Step, ...], closed_on: date | None) -> Absence | None:
    """The absence the steps lay: the last case of it, cut at its end."""
    days = _all_days(steps)
    if not days:
        return None
    current = _current_case(days)
    returns = [step for step in steps if isinstance(step, Return)]
    end = _end(closed_on, returns, current)
    if end is not None and end < next(reversed(current)):
        current = {day: info for day, info in current.items() if day <= end}
    return Absence(current, end) if current else None


def _all_days(steps: tuple[_Step, ...]) -> dict[date, Day]:
    """Lay the steps in turn: a part lays its days, a return to work lowers or ends them."""
    days: dict[date, Day] = {}
    for step in steps:
        if isinstance(step, _Part):
            _lay_part(days, step)
        else:
            _return_to_work(days, step)
    return days


def _lay_part(days: dict[date, Day], part: _Part) -> None:
    """Each run of days with one grade laid at once, all of them sharing one (frozen) Day."""
    for first, last, grade in _grade_runs(part.first, part.last, part.grades):
        # No list, dict or pair per run: the rebuild's process is large and every container
        # allocated brings its next garbage collection nearer.
        dates = map(date.fromordinal, range(first.toordinal(), last.toordinal() + 1))
        days.update(zip(dates, repeat(Day(grade, part.kind, part.source))))


def _grade_runs(
    start: date, end: date, grades: tuple[tuple[date, int], ...]
) -> Iterator[tuple[date, date, int]]:
    """(first, last, grade) runs of ``start``..``end``: a day has the grade of the last step
    in ``grades`` from on or before it. A step holds from its date until the first date of
    the steps after it, so the runs come out right however the steps are ordered."""
    later = end + DAY  # the earliest date of the steps after the one at hand
    runs = []
    for since, grade in reversed(grades):
        first, last = max(since, start), min(later - DAY, end)
        if first <= last:
            runs.append((first, last, grade))
        later = min(later, since)
    return reversed(runs)


def _return_to_work(days: dict[date, Day], back: Return) -> None:
    """From ``back.day`` the employee works ``working_percent``: what is left is the grade."""
    left = 100 - back.working_percent
    lowered: dict[Day, Day] = {}  # days share their Day: lower each one once
    for day in [d for d in days if d >= back.day]:
        was = days[day]
        if min(was.grade, left) <= 0:
            del days[day]
        elif left < was.grade:
            if was not in lowered:
                lowered[was] = Day(left, was.kind, back.source)
            days[day] = lowered[was]


def _current_case(days: Mapping[date, Day]) -> dict[date, Day]:
    """The last run of sick days not separated by ``NEW_CASE_AFTER_DAYS`` non-sick days
    (in date order)."""
    ordered = sorted(days)
    first = len(ordered) - 1
    if (ordered[-1] - ordered[0]).days - first < NEW_CASE_AFTER_DAYS:
        first = 0  # fewer non-sick days in all than end a case: no gap to look for
    while first > 0 and (ordered[first] - ordered[first - 1]).days <= NEW_CASE_AFTER_DAYS:
        first -= 1
    return {day: days[day] for day in ordered[first:]}


def _end(closed_on: date | None, returns: list[Return], current: Mapping[date, Day]) -> date | None:
    """Closing ends the case that day; a full return ends it the day before, unless sick
    days follow it (the absence went on)."""
    ends = [closed_on] if closed_on is not None else []
    last = max(current)
    full_returns = [r.day for r in returns if r.working_percent >= 100 and r.day > last]
    if full_returns:
        ends.append(min(full_returns) - timedelta(days=1))
    return min(ends) if ends else None
