"""Absence days kept as runs: (first, last, Day), the dates as ordinals, sorted and disjoint.

Laying a two-week sick note (sykmelding) is then one slice of a short list, and counting
weekdays is arithmetic, not a walk through a dict with an entry per calendar day: a case's
absence is laid again at every event of it (issue 8).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from operator import itemgetter
from typing import NamedTuple

from deadline_service.domain.facts import LayerKind


class Day(NamedTuple):
    """One absence day: its grade, what it rests on and the event that laid it (a named
    tuple: one is made per grade of every note at every recomputation)."""

    grade: int
    kind: LayerKind
    source: str


Run = tuple[int, int, Day]
"""Days ``first``..``last`` (date ordinals, both included), each of them ``Day``."""

_FIRST = itemgetter(0)
_LAST = itemgetter(1)


def overwrite(runs: list[Run], first: int, last: int, day: Day) -> None:
    """Lay ``day`` on ``first``..``last``: what lay there before is cut away around it."""
    start = bisect_left(runs, first, key=_LAST)  # the first run reaching ``first``
    stop = bisect_right(runs, last, key=_FIRST)  # runs from here on begin after ``last``
    laid: list[Run] = [(first, last, day)]
    if start < stop:
        before, _, was = runs[start]
        if before < first:
            laid.insert(0, (before, first - 1, was))
        _, after, was = runs[stop - 1]
        if after > last:
            laid.append((last + 1, after, was))
    runs[start:stop] = laid


def lower_from(runs: list[Run], since: int, left: int, source: str) -> None:
    """From ``since`` on no day keeps a grade above ``left``; days left at 0 % are gone
    (a return to work, friskmelding: ``left`` is what the employee does not work)."""
    index = bisect_left(runs, since, key=_LAST)
    if index < len(runs) and runs[index][0] < since:  # split the run ``since`` falls in
        first, last, was = runs[index]
        runs[index : index + 1] = [(first, since - 1, was), (since, last, was)]
        index += 1
    kept: list[Run] = []
    lowered: dict[Day, Day] = {}  # runs share their Day: lower each one once
    for first, last, was in runs[index:]:
        if min(was.grade, left) <= 0:
            continue
        if left < was.grade:
            was = lowered.setdefault(was, Day(left, was.kind, source))
        kept.append((first, last, was))
    runs[index:] = kept


def last_case(runs: list[Run], new_case_after: int) -> list[Run]:
    """The runs after the last gap of ``new_case_after`` or more non-sick days."""
    first = len(runs) - 1
    while first > 0 and runs[first][0] - runs[first - 1][1] <= new_case_after:
        first -= 1
    return runs[first:]


def cut(runs: list[Run], end: int) -> list[Run]:
    """The runs' days up to ``end``."""
    kept = runs[: bisect_right(runs, end, key=_FIRST)]
    if kept and kept[-1][1] > end:
        first, _, day = kept[-1]
        kept[-1] = (first, end, day)
    return kept


def weekdays(first: int, last: int) -> int:
    """How many of the ordinals ``first``..``last`` are Monday to Friday."""
    return max(0, _weekdays_through(last) - _weekdays_through(first - 1))


def _weekdays_through(ordinal: int) -> int:
    # Ordinal 1 (1 January of year 1) was a Monday: every 7 ordinals hold 5 weekdays.
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def spans(runs: list[Run]) -> list[tuple[int, int]]:
    """The runs' days as (first, last) spans, touching runs joined: what counting reads."""
    joined: list[tuple[int, int]] = []
    for first, last, _ in runs:
        if joined and joined[-1][1] + 1 == first:
            joined[-1] = (joined[-1][0], last)
        else:
            joined.append((first, last))
    return joined


def weekday_ordinals(first: int, last: int) -> list[range]:
    """The ordinals ``first``..``last`` that are weekdays, in no order: one stride of seven
    per weekday (no loop per week)."""
    monday = first - (first - 1) % 7  # of the week ``first`` falls in (ordinal 1: a Monday)
    firsts = (monday + weekday for weekday in range(5))
    return [range(day + 7 if day < first else day, last + 1, 7) for day in firsts]


def weekday_blocks(first: int, last: int) -> Iterator[range]:
    """The ordinals ``first``..``last`` that are weekdays, as Monday-to-Friday blocks."""
    day = first
    while day <= last:
        weekday = (day - 1) % 7
        if weekday >= 5:  # a weekend: on to Monday
            day += 7 - weekday
            continue
        friday = min(last, day + 4 - weekday)
        yield range(day, friday + 1)
        day = friday + 3
