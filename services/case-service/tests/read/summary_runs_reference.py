"""The summary's absence runs as the previous round found them, each stretch between stated
dates judged by asking every fact about its first day: the oracle the sweep in
``case_service.app.summary_days`` is checked against (``test_summary_runs_equivalence.py``).
Kept on purpose as a reference, not as dead code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from case_service.app.summary_runs import AbsenceDay, AbsenceRun, Source
from case_service.app.summary_state import SickNote, SummaryState

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class _Claim:
    source: Source
    seq: int
    grade: int
    grade_seq: int
    pending: bool


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


def _judge(state: SummaryState, day: date) -> AbsenceDay | None:
    """``day`` as the rules judge it: absent (with source, grade, pending) or not."""
    alive = [claim for claim in _claims_on(state, day) if not _is_cut(state, day, claim.seq)]
    if not alive:
        return None
    winner = max(alive, key=lambda c: (c.source == "sick_note", c.seq))
    return AbsenceDay(winner.source, _grade(state, day, winner), winner.pending)


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
