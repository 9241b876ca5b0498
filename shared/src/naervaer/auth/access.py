"""Access records (innsynslogg): who read or changed which case, when, and on which role.

Every read of a case, every write and every refusal yields an ``AccessRecord``. Services hand
it to their ``AccessRecorder`` hook, which publishes it as the integration event
``access.recorded``; the document service keeps them so an employee can be told who saw
their case.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Literal, Protocol

import structlog
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from naervaer.auth.policy import Decision
from naervaer.auth.principal import Principal, Role
from naervaer.registry import EventRegistry

ACCESS_RECORDED = "access.recorded"
ACCESS_EVENTS_TOPIC = "naervaer.access-events"

AccessAction = Literal["read", "write", "denied"]


class AccessRecord(BaseModel):
    """Someone read, changed or was refused a resource (innsyn i sykefraværstilfelle)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str = Field(description="Tenant (employer) of the caller and the resource.")
    subject: str = Field(description="Who: the caller's subject (sub claim).")
    roles: list[Role] = Field(description="All roles the caller held.")
    basis_role: Role | None = Field(description="The role the access rested on; None if denied.")
    action: AccessAction = Field(description="read, write, or denied (refused attempt).")
    operation: str = Field(description="What was asked: read, or the write action (e.g. sign).")
    resource: str = Field(description="Kind of resource, e.g. case, document, plan.")
    resource_id: str = Field(description="Id of the resource.")
    case_id: str | None = Field(default=None, description="The case the resource belongs to.")
    at: AwareDatetime = Field(description="When (UTC).")
    reason: str = Field(description="Why allowed or refused, from the policy decision.")
    correlation_id: str | None = Field(default=None, description="Request correlation id.")
    token_id: str | None = Field(default=None, description="jti of the bearer token.")

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class AccessRecorder(Protocol):
    """The hook a service provides: publish (or store) one access record."""

    def __call__(self, record: AccessRecord) -> Awaitable[None]: ...


def access_record(
    principal: Principal,
    decision: Decision,
    *,
    operation: str,
    resource: str,
    resource_id: str,
    at: datetime,
    case_id: str | None = None,
    correlation_id: str | None = None,
) -> AccessRecord:
    """The record of ``principal`` asking for ``operation`` and the policy's ``decision``."""
    return AccessRecord(
        tenant=principal.tenant,
        subject=principal.subject,
        roles=sorted(principal.roles),
        basis_role=decision.basis_role,
        action=_action(decision, operation),
        operation=operation,
        resource=resource,
        resource_id=resource_id,
        case_id=case_id,
        at=at,
        reason=decision.reason,
        correlation_id=correlation_id,
        token_id=principal.token_id,
    )


READ_OPERATIONS = frozenset({"read", "export"})
"""Operations that only read (an export of everything held about an employee is a read)."""


def _action(decision: Decision, operation: str) -> AccessAction:
    if not decision.allowed:
        return "denied"
    return "read" if operation in READ_OPERATIONS else "write"


def register_access_events(registry: EventRegistry) -> None:
    """Register ``access.recorded`` in the contracts registry."""
    registry.register(ACCESS_RECORDED, AccessRecord)


async def log_access(record: AccessRecord) -> None:
    """The access recorder of services with no audit feed yet: one structured log line each."""
    structlog.get_logger("naervaer.access").info(
        "access", **record.model_dump(mode="json", exclude_none=True)
    )
