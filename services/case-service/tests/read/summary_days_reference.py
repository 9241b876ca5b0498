"""The summary's day rules as they were first written, day by day: the oracle the faster
``case_service.app.summary_days`` (stretches between stated dates) is checked against. Kept on
purpose as the reference of ``test_summary_days_equivalence.py``, not as dead code."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from case_service.app.summary_days import (
    EMPLOYER_PERIOD_DAYS,
    AbsenceDay,
    Segment,
    Source,
    SummaryFacts,
)
from case_service.app.summary_state import SickNote, SummaryState


@dataclass(frozen=True)
class _Claim:
    source: Source
    seq: int
    grade: int
    grade_seq: int
    pending: bool


def summary_facts(state: SummaryState) -> SummaryFacts:
    """The facts, every day visited: the code before the runs (issue 8)."""
    days = absence_days(state)
    covered = sorted(days)
    last = covered[-1] if covered else None
    case_start = min(state.first_absence_day, covered[0]) if covered else state.first_absence_day
    return SummaryFacts(
        case_start=case_start,
        last_absence_day=last,
        current_grade=days[last].grade if last is not None else None,
        days_absent=len(covered),
        employer_period_end=employer_period_end(case_start, covered),
        segments=segments_of(days),
    )


def absence_days(state: SummaryState) -> dict[date, AbsenceDay]:
    """Every absent day of the case with its source and grade, in date order."""
    claims: dict[date, list[_Claim]] = {}
    for claim_day, claim in _claims(state):
        claims.setdefault(claim_day, []).append(claim)
    result: dict[date, AbsenceDay] = {}
    for day in sorted(claims):
        alive = [c for c in claims[day] if not _is_cut(state, day, c.seq)]
        if alive:
            winner = max(alive, key=lambda c: (c.source == "sick_note", c.seq))
            result[day] = AbsenceDay(winner.source, _grade(state, day, winner), winner.pending)
    return result


def employer_period_end(case_start: date, covered: Sequence[date]) -> date:
    """The 16th absence day of the case, or when it falls if the absence goes on unbroken.

    Gaps inside one case do not restart the period: days already used count (ftrl § 8-19).
    For one continuous absence this is S + 15.
    """
    if len(covered) >= EMPLOYER_PERIOD_DAYS:
        return covered[EMPLOYER_PERIOD_DAYS - 1]
    if not covered:
        return case_start + timedelta(days=EMPLOYER_PERIOD_DAYS - 1)
    return covered[-1] + timedelta(days=EMPLOYER_PERIOD_DAYS - len(covered))


def segments_of(days: Mapping[date, AbsenceDay]) -> tuple[Segment, ...]:
    """Absence days merged into runs of consecutive days with equal source, grade and kind."""
    segments: list[Segment] = []
    for day in sorted(days):
        info = days[day]
        last = segments[-1] if segments else None
        if (
            last is not None
            and last.end + timedelta(days=1) == day
            and (last.source, last.grade, last.pending) == (info.source, info.grade, info.pending)
        ):
            segments[-1] = Segment(last.start, day, last.source, last.grade, last.pending)
        else:
            segments.append(Segment(day, day, info.source, info.grade, info.pending))
    return tuple(segments)


def days_between(start: date, end: date) -> Iterator[date]:
    """Every calendar day from ``start`` to ``end``, both included."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def _claims(state: SummaryState) -> Iterator[tuple[date, _Claim]]:
    for cert in state.self_certifications:
        claim = _Claim("self_certification", cert.seq, 100, cert.seq, False)
        for day in days_between(cert.start, cert.end):
            yield day, claim
    for note in state.notes.values():
        for part in note.parts:
            for day in days_between(part.start, part.end):
                grade, grade_seq = _note_grade(note, day)
                yield day, _Claim("sick_note", part.seq, grade, grade_seq, note.kind == "pending")


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
