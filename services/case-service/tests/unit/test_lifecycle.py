"""The case's life: reassigning the manager, return to work, closing, reopening within 16 days
(one case or two), and waiving obligations."""

from __future__ import annotations

from datetime import date

import pytest

from case_service.domain.errors import DomainError
from naervaer.contracts.case import (
    OBLIGATION_KINDS,
    CaseReopened,
    ManagerReassigned,
    ObligationWaived,
    ReturnedToWork,
)

from .given import CASE, TODAY, S, closed, day, given, note, refused, self_certified


def test_opening_an_opened_case_is_refused() -> None:
    case = given()
    with refused(case, "case_already_opened"):
        case.open(
            tenant="acme",
            employee_id="e",
            manager_id="m",
            org_unit="u",
            first_absence_day=S,
            began_with="sick_note",
        )


def test_the_manager_is_reassigned_and_the_case_follows() -> None:
    case = given()
    case.reassign_manager(manager_id="mgr-2", today=TODAY)
    assert case.pending == [
        ManagerReassigned(
            case_id=CASE, previous_manager_id="mgr-1", manager_id="mgr-2", effective_on=TODAY
        )
    ]
    assert case.manager_id == "mgr-2"
    reassigned = given(*case.pending)
    with refused(reassigned, "manager_unchanged"):
        reassigned.reassign_manager(manager_id="mgr-2", today=TODAY)
    with pytest.raises(DomainError) as error:
        reassigned.reassign_manager(manager_id="mgr-2", today=TODAY)
    assert "mgr-2" not in error.value.detail  # no person's id in a problem: it ends up in logs


@pytest.mark.parametrize(
    ("extent", "percent", "returned_on", "rule"),
    [
        ("full", 100, day(20), None),
        ("partial", 50, day(20), None),
        ("full", 80, day(20), "working_percent_mismatch"),
        ("partial", 100, day(20), "working_percent_mismatch"),
        ("full", 100, day(-1), "before_case_start"),
    ],
)
def test_return_to_work(extent: str, percent: int, returned_on: date, rule: str | None) -> None:
    case = given()

    def back() -> None:
        case.return_to_work(
            returned_on=returned_on,
            extent=extent,  # type: ignore[arg-type]
            working_percent=percent,
        )

    if rule is None:
        back()
        assert isinstance(case.pending[0], ReturnedToWork)
        return
    with refused(case, rule):
        back()


def test_closing_twice_is_refused_as_closed() -> None:
    case = given(closed(day(30)))
    with refused(case, "case_closed"):
        case.close(closed_on=day(31), reason="other")


# The last absence day is S + 13 (the note's end); day 14 + n leaves n non-sick days between.
@pytest.mark.parametrize(
    ("history", "absence_start", "accepted"),
    [
        ([note("n-1", S, day(13))], day(14), True),  # the next day
        ([note("n-1", S, day(13))], day(29), True),  # 15 non-sick days between
        ([note("n-1", S, day(13))], day(30), False),  # 16: a new case
        ([note("n-1", S, day(13)), self_certified(day(20), day(22))], day(38), True),  # from day 22
        # came back fully on day 6 although the note ran to day 13: the last sick day is day 5
        (
            [
                note("n-1", S, day(13)),
                ReturnedToWork(
                    case_id=CASE, returned_on=day(6), extent="full", working_percent=100
                ),
            ],
            day(22),
            False,
        ),
        ([], day(16), True),  # no facts: the last absence day is S
        ([], day(17), False),
    ],
)
def test_a_case_is_reopened_only_within_16_days_of_the_last_absence(
    history: list[object], absence_start: date, accepted: bool
) -> None:
    case = given(*history, closed(day(35)))  # type: ignore[arg-type]
    if accepted:
        case.reopen(absence_start=absence_start, began_with="self_certification")
        assert case.pending == [
            CaseReopened(case_id=CASE, absence_start=absence_start, began_with="self_certification")
        ]
        assert case.status == "open"
        return
    with refused(case, "new_case_required"):
        case.reopen(absence_start=absence_start, began_with="sick_note")


def test_only_a_closed_case_is_reopened_and_not_before_s() -> None:
    case = given()
    with refused(case, "case_not_closed"):
        case.reopen(absence_start=day(3), began_with="sick_note")
    closed_case = given(closed(day(3)))
    with refused(closed_case, "before_case_start"):
        closed_case.reopen(absence_start=day(-2), began_with="sick_note")


@pytest.mark.parametrize("kind", OBLIGATION_KINDS)
def test_every_obligation_kind_can_be_waived(kind: str) -> None:
    case = given()
    case.waive_obligation(obligation=kind, reason="obviously unnecessary", today=TODAY)
    assert case.pending == [
        ObligationWaived(
            case_id=CASE, obligation=kind, reason="obviously unnecessary", waived_on=TODAY
        )
    ]


@pytest.mark.parametrize(
    ("history", "kind", "rule"),
    [
        ([], "lunch_break", "unknown_obligation"),
        ([], "Dialogue_meeting_1", "unknown_obligation"),
        (
            [
                ObligationWaived(
                    case_id=CASE, obligation="follow_up_plan", reason="x", waived_on=day(3)
                )
            ],
            "follow_up_plan",
            "obligation_already_waived",
        ),
    ],
)
def test_a_waiver_names_a_known_obligation_once(
    history: list[object], kind: str, rule: str
) -> None:
    case = given(*history)  # type: ignore[arg-type]
    with refused(case, rule):
        case.waive_obligation(obligation=kind, reason="x", today=TODAY)
