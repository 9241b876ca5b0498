"""Follow-up: conversation, plan created once and revised on its current version, shared
versions, the employee's consent, and dialogue meetings with their participants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from case_service.domain.case import Case
from naervaer.contracts.followup import (
    DialogueMeetingCancelled,
    DialogueMeetingHeld,
    DialogueMeetingScheduled,
    DoctorConsentRecorded,
    FollowUpPlanCreated,
    FollowUpPlanRevised,
    FollowUpPlanShared,
    MeetingExceptionRecorded,
)

from .given import (
    CASE,
    TODAY,
    consent,
    day,
    given,
    participants,
    plan,
    plan_created,
    refused,
    scheduled,
)

STARTS = datetime(2026, 2, 16, 9, tzinfo=UTC)


def held(meeting_id: str, number: int = 1) -> DialogueMeetingHeld:
    return DialogueMeetingHeld(
        case_id=CASE,
        meeting_id=meeting_id,
        meeting_number=number,  # type: ignore[arg-type]
        held_on=day(41),
        participants=participants("employee", "manager", "nav"),
        minutes="Agreed on desk tasks.",
    )


def cancelled(meeting_id: str, number: int = 1) -> DialogueMeetingCancelled:
    return DialogueMeetingCancelled(
        case_id=CASE,
        meeting_id=meeting_id,
        meeting_number=number,
        reason="ill",  # type: ignore[arg-type]
    )


def test_the_conversation_is_recorded_but_not_before_it_happened() -> None:
    case = given()
    with refused(case, "date_in_future"):
        case.hold_follow_up_conversation(
            held_on=day(100), working_day="a", what_can_change="b", agreed="c", today=TODAY
        )
    case.hold_follow_up_conversation(
        held_on=day(7), working_day="a", what_can_change="b", agreed="c", today=TODAY
    )
    assert len(case.pending) == 1


def test_the_plan_is_created_once() -> None:
    case = given()
    case.create_follow_up_plan(plan=plan(), today=TODAY)
    assert case.pending == [FollowUpPlanCreated(case_id=CASE, made_on=TODAY, plan=plan())]
    again = given(plan_created())
    with refused(again, "follow_up_plan_exists"):
        again.create_follow_up_plan(plan=plan(), today=TODAY)


def test_a_revision_is_the_next_version_of_the_current_one() -> None:
    revised = FollowUpPlanRevised(case_id=CASE, plan_version=2, made_on=day(30), plan=plan())
    case = given(plan_created(), revised)
    case.revise_follow_up_plan(based_on=2, plan=plan(follow_up="Every second week."), today=TODAY)
    assert case.pending == [
        FollowUpPlanRevised(
            case_id=CASE, plan_version=3, made_on=TODAY, plan=plan(follow_up="Every second week.")
        )
    ]


@pytest.mark.parametrize(
    ("history", "based_on", "rule", "status"),
    [
        ([], 1, "follow_up_plan_missing", 422),
        ([plan_created()], 2, "plan_version_conflict", 409),
        (
            [
                plan_created(),
                FollowUpPlanRevised(case_id=CASE, plan_version=2, made_on=day(30), plan=plan()),
            ],
            1,
            "plan_version_conflict",
            409,
        ),
    ],
)
def test_a_revision_needs_a_plan_and_its_current_version(
    history: list[object], based_on: int, rule: str, status: int
) -> None:
    case = given(*history)  # type: ignore[arg-type]
    with refused(case, rule, status):
        case.revise_follow_up_plan(based_on=based_on, plan=plan(), today=TODAY)


@pytest.mark.parametrize("version", [0, 2])
def test_only_an_existing_version_is_shared(version: int) -> None:
    case = given(plan_created())
    with refused(case, "plan_version_not_found", 404):
        case.share_follow_up_plan(plan_version=version, recipient="nav", today=TODAY)
    case.share_follow_up_plan(plan_version=1, recipient="doctor", today=TODAY)
    assert case.pending == [
        FollowUpPlanShared(case_id=CASE, plan_version=1, recipient="doctor", shared_on=TODAY)
    ]


def test_consent_is_recorded_when_it_changes() -> None:
    case = given()
    case.record_doctor_consent(consented=False, today=TODAY)  # stands already: nothing new
    case.record_doctor_consent(consented=True, today=TODAY)
    assert case.pending == [DoctorConsentRecorded(case_id=CASE, consented=True, recorded_on=TODAY)]


def schedule(case: Case, *parties: str, number: int = 1, meeting_id: str = "m-2") -> None:
    case.schedule_dialogue_meeting(
        meeting_id=meeting_id,
        meeting_number=number,  # type: ignore[arg-type]
        starts_at=STARTS,
        participants=participants(*parties),
    )


def test_a_meeting_is_scheduled_with_the_consent_as_it_stands() -> None:
    case = given(consent())
    schedule(case, "employee", "manager", "doctor")
    assert case.pending == [
        DialogueMeetingScheduled(
            case_id=CASE,
            meeting_id="m-2",
            meeting_number=1,
            starts_at=STARTS,
            participants=participants("employee", "manager", "doctor"),
            employee_consented_to_doctor=True,
        )
    ]


@pytest.mark.parametrize(
    ("history", "parties", "number", "rule"),
    [
        ([], ("employee", "manager", "doctor"), 1, "doctor_needs_employee_consent"),
        (
            [consent(), consent(False)],
            ("employee", "hr", "doctor"),
            1,
            "doctor_needs_employee_consent",
        ),
        ([], ("manager", "bht"), 1, "meeting_participants_missing"),
        ([], ("employee", "bht"), 3, "meeting_participants_missing"),
        ([], ("employee", "manager"), 2, "meeting_participants_missing"),  # NAV calls meeting 2
        ([scheduled("m-1")], ("employee", "manager"), 1, "meeting_already_scheduled"),
        ([scheduled("m-1"), held("m-1")], ("employee", "manager"), 1, "meeting_already_held"),
        (
            [MeetingExceptionRecorded(case_id=CASE, reason="in_institution", recorded_on=day(90))],
            ("employee", "manager", "nav"),
            2,
            "meeting_excepted",
        ),
        ([scheduled("m-2", 3), cancelled("m-2", 3)], ("employee", "manager"), 3, "meeting_exists"),
    ],
)
def test_a_meeting_that_breaks_a_rule_is_not_scheduled(
    history: list[object], parties: tuple[str, ...], number: int, rule: str
) -> None:
    case = given(*history)  # type: ignore[arg-type]
    with refused(case, rule):
        schedule(case, *parties, number=number)


@pytest.mark.parametrize(
    "history",
    [[scheduled("m-1"), cancelled("m-1")], [scheduled("m-1", 3), held("m-1", 3)]],
)
def test_a_cancelled_meeting_1_or_a_held_meeting_3_may_be_scheduled_again(
    history: list[object],
) -> None:
    case = given(*history)  # type: ignore[arg-type]
    number = 1 if isinstance(history[1], DialogueMeetingCancelled) else 3
    schedule(case, "employee", "manager", number=number)
    assert len(case.pending) == 1


def hold(case: Case, meeting_id: str = "m-1", *parties: str) -> None:
    case.hold_dialogue_meeting(
        meeting_id=meeting_id,
        held_on=day(41),
        participants=participants(*(parties or ("employee", "manager", "nav"))),
        minutes="Agreed on desk tasks.",
        today=TODAY,
    )


def test_a_scheduled_meeting_is_held_with_its_number() -> None:
    case = given(scheduled("m-1", 2))
    hold(case)
    assert case.pending == [held("m-1", 2)]


@pytest.mark.parametrize(
    ("history", "meeting_id", "rule", "status"),
    [
        ([], "m-1", "meeting_not_found", 404),
        ([scheduled("m-1"), cancelled("m-1")], "m-1", "meeting_cancelled", 422),
        ([scheduled("m-1"), held("m-1")], "m-1", "meeting_already_held", 422),
    ],
)
def test_only_a_scheduled_meeting_is_held(
    history: list[object], meeting_id: str, rule: str, status: int
) -> None:
    case = given(*history)  # type: ignore[arg-type]
    with refused(case, rule, status):
        hold(case, meeting_id)


def test_holding_checks_the_date_and_the_participants() -> None:
    case = given(scheduled("m-1"))
    with refused(case, "date_in_future"):
        case.hold_dialogue_meeting(
            meeting_id="m-1",
            held_on=TODAY.replace(day=TODAY.day + 1),
            participants=participants("employee", "manager"),
            minutes="x",
            today=TODAY,
        )
    with refused(case, "doctor_needs_employee_consent"):
        hold(case, "m-1", "employee", "manager", "doctor")


def test_cancelling_needs_a_scheduled_meeting() -> None:
    case = given(scheduled("m-1"), held("m-1"))
    with refused(case, "meeting_already_held"):
        case.cancel_dialogue_meeting(meeting_id="m-1", reason="x")
    with refused(case, "meeting_not_found", 404):
        case.cancel_dialogue_meeting(meeting_id="m-9", reason="x")
    fresh = given(scheduled("m-1", 2))
    fresh.cancel_dialogue_meeting(meeting_id="m-1", reason="ill")
    assert fresh.pending == [
        DialogueMeetingCancelled(case_id=CASE, meeting_id="m-1", meeting_number=2, reason="ill")
    ]


def test_an_exception_from_meeting_2_is_recorded_once_and_not_after_it_was_held() -> None:
    case = given()
    case.record_meeting_exception(reason="documented_measures", today=TODAY)
    assert case.pending == [
        MeetingExceptionRecorded(case_id=CASE, reason="documented_measures", recorded_on=TODAY)
    ]
    twice = given(*case.pending)
    with refused(twice, "meeting_exception_exists"):
        twice.record_meeting_exception(reason="in_institution", today=TODAY)
    after = given(scheduled("m-1", 2), held("m-1", 2))
    with refused(after, "meeting_already_held"):
        after.record_meeting_exception(reason="in_institution", today=TODAY)


def test_a_meeting_can_be_requested_unless_it_was_held() -> None:
    case = given(scheduled("m-1"), held("m-1"))
    with refused(case, "meeting_already_held"):
        case.request_dialogue_meeting(meeting_number=1, requested_by="employee", today=TODAY)
    case.request_dialogue_meeting(meeting_number=3, requested_by="employee", today=TODAY)
    assert len(case.pending) == 1
