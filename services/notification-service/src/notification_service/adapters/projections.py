"""What the service knows of each case, projected from case events: parties and meetings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened, ManagerReassigned
from naervaer.contracts.followup import DialogueMeetingCancelled, DialogueMeetingScheduled
from naervaer.envelope import Envelope
from notification_service.adapters.sql import insert, upsert
from notification_service.adapters.tables import case_parties, meetings
from notification_service.domain.timing import as_utc

CASE_EVENT_TYPES = frozenset(
    {
        "case.opened",
        "case.manager_reassigned",
        "case.closed",
        "case.dialogue_meeting_scheduled",
        "case.dialogue_meeting_cancelled",
    }
)


@dataclass(frozen=True)
class CaseParties:
    tenant: str
    case_id: str
    employee_id: str
    manager_id: str
    org_unit: str | None


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
        await self.apply(tx, envelope, CONTRACTS.payload(envelope))

    async def apply(self, tx: AsyncConnection, envelope: Envelope, event: BaseModel) -> None:
        if isinstance(event, CaseOpened):
            await _opened(tx, envelope, event)
        elif isinstance(event, ManagerReassigned):
            await tx.execute(
                update(case_parties)
                .where(case_parties.c.case_id == event.case_id)
                .values(manager_id=event.manager_id, updated_at=envelope.time)
            )
        elif isinstance(event, DialogueMeetingScheduled):
            await _scheduled(tx, envelope, event)
        elif isinstance(event, DialogueMeetingCancelled):
            await tx.execute(
                update(meetings)
                .where(meetings.c.case_id == event.case_id)
                .where(meetings.c.meeting_id == event.meeting_id)
                .values(status="cancelled", updated_at=envelope.time)
            )


async def parties_of(tx: AsyncConnection, case_id: str) -> CaseParties | None:
    row = (await tx.execute(select(case_parties).where(case_parties.c.case_id == case_id))).first()
    if row is None:
        return None
    return CaseParties(row.tenant, row.case_id, row.employee_id, row.manager_id, row.org_unit)


async def meeting_of(tx: AsyncConnection, case_id: str, meeting_id: str) -> Meeting | None:
    row = (
        await tx.execute(
            select(meetings).where(
                meetings.c.case_id == case_id, meetings.c.meeting_id == meeting_id
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
        "updated_at": envelope.time,
    }
    await tx.execute(insert(tx, case_parties).values(row).on_conflict_do_nothing())


async def _scheduled(
    tx: AsyncConnection, envelope: Envelope, event: DialogueMeetingScheduled
) -> None:
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
