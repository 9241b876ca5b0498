"""The sweep that finds the absence runs gives exactly the runs of judging each stretch by
asking every fact (``summary_runs_reference``): the same stretches, the same days."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings

from case_service.app.summary_days import absence_runs
from case_service.app.summary_state import NotePart, PartialReturn, SickNote, SummaryState

from . import summary_runs_reference as reference
from .summary_strategies import S, states, successive_states, tied_seqs


@settings(max_examples=600, deadline=None)
@given(states())
def test_the_sweep_finds_the_runs_of_judging_each_stretch(state: SummaryState) -> None:
    assert absence_runs(state) == reference.absence_runs(state)


@settings(max_examples=300, deadline=None)
@given(states(tied_seqs))
def test_facts_stated_by_equal_seqs_break_ties_as_the_rules_do(state: SummaryState) -> None:
    assert absence_runs(state) == reference.absence_runs(state)


@settings(max_examples=400, deadline=None)
@given(successive_states())
def test_the_shortcut_for_facts_that_never_overlap_gives_the_same_runs(
    state: SummaryState,
) -> None:
    assert absence_runs(state) == reference.absence_runs(state)


def test_two_week_notes_one_after_another_are_one_run_each() -> None:
    """The W4 shape: each note a run of its own, none asked about another's days."""
    notes = {
        f"n{i}": SickNote(
            note_id=f"n{i}",
            kind="ordinary",
            grade=100,
            parts=[
                NotePart(
                    start=S + timedelta(days=14 * i), end=S + timedelta(days=14 * i + 13), seq=i + 2
                )
            ],
        )
        for i in range(20)
    }
    state = SummaryState(
        case_id="c",
        employee_id="e",
        manager_id="m",
        org_unit="u",
        began_with="sick_note",
        first_absence_day=S,
        notes=notes,
    )
    runs = absence_runs(state)
    assert runs == reference.absence_runs(state)
    assert [(r.start, r.end) for r in runs] == [
        (S + timedelta(days=14 * i), S + timedelta(days=14 * i + 13)) for i in range(20)
    ]


def test_of_two_partial_returns_stated_by_one_seq_the_first_listed_rules() -> None:
    """As ``max`` picks among equals, even where the later-listed one took effect first."""
    state = SummaryState(
        case_id="c",
        employee_id="e",
        manager_id="m",
        org_unit="u",
        began_with="sick_note",
        first_absence_day=S,
        notes={
            "n": SickNote(
                note_id="n",
                kind="ordinary",
                grade=100,
                parts=[NotePart(start=S, end=S + timedelta(days=15), seq=2)],
            )
        },
        partial_returns=[
            PartialReturn(from_day=S + timedelta(days=5), grade=40, seq=3),
            PartialReturn(from_day=S + timedelta(days=3), grade=60, seq=3),
        ],
    )
    runs = absence_runs(state)
    assert runs == reference.absence_runs(state)
    assert [run.day.grade for run in runs] == [100, 60, 40]
