"""States folded from generated event histories (notes received, corrected, extended,
shortened, cancelled, regraded; self-certifications; full and partial returns; closing and
reopening) give the absence of the day-by-day rules, run for run and fact for fact."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from case_service.app.summary_days import absence_runs, summary_facts

from . import summary_days_reference as days_reference
from . import summary_runs_reference as runs_reference
from .builders import (
    cancelled,
    closed,
    corrected,
    extended,
    fold_all,
    graded,
    note,
    opened,
    pending_note,
    reopened,
    returned,
    self_cert,
)
from .summary_strategies import S

offsets = st.integers(min_value=-5, max_value=80)
lengths = st.integers(min_value=0, max_value=30)
note_ids = st.sampled_from(["n1", "n2", "n3"])
grades = st.sampled_from([40, 50, 100])
KINDS: tuple[str, ...] = ("note", "note", "note", "pending", "corrected", "extended")
KINDS += ("cancelled", "graded", "self_cert", "returned", "partly", "closed", "reopened")


def _on(offset: int) -> str:
    return (S + timedelta(days=offset)).isoformat()


@st.composite
def case_events(draw: st.DrawFn) -> BaseModel:
    kind = draw(st.sampled_from(KINDS))
    start, length, note_id = draw(offsets), draw(lengths), draw(note_ids)
    first, last = _on(start), _on(start + length)
    events: dict[str, BaseModel] = {
        "note": note(note_id, first, last, draw(grades)),
        "pending": pending_note(note_id, first, last),
        "corrected": corrected(note_id, first, last, draw(grades)),
        "extended": extended(note_id, last),
        "cancelled": cancelled(note_id),
        "graded": graded(note_id, first, draw(grades)),
        "self_cert": self_cert(first, _on(start + min(length, 3))),
        "returned": returned(first),
        "partly": returned(first, draw(st.sampled_from([20, 50, 60]))),
        "closed": closed(first),
        "reopened": reopened(first),
    }
    return events[kind]


@settings(max_examples=300, deadline=None)
@given(st.lists(case_events(), max_size=12), offsets)
def test_folded_histories_give_the_absence_of_the_day_by_day_rules(
    history: list[BaseModel], first_day: int
) -> None:
    state = fold_all([opened(_on(first_day)), *history])
    assert absence_runs(state) == runs_reference.absence_runs(state)
    assert summary_facts(state) == days_reference.summary_facts(state)
