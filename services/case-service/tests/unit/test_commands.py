"""The application layer without I/O: every case command on a closed case, the actions the
access policy judges, If-Match, the idempotency identity, and the reserved acts."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest

from case_service.api.examples import EXAMPLES
from case_service.app import commands
from case_service.app.access import case_write_decision, tenant_admin_decision
from case_service.app.commands import CaseCommand, OpenCase
from case_service.app.meta import CommandMeta, PreconditionFailed
from case_service.domain.errors import DomainError
from naervaer.auth.policy import EMPLOYEE_ONLY_ACTIONS, NAV_ACTIONS, TENANT_MISMATCH
from naervaer.auth.principal import Principal, Role

from .given import TODAY, closed, day, given, scheduled

PATH_IDS = {"sick_note_id": "n-1", "meeting_id": "m-1", "adjustment_id": "a-1", "request_id": "r-1"}


def all_case_commands() -> list[type[CaseCommand]]:
    found: list[type[CaseCommand]] = []
    pending: list[type[CaseCommand]] = [CaseCommand]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            found.append(sub)
    return sorted(set(found), key=lambda c: c.__name__)


def example_of(command: type[CaseCommand]) -> CaseCommand:
    """The command built from its documented request example (plus the ids from the path)."""
    name = command.__name__
    body: dict[str, Any] = EXAMPLES.get(name) or EXAMPLES[f"{name}Body"]
    ids = {k: v for k, v in PATH_IDS.items() if k in command.model_fields and k not in body}
    return command.model_validate({**body, **ids})


CASE_COMMANDS = all_case_commands()


def test_every_case_command_is_exported_and_has_an_example() -> None:
    assert {c.__name__ for c in CASE_COMMANDS} <= set(commands.__all__)
    assert len(CASE_COMMANDS) == 28  # besides opening and self-certifying
    for command in CASE_COMMANDS:
        example_of(command)


@pytest.mark.parametrize(
    "command", [c for c in CASE_COMMANDS if c.__name__ != "ReopenCase"], ids=lambda c: c.__name__
)
def test_a_closed_case_refuses_every_command_but_reopening(command: type[CaseCommand]) -> None:
    case = given(scheduled("m-1"), closed(day(30)))
    with pytest.raises(DomainError) as refused:
        example_of(command).execute(case, TODAY)
    assert refused.value.rule == "case_closed"
    assert case.pending == []


@pytest.mark.parametrize(
    ("command", "number", "action"),
    [
        ("ScheduleDialogueMeeting", 1, "schedule_dialogue_meeting"),
        ("ScheduleDialogueMeeting", 2, "nav_meeting"),
        ("HoldDialogueMeeting", 1, "hold_dialogue_meeting"),
        ("HoldDialogueMeeting", 2, "nav_meeting"),
        ("CancelDialogueMeeting", 3, "cancel_dialogue_meeting"),
        ("CancelDialogueMeeting", 2, "nav_meeting"),
    ],
)
def test_meeting_2_is_a_nav_action(command: str, number: int, action: str) -> None:
    case = given(scheduled("m-1", number))
    cls = getattr(commands, command)
    built = example_of(cls)
    if "meeting_number" in cls.model_fields:
        built = built.model_copy(update={"meeting_number": number})
    assert built.action_on(case) == action


def test_actions_follow_the_policy_names() -> None:
    actions = {c.__name__: c.action for c in CASE_COMMANDS}
    assert actions["RecordDoctorConsent"] in EMPLOYEE_ONLY_ACTIONS
    nav_acts = {"AssessActivityRequirement", "DecideExpertAssistance", "RecordMeetingException"}
    assert {actions[name] for name in nav_acts} <= NAV_ACTIONS
    assert len(set(actions.values())) == len(actions)  # one action per command


def meta(if_match: str | None = None, key: str | None = None) -> CommandMeta:
    async def gate(*_args: object, **_kwargs: object) -> None:
        return None

    principal = Principal("hr-1", "acme", frozenset({Role.HR}))
    return CommandMeta(principal, gate, "POST /v1/cases/c-1/close", key, if_match, "corr-1")


@pytest.mark.parametrize("if_match", [None, "*", '"3"', "3", ' "2", "3" ', 'W/"1", 3'])
def test_if_match_naming_the_current_version_passes(if_match: str | None) -> None:
    meta(if_match).check_if_match(3)


@pytest.mark.parametrize("if_match", ['"2"', "2", 'W/"3"', "three", '"3'])
def test_if_match_naming_another_version_fails(if_match: str) -> None:
    with pytest.raises(PreconditionFailed) as failed:
        meta(if_match).check_if_match(3)
    assert failed.value.current_version == 3


def test_the_command_id_hashes_tenant_caller_route_and_key() -> None:
    body = OpenCase.model_validate(EXAMPLES["OpenCase"])
    assert meta().write(body).command_id is None
    write = meta(key="k-1").write(body)
    named = "\0".join(("acme", "hr-1", "POST /v1/cases/c-1/close", "k-1"))
    assert write.command_id == "cmd:" + hashlib.sha256(named.encode()).hexdigest()
    assert meta(key="k-2").write(body).command_id != write.command_id
    assert write.correlation_id == "corr-1"
    assert write.fingerprint == meta(key="k-2").write(body).fingerprint
    other = body.model_copy(update={"org_unit": "elsewhere"})
    assert meta(key="k-1").write(other).fingerprint != write.fingerprint


HR = Principal("hr-1", "acme", frozenset({Role.HR}))
MANAGER = Principal("mgr-1", "acme", frozenset({Role.MANAGER}))
MANAGER_AND_HR = Principal("mgr-1", "acme", frozenset({Role.MANAGER, Role.HR}))
ONLY_HR = frozenset({Role.HR, Role.SYSTEM})


def test_a_reserved_act_counts_only_the_reserved_roles() -> None:
    case = given()
    assert not case_write_decision(MANAGER, case, "waive_obligation", ONLY_HR).allowed
    assert case_write_decision(MANAGER, case, "waive_obligation").allowed  # without reserve
    decision = case_write_decision(MANAGER_AND_HR, case, "waive_obligation", ONLY_HR)
    assert (decision.allowed, decision.basis_role) == (True, Role.HR)
    other_tenant = replace(HR, tenant="globex")
    assert case_write_decision(other_tenant, case, "x", ONLY_HR).reason == TENANT_MISMATCH


def test_the_reassigned_manager_writes_and_the_previous_one_does_not() -> None:
    case = given()
    case.reassign_manager(manager_id="mgr-2", today=TODAY)
    new = Principal("mgr-2", "acme", frozenset({Role.MANAGER}))
    assert case_write_decision(new, case, "register_sick_note").allowed
    assert not case_write_decision(MANAGER, case, "register_sick_note").allowed


@pytest.mark.parametrize(
    ("principal", "tenant", "allowed", "reason"),
    [
        (HR, "acme", True, "HR of the tenant"),
        (Principal("svc", "acme", frozenset({Role.SYSTEM})), "acme", True, "internal service call"),
        (MANAGER, "acme", False, "set_case_policy is reserved to hr or system"),
        (HR, "globex", False, TENANT_MISMATCH),
    ],
)
def test_the_tenant_records_are_hr_or_system_only(
    principal: Principal, tenant: str, allowed: bool, reason: str
) -> None:
    decision = tenant_admin_decision(principal, tenant, "set_case_policy")
    assert (decision.allowed, decision.reason) == (allowed, reason)
