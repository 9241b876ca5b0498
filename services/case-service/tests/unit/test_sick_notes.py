"""Sick notes (sykmeldinger): period, grade and kind, pending notes, overlaps, start before S,
extension, correction, cancellation and grading."""

from __future__ import annotations

from datetime import date

import pytest

from case_service.domain.case import Case
from naervaer.contracts.case import (
    GradingChanged,
    SickNoteCancelled,
    SickNoteCorrected,
    SickNoteExtended,
    SickNoteKind,
    SickNoteReceived,
)

from .given import CASE, TODAY, S, day, given, note, refused, self_certified


def receive(
    case: Case,
    sick_note_id: str,
    start: date,
    end: date,
    grade: int = 100,
    kind: SickNoteKind = "ordinary",
) -> None:
    case.receive_sick_note(
        sick_note_id=sick_note_id,
        period_start=start,
        period_end=end,
        grade=grade,
        kind=kind,
        received_on=TODAY,
    )


@pytest.mark.parametrize(
    ("start", "end", "grade", "kind"),
    [
        (S, day(13), 100, "ordinary"),
        (day(3), day(30), 50, "graded"),
        (S, day(15), 99, "graded"),
        (S, day(15), 100, "pending"),  # the whole employer period: 16 days
        (day(2), day(9), 100, "pending"),
        (day(-3), day(5), 100, "ordinary"),  # the case's first fact may start before S
    ],
)
def test_a_valid_note_is_received(start: date, end: date, grade: int, kind: SickNoteKind) -> None:
    case = given()
    receive(case, "n-1", start, end, grade, kind)
    assert case.pending == [
        SickNoteReceived(
            case_id=CASE,
            sick_note_id="n-1",
            period_start=start,
            period_end=end,
            grade=grade,
            kind=kind,
            received_on=TODAY,
        )
    ]


@pytest.mark.parametrize(
    ("start", "end", "grade", "kind", "rule"),
    [
        (day(5), day(4), 100, "ordinary", "period_end_before_start"),
        (S, day(9), 50, "ordinary", "ordinary_note_not_full"),
        (S, day(9), 100, "graded", "graded_note_not_reduced"),
        (S, day(16), 100, "pending", "pending_note_too_long"),  # 17 days
        (day(10), day(20), 100, "pending", "pending_note_outside_employer_period"),
    ],
)
def test_an_invalid_note_is_refused(
    start: date, end: date, grade: int, kind: SickNoteKind, rule: str
) -> None:
    case = given()
    with refused(case, rule):
        receive(case, "n-1", start, end, grade, kind)


def test_a_pending_note_counts_the_employer_period_from_an_earlier_first_fact() -> None:
    case = given()
    receive(case, "n-1", day(-4), day(11), 100, "pending")  # S moves to S - 4: ends on S' + 15
    assert len(case.pending) == 1


@pytest.mark.parametrize(
    ("history", "start", "end"),
    [
        ([note("n-1", S, day(13))], day(13), day(20)),  # shares the last day
        ([note("n-1", S, day(13))], day(-2), S),
        ([note("n-1", day(20), day(30))], day(10), day(40)),  # contains the other
    ],
)
def test_overlapping_notes_are_refused(
    history: list[SickNoteReceived], start: date, end: date
) -> None:
    case = given(*history)
    with refused(case, "sick_note_overlap" if start >= S else "absence_before_case_start"):
        receive(case, "n-2", start, end)


def test_a_note_next_to_another_or_to_a_cancelled_one_is_accepted() -> None:
    cancelled = SickNoteCancelled(case_id=CASE, sick_note_id="n-0", reason="wrong employee")
    case = given(note("n-0", day(14), day(20)), cancelled, note("n-1", S, day(13)))
    receive(case, "n-2", day(14), day(27))
    assert [e.sick_note_id for e in case.pending] == ["n-2"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "history",
    [[note("n-1", day(3), day(9))], [self_certified(S, day(2))]],
)
def test_only_the_first_fact_may_start_before_s(history: list[object]) -> None:
    case = given(*history)  # type: ignore[arg-type]
    with refused(case, "absence_before_case_start"):
        receive(case, "n-2", day(-3), day(-1))


def test_a_note_in_the_past_after_s_is_accepted() -> None:
    case = given(note("n-1", day(20), day(30)))
    receive(case, "n-2", day(1), day(10))  # received late, but after S
    assert len(case.pending) == 1


def test_a_note_id_is_received_once() -> None:
    case = given(note("n-1", S, day(9)))
    with refused(case, "sick_note_exists"):
        receive(case, "n-1", day(20), day(25))


def test_extension_moves_the_last_day() -> None:
    case = given(note("n-1", S, day(13)))
    case.extend_sick_note(sick_note_id="n-1", period_end=day(27))
    assert case.pending == [SickNoteExtended(case_id=CASE, sick_note_id="n-1", period_end=day(27))]


@pytest.mark.parametrize(
    ("history", "end", "rule"),
    [
        ([note("n-1", S, day(13))], day(13), "extension_not_later"),
        ([note("n-1", S, day(13))], day(10), "extension_not_later"),
        ([note("n-1", S, day(13)), note("n-2", day(20), day(30))], day(21), "sick_note_overlap"),
        ([note("n-1", S, day(9), kind="pending")], day(16), "pending_note_too_long"),
        (
            [note("n-1", day(2), day(9), kind="pending")],
            day(16),
            "pending_note_outside_employer_period",
        ),
    ],
)
def test_an_extension_that_breaks_a_rule_is_refused(
    history: list[SickNoteReceived], end: date, rule: str
) -> None:
    case = given(*history)
    with refused(case, rule):
        case.extend_sick_note(sick_note_id="n-1", period_end=end)


def test_correction_replaces_period_grade_and_kind() -> None:
    case = given(note("n-1", S, day(13)), note("n-2", day(14), day(20)))
    case.correct_sick_note(
        sick_note_id="n-1", period_start=S, period_end=day(13), grade=60, kind="graded"
    )
    assert case.pending == [
        SickNoteCorrected(
            case_id=CASE,
            sick_note_id="n-1",
            period_start=S,
            period_end=day(13),
            grade=60,
            kind="graded",
        )
    ]


@pytest.mark.parametrize(
    ("end", "grade", "kind", "rule"),
    [
        (day(14), 100, "ordinary", "sick_note_overlap"),
        (day(13), 70, "ordinary", "ordinary_note_not_full"),
        (day(13), 100, "graded", "graded_note_not_reduced"),
    ],
)
def test_a_correction_is_checked_like_a_new_note(
    end: date, grade: int, kind: SickNoteKind, rule: str
) -> None:
    case = given(note("n-1", S, day(13)), note("n-2", day(14), day(20)))
    with refused(case, rule):
        case.correct_sick_note(
            sick_note_id="n-1", period_start=S, period_end=end, grade=grade, kind=kind
        )


def test_cancellation_records_the_reason() -> None:
    case = given(note("n-1", S, day(13)))
    case.cancel_sick_note(sick_note_id="n-1", reason="registered on the wrong employee")
    assert case.pending == [
        SickNoteCancelled(
            case_id=CASE, sick_note_id="n-1", reason="registered on the wrong employee"
        )
    ]


CHANGES = {
    "extend": lambda case: case.extend_sick_note(sick_note_id="n-1", period_end=day(30)),
    "correct": lambda case: case.correct_sick_note(
        sick_note_id="n-1", period_start=S, period_end=day(13), grade=100, kind="ordinary"
    ),
    "cancel": lambda case: case.cancel_sick_note(sick_note_id="n-1", reason="again"),
    "grade": lambda case: case.change_grading(sick_note_id="n-1", effective_from=day(3), grade=50),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_cancelled_note_cannot_change(change) -> None:  # type: ignore[no-untyped-def]
    case = given(
        note("n-1", S, day(13)), SickNoteCancelled(case_id=CASE, sick_note_id="n-1", reason="x")
    )
    with refused(case, "sick_note_cancelled"):
        change(case)


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_an_unknown_note_is_not_found(change) -> None:  # type: ignore[no-untyped-def]
    case = given(note("n-9", S, day(13)))
    with refused(case, "sick_note_not_found", status=404):
        change(case)


def test_grading_changes_from_a_day_inside_the_note() -> None:
    case = given(note("n-1", S, day(27)))
    case.change_grading(sick_note_id="n-1", effective_from=day(14), grade=50)
    assert case.pending == [
        GradingChanged(case_id=CASE, sick_note_id="n-1", effective_from=day(14), grade=50)
    ]
    assert case.state.sick_notes["n-1"].grade_on(day(13)) == 100
    assert case.state.sick_notes["n-1"].grade_on(day(14)) == 50


@pytest.mark.parametrize(
    ("history", "effective_from", "grade", "rule"),
    [
        ([note("n-1", S, day(27))], day(28), 50, "grading_outside_note"),
        ([note("n-1", S, day(27))], day(-1), 50, "grading_outside_note"),
        ([note("n-1", S, day(27))], day(3), 100, "grading_unchanged"),
        (
            [
                note("n-1", S, day(27)),
                GradingChanged(case_id=CASE, sick_note_id="n-1", effective_from=day(7), grade=50),
            ],
            day(10),
            50,
            "grading_unchanged",
        ),
        ([note("n-1", S, day(9), kind="pending")], day(3), 50, "pending_note_has_no_grade"),
    ],
)
def test_a_grading_change_that_breaks_a_rule_is_refused(
    history: list[object], effective_from: date, grade: int, rule: str
) -> None:
    case = given(*history)  # type: ignore[arg-type]
    with refused(case, rule):
        case.change_grading(sick_note_id="n-1", effective_from=effective_from, grade=grade)
