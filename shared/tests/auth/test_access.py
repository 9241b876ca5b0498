"""Access records (innsynslogg) and their integration event ``access.recorded``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from naervaer.auth.access import (
    ACCESS_RECORDED,
    AccessRecord,
    access_record,
    register_access_events,
)
from naervaer.auth.policy import Decision
from naervaer.auth.principal import Principal, Role
from naervaer.registry import EventRegistry

OSLO_WINTER = timezone(timedelta(hours=1))
CALLER = Principal("m1", "t1", frozenset({Role.MANAGER, Role.EMPLOYEE}), "tok-1")


def record(decision: Decision, operation: str = "read") -> AccessRecord:
    return access_record(
        CALLER,
        decision,
        operation=operation,
        resource="case",
        resource_id="c1",
        case_id="c1",
        at=datetime(2026, 3, 2, 9, 0, tzinfo=OSLO_WINTER),
        correlation_id="corr-1",
    )


@pytest.mark.parametrize(
    ("decision", "operation", "action"),
    [
        (Decision(True, "manages the case", Role.MANAGER), "read", "read"),
        (Decision(True, "manages the case", Role.MANAGER), "sign", "write"),
        (Decision(False, "no role permits sign", None), "sign", "denied"),
        (Decision(False, "no role permits read", None), "read", "denied"),
    ],
)
def test_action_follows_operation_and_decision(
    decision: Decision, operation: str, action: str
) -> None:
    entry = record(decision, operation)
    assert (entry.action, entry.operation, entry.basis_role) == (
        action,
        operation,
        decision.basis_role,
    )
    assert entry.reason == decision.reason


def test_who_what_when_why() -> None:
    entry = record(Decision(True, "manages the case", Role.MANAGER))
    assert (entry.tenant, entry.subject, entry.roles) == ("t1", "m1", [Role.EMPLOYEE, Role.MANAGER])
    assert (entry.resource, entry.resource_id, entry.case_id) == ("case", "c1", "c1")
    assert entry.at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert entry.at.utcoffset() == timedelta(0)
    assert (entry.correlation_id, entry.token_id) == ("corr-1", "tok-1")


def test_naive_time_refused() -> None:
    entry = record(Decision(True, "x", Role.HR))
    with pytest.raises(ValidationError):
        AccessRecord.model_validate(entry.model_dump() | {"at": datetime(2026, 3, 2, 9, 0)})


def test_registered_as_integration_event_and_round_trips() -> None:
    registry = EventRegistry()
    register_access_events(registry)
    entry = record(Decision(True, "manages the case", Role.MANAGER))
    assert registry.get(ACCESS_RECORDED).model is AccessRecord
    assert AccessRecord.model_validate_json(entry.model_dump_json()) == entry
    schema = AccessRecord.model_json_schema()
    assert "basis_role" in schema["required"]
