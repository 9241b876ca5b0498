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
from itertools import pairwise
from typing import Any, Literal

from case_service.app.summary_state import SickNote, SummaryState

Source = Literal["self_certification", "sick_note"]
EMPLOYER_PERIOD_DAYS = 16
"""The employer period (arbeidsgiverperioden): 16 calendar days, ftrl § 8-19."""
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class AbsenceDay:
    source: Source
    grade: int
    pending: bool = False


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

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "source": self.source,
            "grade": self.grade,
            "pending": self.pending,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Segment:
        return cls(
            start=date.fromisoformat(raw["start"]),
            end=date.fromisoformat(raw["end"]),
            source=raw["source"],
            grade=int(raw["grade"]),
            pending=bool(raw["pending"]),
        )


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


@dataclass(frozen=True)
class _Claim:
    """One fact saying a day is absent: its source, grade and when it was stated."""

    source: Source
    seq: int
    grade: int
    grade_seq: int
    pending: bool


def summary_facts(state: SummaryState) -> SummaryFacts:
    runs = absence_runs(state)
    days_absent = sum(run.days for run in runs)
    first = runs[0].start if runs else None
    last = runs[-1] if runs else None
    case_start = min(state.first_absence_day, first) if first else state.first_absence_day
    return SummaryFacts(
        case_start=case_start,
        last_absence_day=last.end if last else None,
        current_grade=last.day.grade if last else None,
        days_absent=days_absent,
        employer_period_end=employer_period_end(case_start, runs),
        segments=_segments(runs),
    )


@dataclass(frozen=True)
class AbsenceRun:
    """Consecutive days, ``start`` to ``end``, that are absent alike (``day``)."""

    start: date
    end: date
    day: AbsenceDay

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def absence_runs(state: SummaryState) -> list[AbsenceRun]:
    """The absent days of ``absence_days``, as runs in date order: the same answer, found
    without visiting every day.

    Every rule above reads a day only through comparisons with dates the facts state (where a
    note, part or self-certification begins and ends, where a cut, grading change or partial
    return takes effect). Between two such dates every day is therefore judged alike, so each
    stretch is judged once, by its first day — a year's weekly notes cost their few dozen
    boundaries instead of 365 days. Adjacent stretches judged alike stay separate runs.
    """
    spans = _spans(state)
    if not spans:
        return []
    bounds = {start for start, _ in spans} | {end + _DAY for _, end in spans}
    bounds |= {cut.from_day for cut in state.cuts}
    bounds |= {r.from_day for r in state.partial_returns}
    bounds |= {g.effective_from for n in state.notes.values() for g in n.gradings}
    first, after = min(start for start, _ in spans), max(end for _, end in spans) + _DAY
    edges = sorted(b for b in bounds if first <= b <= after)
    runs: list[AbsenceRun] = []
    for start, next_start in pairwise(edges):
        judged = _judge(state, start)
        if judged is not None:
            runs.append(AbsenceRun(start, next_start - _DAY, judged))
    return runs


def absence_days(state: SummaryState) -> dict[date, AbsenceDay]:
    """Every absent day of the case with its source and grade, in date order."""
    return {day: run.day for run in absence_runs(state) for day in days_between(run.start, run.end)}


def _judge(state: SummaryState, day: date) -> AbsenceDay | None:
    """``day`` as the rules judge it: absent (with source, grade, pending) or not."""
    alive = [claim for claim in _claims_on(state, day) if not _is_cut(state, day, claim.seq)]
    if not alive:
        return None
    winner = max(alive, key=lambda c: (c.source == "sick_note", c.seq))
    return AbsenceDay(winner.source, _grade(state, day, winner), winner.pending)


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
    for run in runs:
        info = run.day
        last = segments[-1] if segments else None
        if (
            last is not None
            and last.end + _DAY == run.start
            and (last.source, last.grade, last.pending) == (info.source, info.grade, info.pending)
        ):
            segments[-1] = Segment(last.start, run.end, last.source, last.grade, last.pending)
        else:
            segments.append(Segment(run.start, run.end, info.source, info.grade, info.pending))
    return tuple(segments)


def days_between(start: date, end: date) -> Iterator[date]:
    """Every calendar day from ``start`` to ``end``, both included."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def _spans(state: SummaryState) -> list[tuple[date, date]]:
    """Every stretch a fact says is absent (self-certifications and sick-note parts)."""
    spans = [(cert.start, cert.end) for cert in state.self_certifications]
    spans += [(part.start, part.end) for note in state.notes.values() for part in note.parts]
    return [(start, end) for start, end in spans if start <= end]


def _claims_on(state: SummaryState, day: date) -> Iterator[_Claim]:
    """Every fact that says ``day`` is absent, stated when and at which grade."""
    for cert in state.self_certifications:
        if cert.start <= day <= cert.end:
            yield _Claim("self_certification", cert.seq, 100, cert.seq, False)
    for note in state.notes.values():
        for part in note.parts:
            if part.start <= day <= part.end:
                grade, grade_seq = _note_grade(note, day)
                yield _Claim("sick_note", part.seq, grade, grade_seq, note.kind == "pending")


def _note_grade(note: SickNote, day: date) -> tuple[int, int]:
    """The note's grade on ``day`` and the seq that stated it (its base or a grading change)."""
    base_seq = note.parts[0].seq
    changes = [g for g in note.gradings if g.effective_from <= day and g.seq > base_seq]
    if not changes:
        return note.grade, base_seq
    latest = max(changes, key=lambda g: g.seq)
    return latest.grade, latest.seq


def _is_cut(state: SummaryState, day: date, seq: int) -> bool:
    return any(cut.from_day <= day and cut.seq > seq for cut in state.cuts)


def _grade(state: SummaryState, day: date, claim: _Claim) -> int:
    returns = [r for r in state.partial_returns if r.from_day <= day and r.seq > claim.grade_seq]
    if not returns:
        return claim.grade
    return max(returns, key=lambda r: r.seq).grade
