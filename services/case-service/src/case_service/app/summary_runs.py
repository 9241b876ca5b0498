"""The absence runs of a case: its absent days as stretches judged alike, found in one sweep.

The rules are those of ``summary_days`` (where they are written out); this module only finds
where they give the same answer for many days at once, so no day is visited on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal, NamedTuple, Protocol, TypeVar

from case_service.app.summary_state import SickNote, SummaryState

Source = Literal["self_certification", "sick_note"]
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class AbsenceDay:
    """How a day is absent: by which kind of fact, at which grade, pending (avventende) or not."""

    source: Source
    grade: int
    pending: bool = False


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
    """The absent days of ``summary_days.absence_days``, as runs in date order: the same
    answer, found without visiting every day.

    Every rule of ``summary_days`` reads a day only through comparisons with dates the facts
    state (where a note, part or self-certification begins and ends, where a cut, grading
    change or partial return takes effect). Between two such dates every day is therefore
    judged alike, so each stretch is judged once, by its first day — a year's weekly notes
    cost their few dozen boundaries instead of 365 days. Adjacent stretches judged alike stay
    separate runs.

    One sweep: each fact is handed to the stretches it covers, and the cut and partial return
    in force are carried along the dates, so a stretch never asks every fact about itself
    (that made a case of n notes cost n² — the case consumer's hottest code, W4).
    """
    disjoint = _disjoint_runs(state)
    if disjoint is not None:
        return disjoint
    spans = _spans(state)
    if not spans:
        return []
    edges = _edges(state, spans)
    cuts = _ruling(state.cuts, edges)
    returns = _ruling(state.partial_returns, edges)
    runs: list[AbsenceRun] = []
    for i, claims in enumerate(_claims_by_stretch(state, edges)):
        cut = cuts[i]
        alive = claims if cut is None else [c for c in claims if c.seq >= cut.seq]
        if not alive:
            continue
        winner = alive[0] if len(alive) == 1 else max(alive, key=_rank)
        back = returns[i]
        grade = back.grade if back is not None and back.seq > winner.grade_seq else winner.grade
        day = AbsenceDay(winner.source, grade, winner.pending)
        runs.append(AbsenceRun(edges[i], edges[i + 1] - _DAY, day))
    return runs


class _Claim(NamedTuple):
    """One fact saying a day is absent: its source, grade and when it was stated (a tuple:
    the sweep makes one per note part and stretch, a frozen dataclass cost thrice that)."""

    source: Source
    seq: int
    grade: int
    grade_seq: int
    pending: bool


def _spans(state: SummaryState) -> list[tuple[date, date]]:
    """Every stretch a fact says is absent (self-certifications and sick-note parts)."""
    spans = [(cert.start, cert.end) for cert in state.self_certifications]
    spans += [(part.start, part.end) for note in state.notes.values() for part in note.parts]
    return [(start, end) for start, end in spans if start <= end]


def _disjoint_runs(state: SummaryState) -> list[AbsenceRun] | None:
    """The runs when no stated day is stated twice and nothing overrules a fact (no cut,
    partial return or grading change), else None: the usual case of notes one after another.

    Then every stretch is exactly one fact's span, claimed by that fact alone, which the
    rules judge absent at the fact's own grade — the sweep's answer, without the sweep.
    """
    if state.cuts or state.partial_returns:
        return None
    stated: list[tuple[date, date, AbsenceDay]] = []
    if state.self_certifications:
        certified = AbsenceDay("self_certification", 100)
        stated += [(c.start, c.end, certified) for c in state.self_certifications]
    for note in state.notes.values():
        if note.gradings:
            return None
        day = AbsenceDay("sick_note", note.grade, note.kind == "pending")
        stated += [(part.start, part.end, day) for part in note.parts]
    # By start alone: facts that start on one day overlap, so their order never matters.
    stated = sorted((item for item in stated if item[0] <= item[1]), key=_start)
    runs = [AbsenceRun(*item) for item in stated]
    if any(earlier.end >= later.start for earlier, later in pairwise(runs)):
        return None
    return runs


def _start(stated: tuple[date, date, AbsenceDay]) -> date:
    return stated[0]


def _edges(state: SummaryState, spans: Sequence[tuple[date, date]]) -> list[date]:
    """Where the stretches begin (and, last, the day after the last one): the stated dates
    from the first absent day to the day after the last."""
    bounds = {start for start, _ in spans} | {end + _DAY for _, end in spans}
    bounds |= {cut.from_day for cut in state.cuts}
    bounds |= {r.from_day for r in state.partial_returns}
    bounds |= {g.effective_from for n in state.notes.values() for g in n.gradings}
    first, after = min(start for start, _ in spans), max(end for _, end in spans) + _DAY
    return sorted(b for b in bounds if first <= b <= after)


def _claims_by_stretch(state: SummaryState, edges: Sequence[date]) -> list[list[_Claim]]:
    """Per stretch, every fact that says it is absent, in the order the rules ask them
    (self-certifications, then each note's parts): ``max`` keeps the first of equals."""
    at = {edge: i for i, edge in enumerate(edges)}
    stretches: list[list[_Claim]] = [[] for _ in edges[1:]]
    for cert in state.self_certifications:
        if cert.start <= cert.end:
            claim = _Claim("self_certification", cert.seq, 100, cert.seq, False)
            for i in range(at[cert.start], at[cert.end + _DAY]):
                stretches[i].append(claim)
    for note in state.notes.values():
        pending = note.kind == "pending"
        for part in note.parts:
            if part.start > part.end:
                continue
            covered = range(at[part.start], at[part.end + _DAY])
            if not note.gradings:  # the usual note: one grade on every day it covers
                claim = _Claim("sick_note", part.seq, note.grade, note.parts[0].seq, pending)
                for i in covered:
                    stretches[i].append(claim)
                continue
            for i in covered:
                grade, grade_seq = _note_grade(note, edges[i])
                stretches[i].append(_Claim("sick_note", part.seq, grade, grade_seq, pending))
    return stretches


def _rank(claim: _Claim) -> tuple[bool, int]:
    """A sick note beats a self-certification; then the most recently stated wins."""
    return claim.source == "sick_note", claim.seq


class _FromDay(Protocol):
    """A fact in force from a day on: a cut or a partial return."""

    @property
    def from_day(self) -> date: ...

    @property
    def seq(self) -> int: ...


_F = TypeVar("_F", bound=_FromDay)


def _ruling(facts: Sequence[_F], edges: Sequence[date]) -> list[_F | None]:
    """Per stretch, the most recently stated of ``facts`` in force on its first day (the
    first listed of equal seq, as ``max`` picks), or None: a fact stated later than a
    claim overrules it exactly when this one does."""
    if not facts:
        return [None] * (len(edges) - 1)
    by_day = sorted(enumerate(facts), key=lambda item: item[1].from_day)
    ruling: list[_F | None] = []
    best: tuple[int, int] | None = None
    fact: _F | None = None
    k = 0
    for edge in edges[:-1]:
        while k < len(by_day) and by_day[k][1].from_day <= edge:
            index, candidate = by_day[k]
            if best is None or (candidate.seq, -index) > best:
                best, fact = (candidate.seq, -index), candidate
            k += 1
        ruling.append(fact)
    return ruling


def _note_grade(note: SickNote, day: date) -> tuple[int, int]:
    """The note's grade on ``day`` and the seq that stated it (its base or a grading change)."""
    base_seq = note.parts[0].seq
    changes = [g for g in note.gradings if g.effective_from <= day and g.seq > base_seq]
    if not changes:
        return note.grade, base_seq
    latest = max(changes, key=lambda g: g.seq)
    return latest.grade, latest.seq
