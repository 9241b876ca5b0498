"""The absence laid on the calendar: the case start S, its end, the employer period, sick-pay days.

A case (oppfølgingstilfelle) is the run of sick days in which no 16 or more consecutive
non-sick days separate two sick days (isoppfolgingstilfelle ``OppfolgingstilfelleDag.kt``).
An absence with no known end is projected as continuing: deadlines are what the law demands if
the employee stays sick, and they move when the facts change.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from functools import cached_property
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import NamedTuple

from deadline_service.domain.calendar import DAY, next_weekday, nth_weekday_after
from deadline_service.domain.facts import CaseFacts, LayerKind, Return
from deadline_service.domain.runs import (
    Day,
    Run,
    cut,
    last_case,
    lower_from,
    overwrite,
    spans,
    weekday_blocks,
    weekday_ordinals,
    weekdays,
)

__all__ = ["EMPLOYER_PERIOD_DAYS", "NEW_CASE_AFTER_DAYS", "Absence", "Day", "lay_days"]

NEW_CASE_AFTER_DAYS = 16
"""Non-sick days that end a case: 16 or more and the next sick day starts a new one."""
EMPLOYER_PERIOD_DAYS = 16
"""Calendar days the employer pays (arbeidsgiverperioden, ftrl § 8-19)."""


class Absence:
    """The current case's absence days, and its end when it is known to have ended.

    The known days are kept as runs (``domain.runs``): counting runs over them and, while the
    absence is open, over the days after the last of them by date arithmetic, never day by day.
    """

    def __init__(self, runs: Sequence[Run], end: date | None) -> None:
        """``runs``: sorted, disjoint and not empty (``of_days`` builds them from days)."""
        self._runs = list(runs)
        self.end = end
        self.start = date.fromordinal(self._runs[0][0])
        """S: the first absence day of the case."""
        self.last_known_day = date.fromordinal(self._runs[-1][1])
        # Known days after the end are kept (``days``) but never counted; counting reads
        # spans of touching runs (a case of back-to-back notes is one span).
        counted = self._runs if end is None else cut(self._runs, end.toordinal())
        self._counted = spans(counted)

    @classmethod
    def of_days(cls, days: Mapping[date, Day], end: date | None) -> Absence:
        """The absence of these days (one run per day: for tests and checks)."""
        return cls([(day.toordinal(), day.toordinal(), days[day]) for day in sorted(days)], end)

    @cached_property
    def days(self) -> Mapping[date, Day]:
        """Every known day in date order (read-only: its readers share one Absence)."""
        laid = (_dates(first, last) for first, last, _ in self._runs)
        info = (repeat(day, last - first + 1) for first, last, day in self._runs)
        return MappingProxyType(
            dict(zip(chain.from_iterable(laid), chain.from_iterable(info), strict=True))
        )

    def laid(self) -> Iterator[Day]:
        """What the known days rest on (each distinct run once; days may share one)."""
        return map(_DAY, self._runs)

    def active_on(self, day: date) -> bool:
        """Does the case still run on ``day``? (Always, unless it is known to end earlier.)"""
        return self.end is None or day <= self.end

    def day(self, day: date) -> Day | None:
        ordinal = day.toordinal()
        index = bisect_right(self._runs, ordinal, key=_FIRST) - 1
        if index >= 0 and ordinal <= self._runs[index][1]:
            return self._runs[index][2]
        return None

    def sick_on(self, day: date) -> bool:
        """Known sick days, and every day after the last one while the absence is open."""
        if self.day(day) is not None:
            return True
        return self.end is None and day > self.last_known_day

    def employer_period_end(self) -> date | None:
        """The 16th sick calendar day (days already used before a short gap count); None
        when the absence ends before it."""
        left = EMPLOYER_PERIOD_DAYS
        for first, last in self._counted:
            if last - first + 1 >= left:
                return date.fromordinal(first + left - 1)
            left -= last - first + 1
        if self.end is None:  # every day after the last known one is projected sick
            return self.last_known_day + timedelta(days=left)
        return None

    def days_from(self, first: date) -> Iterator[date]:
        """Sick days from ``first`` on, known then projected (endless while open)."""
        since = first.toordinal()
        for start, last in self._counted:
            if last >= since:
                yield from _dates(max(start, since), last)
        if self.end is None:
            day = max(first, self.last_known_day + DAY)
            while True:
                yield day
                day += DAY

    def sick_pay_weekdays(self, after: date) -> Iterator[date]:
        """Weekdays with sick pay after the employer period (grading does not matter)."""
        since = after.toordinal() + 1
        for first, last in self._counted:
            for block in weekday_blocks(max(first, since), last):
                yield from map(date.fromordinal, block)
        if self.end is None:
            day = next_weekday(max(after, self.last_known_day))
            while True:
                yield day
                day = next_weekday(day)

    def sick_pay_weekday(self, after: date, number: int) -> date | None:
        """The ``number``-th (from 1) of ``sick_pay_weekdays(after)``; None if it has fewer."""
        since, left = after.toordinal() + 1, number
        for start, last in self._counted:
            first = max(start, since)
            if first > last:
                continue
            count = weekdays(first, last)
            if left <= count:
                return nth_weekday_after(date.fromordinal(first - 1), left)
            left -= count
        if self.end is not None:
            return None
        return nth_weekday_after(max(after, self.last_known_day), left)

    def known_weekday_ordinals_after(self, skipped: int) -> list[int]:
        """The weekdays among the known days (even after the end), all but the first
        ``skipped`` known days: their ordinals (``date.toordinal``), in order."""
        strides: list[range] = []
        for first, last in spans(self._runs):
            length = last - first + 1
            if skipped < length:
                strides.extend(weekday_ordinals(first + skipped, last))
            skipped = max(0, skipped - length)
        return sorted(chain.from_iterable(strides))


_FIRST = itemgetter(0)
_DAY = itemgetter(2)


def _dates(first: int, last: int) -> Iterator[date]:
    return map(date.fromordinal, range(first, last + 1))


def lay_days(facts: CaseFacts) -> Absence | None:
    """The current case's absence from the facts; None before any absence is known.

    Laid anew at each call: a recomputation lays its facts once (``plan_laid`` takes the
    absence), and a memo of the steps missed nearly always once many cases were live (issue
    8, thirty-sixth round: 0.5 % hits over a 20 000-case year, its key's hashing paid at
    every call)."""
    steps = _steps(facts)
    runs = _all_runs(steps)
    if not runs:
        return None
    current = last_case(runs, NEW_CASE_AFTER_DAYS)
    returns = [step for step in steps if isinstance(step, Return)]
    end = _end(facts.closed_on, returns, date.fromordinal(current[-1][1]))
    if end is not None:
        current = cut(current, end.toordinal())
    return Absence(current, end) if current else None


class _Part(NamedTuple):
    """Days ``first``..``last`` of a layer, laid at ``seq`` (a tuple: cheap to make)."""

    first: date
    last: date
    seq: int
    grades: tuple[tuple[date, int], ...]
    kind: LayerKind
    source: str


_Step = _Part | Return
_SEQ = attrgetter("seq")


def _steps(facts: CaseFacts) -> list[_Step]:
    """The layers' parts and the returns in the order they were changed (later wins)."""
    steps: list[_Step] = [
        _Part(first, last, seq, tuple(layer.grades), layer.kind, layer.source)
        for layer in facts.layers.values()
        for first, last, seq in layer.parts()
    ]
    steps.extend(facts.returns)
    steps.sort(key=_SEQ)
    return steps


def _all_runs(steps: list[_Step]) -> list[Run]:
    """Lay the steps in turn: a part lays its days, a return to work lowers or ends them."""
    runs: list[Run] = []
    for step in steps:
        if isinstance(step, Return):
            left = 100 - step.working_percent
            lower_from(runs, step.day.toordinal(), left, step.source)
            continue
        for first, last, grade in _grade_runs(step.first, step.last, step.grades):
            overwrite(runs, first.toordinal(), last.toordinal(), Day(grade, step.kind, step.source))
    return runs


def _grade_runs(
    start: date, end: date, grades: tuple[tuple[date, int], ...]
) -> list[tuple[date, date, int]]:
    """(first, last, grade) runs of ``start``..``end``: a day has the grade of the last step
    in ``grades`` from on or before it. A step holds from its date until the first date of
    the steps after it, so the runs come out right however the steps are ordered."""
    if len(grades) == 1 and grades[0][0] <= start <= end:  # one grade throughout: most notes
        return [(start, end, grades[0][1])]
    later = end + DAY  # the earliest date of the steps after the one at hand
    runs = []
    for since, grade in reversed(grades):
        first, last = max(since, start), min(later - DAY, end)
        if first <= last:
            runs.append((first, last, grade))
        later = min(later, since)
    runs.reverse()
    return runs


def _end(closed_on: date | None, returns: list[Return], last: date) -> date | None:
    """Closing ends the case that day; a full return ends it the day before, unless sick
    days follow it (the absence went on)."""
    ends = [closed_on] if closed_on is not None else []
    full_returns = [r.day for r in returns if r.working_percent >= 100 and r.day > last]
    if full_returns:
        ends.append(min(full_returns) - timedelta(days=1))
    return min(ends) if ends else None
