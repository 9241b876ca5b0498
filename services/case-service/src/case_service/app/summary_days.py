"""Which days a case's absence covers, at which grade: pure functions over ``SummaryState``.

Rules, applied day by day:

- A day is absent when a sick note (sykmelding) or self-certification (egenmelding) covers it
  and no later *cut* removes it: a full return to work (friskmelding) cuts from the day of
  return, closing the case from the day after it closed; facts stated after the cut count again.
- Overlaps are counted once. A sick note beats a self-certification (the doctor's note is the
  stronger record); between sick notes the most recently stated one wins.
- The grade of a day is the most recently stated grade that applies to it: the note's own grade
  (100 for a self-certification), a grading change from its first day, or a partial return
  (100 - working %) from the day of return. Extensions state days, not a grade.
- A pending note (avventende) counts as a case day but marks the day ``pending``: the employee
  works when the workplace adapts, so statistics weigh it 0 in days lost.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import TypeAdapter

from case_service.app.summary_runs import AbsenceDay, AbsenceRun, Source, absence_runs
from case_service.app.summary_state import SummaryState

# The runs live in ``summary_runs``; callers keep importing the day rules' names from here.
__all__ = [
    "EMPLOYER_PERIOD_DAYS",
    "AbsenceDay",
    "AbsenceRun",
    "Segment",
    "Source",
    "SummaryFacts",
    "absence_days",
    "absence_runs",
    "days_between",
    "employer_period_end",
    "segments_json",
    "summary_facts",
]
EMPLOYER_PERIOD_DAYS = 16
"""The employer period (arbeidsgiverperioden): 16 calendar days, ftrl § 8-19."""
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Segment:
    """Consecutive absence days with the same source, grade and pending flag."""

    start: date
    end: date
    source: Source
    grade: int
    pending: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Segment:
        return cls(
            start=date.fromisoformat(raw["start"]),
            end=date.fromisoformat(raw["end"]),
            source=raw["source"],
            grade=int(raw["grade"]),
            pending=bool(raw["pending"]),
        )


def segments_json(segments: Sequence[Segment]) -> str:
    """The segments as the summary row keeps them (``absence``): a list of objects with
    ``start``, ``end`` (ISO dates), ``source``, ``grade`` and ``pending``, as ``from_json``
    reads them (rendered by pydantic: a quarter of what dicts and ``json.dumps`` cost)."""
    return _SEGMENTS.dump_json(tuple(segments)).decode()


_SEGMENTS = TypeAdapter(tuple[Segment, ...])


@dataclass(frozen=True)
class SummaryFacts:
    """What the summary shows about the absence, derived from the events alone.

    ``case_start`` is S: the day the case was opened on, or the first absence day if a sick note
    or self-certification starts earlier (as the write side counts it). ``last_absence_day`` is
    the *latest known day* (siste kjente fraværsdag): the last day any counting sick note or
    self-certification covers. ``current_grade`` is the grade on that day.
    """

    case_start: date
    last_absence_day: date | None
    current_grade: int | None
    days_absent: int
    employer_period_end: date
    segments: tuple[Segment, ...]


def summary_facts(state: SummaryState) -> SummaryFacts:
    runs = absence_runs(state)
    if not runs:
        start = state.first_absence_day
        return SummaryFacts(start, None, None, 0, employer_period_end(start, runs), ())
    last = runs[-1]
    case_start = min(state.first_absence_day, runs[0].start)
    return SummaryFacts(
        case_start=case_start,
        last_absence_day=last.end,
        current_grade=last.day.grade,
        days_absent=sum(run.days for run in runs),
        employer_period_end=employer_period_end(case_start, runs),
        segments=_segments(runs),
    )


def absence_days(state: SummaryState) -> dict[date, AbsenceDay]:
    """Every absent day of the case with its source and grade, in date order."""
    return {day: run.day for run in absence_runs(state) for day in days_between(run.start, run.end)}


def employer_period_end(case_start: date, runs: Sequence[AbsenceRun]) -> date:
    """The 16th absence day of the case, or when it falls if the absence goes on unbroken.

    Gaps inside one case do not restart the period: days already used count (ftrl § 8-19).
    For one continuous absence this is S + 15.
    """
    covered = sum(run.days for run in runs)
    if covered < EMPLOYER_PERIOD_DAYS:
        if not runs:
            return case_start + timedelta(days=EMPLOYER_PERIOD_DAYS - 1)
        return runs[-1].end + timedelta(days=EMPLOYER_PERIOD_DAYS - covered)
    left = EMPLOYER_PERIOD_DAYS
    for run in runs:
        if run.days >= left:
            return run.start + timedelta(days=left - 1)
        left -= run.days
    raise AssertionError("unreachable: the runs cover at least the period")  # pragma: no cover


def _segments(runs: Sequence[AbsenceRun]) -> tuple[Segment, ...]:
    """Absence days merged into runs of consecutive days with equal source, grade and kind."""
    segments: list[Segment] = []
    count, i = len(runs), 0
    while i < count:
        first = runs[i]
        end, day = first.end, first.day
        i += 1
        # Each segment is made once, when it ends (W4: one per case, not one per note).
        while i < count and runs[i].start == end + _DAY and runs[i].day == day:
            end = runs[i].end
            i += 1
        segments.append(Segment(first.start, end, day.source, day.grade, day.pending))
    return tuple(segments)


def days_between(start: date, end: date) -> Iterator[date]:
    """Every calendar day from ``start`` to ``end``, both included."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)
