"""The summary's day rules judged by stretches between stated dates give exactly what visiting
every day gives (``summary_days_reference``), on generated states: overlapping sick notes and
self-certifications, extensions, grading changes, cuts and partial returns, in any order."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings

from case_service.app.summary_days import absence_days, summary_facts
from case_service.app.summary_state import (
    Cut,
    Grading,
    NotePart,
    PartialReturn,
    SickNote,
    SummaryState,
)

from . import summary_days_reference as reference
from .summary_strategies import S, states, successive_states


@settings(max_examples=400, deadline=None)
@given(states())
def test_stretches_judge_every_day_as_the_day_by_day_rules(state: SummaryState) -> None:
    assert absence_days(state) == reference.absence_days(state)
    assert summary_facts(state) == reference.summary_facts(state)


@settings(max_examples=300, deadline=None)
@given(successive_states())
def test_notes_one_after_another_give_the_facts_of_the_day_by_day_rules(
    state: SummaryState,
) -> None:
    """Merged into segments across notes that touch, the employer period across gaps."""
    assert summary_facts(state) == reference.summary_facts(state)


def test_a_long_case_of_weekly_notes_is_judged_alike() -> None:
    """A year of weekly notes with grading changes and a partial return (the W6 shape)."""
    notes = {
        f"n{week}": SickNote(
            note_id=f"n{week}",
            kind="ordinary",
            grade=100,
            parts=[
                NotePart(
                    start=S + timedelta(weeks=week),
                    end=S + timedelta(weeks=week, days=6),
                    seq=week + 2,
                )
            ],
            gradings=[
                Grading(effective_from=S + timedelta(weeks=week, days=3), grade=60, seq=week + 100)
            ]
            if week % 5 == 0
            else [],
        )
        for week in range(52)
    }
    state = SummaryState(
        case_id="c",
        employee_id="e",
        manager_id="m",
        org_unit="u",
        began_with="sick_note",
        first_absence_day=S,
        notes=notes,
        partial_returns=[PartialReturn(from_day=S + timedelta(weeks=30), grade=50, seq=80)],
        cuts=[Cut(from_day=S + timedelta(weeks=45), seq=90)],
    )
    assert summary_facts(state) == reference.summary_facts(state)
    assert summary_facts(state).days_absent == 45 * 7
