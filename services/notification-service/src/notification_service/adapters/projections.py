"""What the service knows of each case, projected from case events: parties and meetings.

Personal fields arrive sealed with the employee's key and are read here in clear. Once the
employee's data is erased (``employee.personal_data_erased``) the case's rows go and stay gone:
an event of an erased case (redelivered, or replayed by a rebuild, where its personal fields
read ``[erased]``) writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import Result, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened, ManagerReassigned
from naervaer.contracts.employee import PersonalDataErased
from naervaer.contracts.followup import DialogueMeetingCancelled, DialogueMeetingScheduled
from naervaer.envelope import Envelope
from naervaer.privacy import ERASED, KEYRING, sealing_key_id
from notification_service.adapters import erasure
from notification_service.adapters.sql import insert, upsert
from notification_service.adapters.tables import case_parties, meetings
from notification_service.domain.timing import as_utc

log = structlog.get_logger(__name__)

CASE_EVENT_TYPES = frozenset(
    {
        "case.opened",
        "case.manager_reassigned",
        "case.closed",
        "case.dialogue_meeting_scheduled",
        "case.dialogue_meeting_cancelled",
        "employee.personal_data_erased",
    }
)


@dataclass(frozen=True)
class CaseParties:
    tenant: str
    case_id: str
    employee_id: str
    manager_id: str
    org_unit: str | None
    key_id: str | None  # the employee's key, which the case's personal fields are sealed with


@dataclass(frozen=True)
class Meeting:
    meeting_number: int
    starts_at: datetime
    participants: list[dict[str, Any]]
    status: str


class CaseProjection:
    """The employee (arbeidstaker), nearest manager (nærmeste leder) and meetings of a case."""

    name = "notification-service.cases"
    event_types: frozenset[str] | None = CASE_EVENT_TYPES

    async def reset(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(meetings))
        await tx.execute(delete(case_parties))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        event = CONTRACTS.payload(envelope)
        if not await forgotten(tx, envelope.tenant, event):
            await self.apply(tx, envelope, event)

    async def apply(self, tx: AsyncConnection, envelope: Envelope, event: BaseModel) -> None:
        """Project ``event``; the caller has checked it is not about an erased case."""
        if isinstance(event, PersonalDataErased):
            await _erased(tx, envelope, event)
        elif isinstance(event, CaseOpened):
            await _opened(tx, envelope, event)
        elif isinstance(event, ManagerReassigned):
            await tx.execute(
                update(case_parties)
                .where(case_parties.c.tenant == envelope.tenant)
                .where(case_parties.c.case_id == event.case_id)
                .values(manager_id=event.manager_id, updated_at=envelope.time)
            )
        elif isinstance(event, DialogueMeetingScheduled):
            await _scheduled(tx, envelope, event)
        elif isinstance(event, DialogueMeetingCancelled):
            await tx.execute(
                update(meetings)
                .where(meetings.c.tenant == envelope.tenant)
                .where(meetings.c.case_id == event.case_id)
                .where(meetings.c.meeting_id == event.meeting_id)
                .values(status="cancelled", updated_at=envelope.time)
            )


async def forgotten(tx: AsyncConnection, tenant: str, event: BaseModel) -> bool:
    """Whether ``event`` of ``tenant`` is about an erased case: its key is gone, or its case
    is tombstoned by that tenant.

    The erasure event itself is never forgotten: a rebuild replays it to delete again.
    """
    if isinstance(event, PersonalDataErased):
        return False
    if mentions_erased(event.model_dump(mode="json")):
        return True
    case_id = getattr(event, "case_id", None)
    return isinstance(case_id, str) and await erasure.is_erased(tx, tenant, case_id)


def mentions_erased(data: Any) -> bool:
    """Whether a personal field reads ``[erased]`` anywhere in the (unsealed) payload."""
    if isinstance(data, dict):
        return any(mentions_erased(value) for value in data.values())
    if isinstance(data, list):
        return any(mentions_erased(item) for item in data)
    return isinstance(data, str) and data == ERASED


async def parties_of(tx: AsyncConnection, tenant: str, case_id: str) -> CaseParties | None:
    """The case's parties, when the case is ``tenant``'s."""
    mine = (case_parties.c.tenant == tenant, case_parties.c.case_id == case_id)
    return _parties(await tx.execute(select(case_parties).where(*mine)))


async def parties_in_any_tenant(tx: AsyncConnection, case_id: str) -> CaseParties | None:
    """The case's parties, whoever's it is: for a caller whose access policy then decides,
    seeing the case's tenant."""
    return _parties(await tx.execute(select(case_parties).where(case_parties.c.case_id == case_id)))


def _parties(result: Result[Any]) -> CaseParties | None:
    row = result.first()
    if row is None:
        return None
    return CaseParties(
        row.tenant, row.case_id, row.employee_id, row.manager_id, row.org_unit, row.key_id
    )


async def cases_of(tx: AsyncConnection, tenant: str, employee_id: str) -> list[str]:
    """The ids of the employee's cases this service knows of."""
    rows = await tx.execute(
        select(case_parties.c.case_id).where(
            case_parties.c.tenant == tenant, case_parties.c.employee_id == employee_id
        )
    )
    return sorted(row.case_id for row in rows)


async def meeting_of(
    tx: AsyncConnection, tenant: str, case_id: str, meeting_id: str
) -> Meeting | None:
    row = (
        await tx.execute(
            select(meetings).where(
                meetings.c.tenant == tenant,
                meetings.c.case_id == case_id,
                meetings.c.meeting_id == meeting_id,
            )
        )
    ).first()
    if row is None:
        return None
    return Meeting(row.meeting_number, row.starts_at, list(row.participants), row.status)


async def _opened(tx: AsyncConnection, envelope: Envelope, event: CaseOpened) -> None:
    row = {
        "case_id": event.case_id,
        "tenant": envelope.tenant,
        "employee_id": event.employee_id,
        "manager_id": event.manager_id,
        "org_unit": event.org_unit,
        "key_id": sealing_key_id(envelope.data),
        "updated_at": envelope.time,
    }
    await tx.execute(insert(tx, case_parties).values(row).on_conflict_do_nothing())


async def _erased(tx: AsyncConnection, envelope: Envelope, event: PersonalDataErased) -> None:
    # The key is destroyed in the vault; this process's cache must not keep reading with it.
    KEYRING.forget(event.key_id)
    order = erasure.Erasure(envelope.tenant, event.key_id, tuple(event.case_ids), event.erased_on)
    erased = await erasure.erase(tx, order, now=envelope.time)
    log.info(
        "personal data erased",
        cases=erased.cases,
        deliveries=erased.deliveries,
        recipients=erased.recipients,
    )


async def _scheduled(
    tx: AsyncConnection, envelope: Envelope, event: DialogueMeetingScheduled
) -> None:
    if await parties_of(tx, envelope.tenant, event.case_id) is None:
        return  # not a case of the event's tenant (its case.opened always comes first)
    row = {
        "case_id": event.case_id,
        "meeting_id": event.meeting_id,
        "tenant": envelope.tenant,
        "meeting_number": event.meeting_number,
        "starts_at": as_utc(event.starts_at),
        "participants": [p.model_dump(mode="json") for p in event.participants],
        "status": "scheduled",
        "updated_at": envelope.time,
    }
    await upsert(tx, meetings, row, ["case_id", "meeting_id"])
