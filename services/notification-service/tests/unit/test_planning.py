"""Who hears what under the default policy, and through which channels."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from notification_service.domain.planning import (
    MeetingParticipant,
    ObligationStage,
    Target,
    channels_for,
    deadline_targets,
    meeting_targets,
    notices,
)
from notification_service.domain.policy import ReminderRule, TenantPolicy

DEFAULT = TenantPolicy()
WITH_WEBHOOK = TenantPolicy(webhook_url="https://hr.example/hooks")  # type: ignore[arg-type]
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Oslo


def obligation(kind: str, stage: str, responsible: str = "employer") -> ObligationStage:
    return ObligationStage(
        case_id="c-1",
        kind=kind,
        due_date=date(2026, 3, 17),
        responsible=responsible,
        legal_basis="aml § 4-6 (3)",
        stage=stage,
        employee_id="emp-1",
        manager_id="mgr-1",
    )


def who(targets: list[Target]) -> set[tuple[str, str, str]]:
    return {(t.audience, t.recipient_id, t.template) for t in targets}


@pytest.mark.parametrize(
    ("kind", "stage", "responsible", "expected"),
    [
        (
            "follow_up_plan",
            "approaching",
            "employer",
            {
                ("manager", "mgr-1", "obligation_approaching"),
                ("employee", "emp-1", "follow_up_invitation"),
            },
        ),
        ("dialogue_meeting_1", "due", "employer", {("manager", "mgr-1", "obligation_due")}),
        ("follow_up_plan", "overdue", "employer", {("hr", "hr", "obligation_overdue")}),
        (
            "activity_requirement",
            "approaching",
            "employee",
            {("employee", "emp-1", "activity_requirement_notice")},
        ),
        ("activity_requirement", "overdue", "employee", set()),
        ("dialogue_meeting_2", "approaching", "nav", set()),
        ("week_39_notice", "due", "nav", set()),
    ],
)
def test_default_policy_for_deadlines(
    kind: str, stage: str, responsible: str, expected: set[tuple[str, str, str]]
) -> None:
    assert who(deadline_targets(DEFAULT, obligation(kind, stage, responsible))) == expected


def test_a_tenant_can_add_its_own_rule() -> None:
    policy = TenantPolicy(
        reminders=(
            *DEFAULT.reminders,
            ReminderRule(stage="overdue", audience="manager", template="obligation_overdue"),
        )
    )
    targets = deadline_targets(policy, obligation("follow_up_plan", "overdue"))
    assert who(targets) == {
        ("hr", "hr", "obligation_overdue"),
        ("manager", "mgr-1", "obligation_overdue"),
    }


def test_meeting_reaches_representatives_only_when_they_take_part() -> None:
    participants = [
        MeetingParticipant("employee", None),
        MeetingParticipant("manager", None),
        MeetingParticipant("union_representative", "union-7"),
        MeetingParticipant("safety_representative", None),  # unknown person: cannot be told
        MeetingParticipant("doctor", "dr-1"),
        MeetingParticipant("nav", None),
    ]
    targets = meeting_targets(
        DEFAULT, "invited", participants, employee_id="emp-1", manager_id="mgr-1"
    )
    assert who(targets) == {
        ("employee", "emp-1", "meeting_invitation"),
        ("manager", "mgr-1", "meeting_invitation"),
        ("union_representative", "union-7", "meeting_invitation"),
    }


def test_the_employee_always_hears_of_a_cancellation() -> None:
    targets = meeting_targets(DEFAULT, "cancelled", [], employee_id="emp-1", manager_id="m")
    assert who(targets) == {("employee", "emp-1", "meeting_cancelled")}


def test_hr_hears_of_meetings_it_takes_part_in() -> None:
    participants = [MeetingParticipant("employee", "emp-1"), MeetingParticipant("hr", "hr-9")]
    targets = meeting_targets(DEFAULT, "changed", participants, employee_id="emp-1", manager_id="m")
    assert who(targets) == {
        ("employee", "emp-1", "meeting_changed"),
        ("hr", "hr", "meeting_changed"),
    }


def test_channels_follow_preferences_and_what_the_tenant_has() -> None:
    manager = Target("manager", "mgr-1", "t")
    hr = Target("hr", "hr", "t")
    assert channels_for(DEFAULT, manager, None) == ["email"]
    assert channels_for(DEFAULT, manager, frozenset({"sms", "email"})) == ["email", "sms"]
    assert channels_for(DEFAULT, hr, None) == ["email"]  # no webhook configured
    assert channels_for(WITH_WEBHOOK, hr, None) == ["email", "webhook"]
    assert channels_for(DEFAULT, manager, frozenset({"webhook"})) == ["email"]  # fallback
    assert channels_for(WITH_WEBHOOK, manager, frozenset({"webhook"})) == ["webhook"]


def test_notices_one_per_channel_keyed_by_obligation() -> None:
    subject = obligation("follow_up_plan", "approaching")
    planned = notices(
        DEFAULT,
        deadline_targets(DEFAULT, subject),
        subject_key=subject.subject_key,
        stage="approaching",
        facts=subject.facts,
        preferences={"emp-1": frozenset({"email", "sms"})},
        now=NOW,
        reminder=True,
    )
    assert sorted((n.recipient_id, n.channel) for n in planned) == [
        ("emp-1", "email"),
        ("emp-1", "sms"),
        ("mgr-1", "email"),
    ]
    assert {n.subject_key for n in planned} == {"obligation:c-1:follow_up_plan:2026-03-17"}
    assert all(n.send_after == NOW for n in planned)


def test_facts_carry_no_health_data() -> None:
    facts = obligation("follow_up_plan", "due").facts
    assert set(facts) == {"case_id", "kind", "due_date", "legal_basis", "employee_id"}


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"hr_email": "hr@example.com\r\nBcc: x@evil.example"},
        {"hr_email": "not an address"},
        {"hr_email": "hr@example.com\n"},
        {"default_channels": []},
    ],
)
def test_invalid_policies_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TenantPolicy.model_validate(change)
