"""Generated summary states for the equivalence tests: overlapping sick notes and
self-certifications, extensions, grading changes, cuts and partial returns, in any order, with
equal seqs now and then (ties must break as the rules break them)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from case_service.app.summary_state import (
    Cut,
    Grading,
    NotePart,
    PartialReturn,
    SelfCertification,
    SickNote,
    SummaryState,
)

S = date(2026, 1, 5)
days = st.integers(min_value=-10, max_value=90).map(lambda n: S + timedelta(days=n))
seqs = st.integers(min_value=2, max_value=40)
tied_seqs = st.integers(min_value=2, max_value=4)
grades = st.sampled_from([20, 40, 50, 60, 80, 100])


@st.composite
def stretches(draw: st.DrawFn) -> tuple[date, date]:
    start = draw(days)
    # Now and then an end before the start: a note shortened to nothing covers no day.
    return start, start + timedelta(days=draw(st.integers(min_value=-2, max_value=60)))


@st.composite
def sick_notes(draw: st.DrawFn, seqs: st.SearchStrategy[int] = seqs) -> SickNote:
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
def states(draw: st.DrawFn, seqs: st.SearchStrategy[int] = seqs) -> SummaryState:
    """Any state; ``seqs`` narrow (``tied_seqs``) to make facts stated by equal seqs common."""
    notes = draw(st.lists(sick_notes(seqs), max_size=4))
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


@st.composite
def successive_states(draw: st.DrawFn) -> SummaryState:
    """Notes and self-certifications one after another (the usual case, W4), now and then
    touching or overlapping the one before, now and then with one cut, partial return or
    grading change: both sides of the shortcut for facts that never overlap."""
    start, stated = S + timedelta(days=draw(st.integers(-5, 5))), []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        length = draw(st.integers(min_value=-1, max_value=20))  # -1: covers no day
        stated.append((start, start + timedelta(days=length)))
        start += timedelta(days=max(length, 0) + draw(st.sampled_from([1, 1, 1, 2, 5, 0, -3])))
    owners = [draw(st.integers(min_value=-1, max_value=3)) for _ in stated]  # -1: certified
    notes: dict[str, SickNote] = {}
    certs: list[SelfCertification] = []
    for seq, ((first, last), owner) in enumerate(zip(stated, owners, strict=True), start=2):
        if owner < 0:
            certs.append(SelfCertification(start=first, end=last, seq=seq))
            continue
        part = NotePart(start=first, end=last, seq=seq)
        if f"n{owner}" in notes:
            notes[f"n{owner}"].parts.append(part)
        else:
            kind = draw(st.sampled_from(["ordinary", "pending"]))
            grade = draw(grades)
            notes[f"n{owner}"] = SickNote(note_id=f"n{owner}", kind=kind, grade=grade, parts=[part])
    extra = draw(st.sampled_from(["none", "none", "none", "cut", "return", "grading"]))
    late = len(stated) + 2
    cuts = [Cut(from_day=draw(days), seq=late)] if extra == "cut" else []
    returns = [PartialReturn(from_day=draw(days), grade=50, seq=late)] if extra == "return" else []
    if extra == "grading" and notes:
        note = next(iter(notes.values()))
        note.gradings.append(Grading(effective_from=draw(days), grade=40, seq=late))
    return SummaryState(
        case_id="c",
        employee_id="e",
        manager_id="m",
        org_unit="u",
        began_with="sick_note",
        first_absence_day=draw(days),
        notes=notes,
        self_certifications=certs,
        cuts=cuts,
        partial_returns=returns,
    )
