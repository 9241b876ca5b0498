"""The summary's day rules judged by stretches between stated dates give exactly what visiting
every day gives (``summary_days_reference``), on generated states: overlapping sick notes and
self-certifications, extensions, grading changes, cuts and partial returns, in any order."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from case_service.app.summary_days import absence_days, summary_facts
from case_service.app.summary_state import (
    Cut,
    Grading,
    NotePart,
    PartialReturn,
    SelfCertification,
    SickNote,
    SummaryState,
)

from . import summary_days_reference as reference

S = date(2026, 1, 5)
days = st.integers(min_value=-10, max_value=90).map(lambda n: S + timedelta(days=n))
seqs = st.integers(min_value=2, max_value=40)
grades = st.sampled_from([20, 40, 50, 60, 80, 100])


@st.composite
def stretches(draw: st.DrawFn) -> tuple[date, date]:
    start = draw(days)
    # Now and then an end before the start: a note shortened to nothing covers no day.
    return start, start + timedelta(days=draw(st.integers(min_value=-2, max_value=60)))


@st.composite
def sick_notes(draw: st.DrawFn) -> SickNote:
    parts = [
        NotePart(start=start, end=end, seq=draw(seqs))
        for start, end in draw(st.lists(stretches(), min_size=1, max_size=4))
    ]
    gradings = draw(
        st.lists(st.builds(Grading, effective_from=days, grade=grades, seq=seqs), max_size=3)
    )
    return SickNote(
        note_id="n",
        kind=draw(st.sampled_from(["ordinary", "pending"])),
        grade=draw(grades),
        parts=parts,
        gradings=gradings,
    )


@st.composite
def states(draw: st.DrawFn) -> SummaryState:
    notes = draw(st.lists(sick_notes(), max_size=4))
    certs = [
        SelfCertification(start=start, end=end, seq=draw(seqs))
        for start, end in draw(st.lists(stretches(), max_size=3))
    ]
    return SummaryState(
        case_id="c",
        employee_id="e",
        manager_id="m",
        org_unit="u",
        began_with="sick_note",
        first_absence_day=draw(days),
        notes={
            f"n{i}": note.model_copy(update={"note_id": f"n{i}"}) for i, note in enumerate(notes)
        },
        self_certifications=certs,
        cuts=draw(st.lists(st.builds(Cut, from_day=days, seq=seqs), max_size=3)),
        partial_returns=draw(
            st.lists(st.builds(PartialReturn, from_day=days, grade=grades, seq=seqs), max_size=3)
        ),
    )


@settings(max_examples=400, deadline=None)
@given(states())
def test_stretches_judge_every_day_as_the_day_by_day_rules(state: SummaryState) -> None:
    assert absence_days(state) == reference.absence_days(state)
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
