"""A year of sick leave as a stream of commands, day by day, from generated cases.

Cases open through the year (Mondays busiest, weekends quiet); each case's later steps are
kept in a heap by day, so the store receives the events of all open cases interleaved in
calendar order, as the real year would deliver them. Memory holds only the open cases.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from bench.stories import Population, Story, story
from naervaer.eventstore import NewEvent

WEEKDAY_WEIGHTS = (1.6, 1.1, 1.0, 0.9, 0.8, 0.3, 0.3)  # Monday … Sunday


@dataclass(frozen=True)
class Step:
    """One command's events on one case."""

    day: date
    tale: Story
    events: list[NewEvent]


def opened_per_day(cases: int, first: date) -> list[int]:
    """How many cases open on each of the 365 days: ``cases`` in all, by weekday weight."""
    weights = [WEEKDAY_WEIGHTS[(first + timedelta(days=d)).weekday()] for d in range(365)]
    total = sum(weights)
    counts = [int(cases * w / total) for w in weights]
    for day in range(cases - sum(counts)):  # the rounding remainder, one each from Monday 1
        counts[day % 365] += 1
    return counts


def first_day() -> date:
    """1 January of next year: every deadline of the generated year lies in the future, so
    the deadline service's timers stay quiet and the figures are ingest and projection alone."""
    return date(date.today().year + 1, 1, 1)


def cases_in_order(cases: int, first: date, seed: int = 2026) -> Iterator[Story]:
    """Whole cases in the order they open (a rebuild's log need not interleave them)."""
    rng = random.Random(seed)
    population = Population(seed=seed)
    index = 0
    for offset, opened in enumerate(opened_per_day(cases, first)):
        today = first + timedelta(days=offset)
        for _ in range(opened):
            yield story(rng, index, today, population)
            index += 1


def days(cases: int, first: date, seed: int = 2026) -> Iterator[list[Step]]:
    """The steps of each day in turn; after day 365 the steps of cases still running."""
    rng = random.Random(seed)
    population = Population(seed=seed)
    pending: list[tuple[date, int, Step]] = []
    sequence = 0
    index = 0
    for offset, opened in enumerate(opened_per_day(cases, first)):
        today = first + timedelta(days=offset)
        for _ in range(opened):
            tale = story(rng, index, today, population)
            index += 1
            for day, events in tale.steps:
                heapq.heappush(pending, (day, sequence, Step(day, tale, events)))
                sequence += 1
        yield _due(pending, today)
    while pending:
        yield _due(pending, pending[0][0])


def _due(pending: list[tuple[date, int, Step]], today: date) -> list[Step]:
    steps = []
    while pending and pending[0][0] <= today:
        steps.append(heapq.heappop(pending)[2])
    return steps
