"""Projection of case events into the parties a reminder can go to."""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened
from naervaer.envelope import Envelope
from notification_service.adapters.tables import case_parties


class CasePartiesProjection:
    """The employee (arbeidstaker) and nearest manager (nærmeste leder) of each case."""

    name = "notification-service.case-parties"
    event_types: frozenset[str] | None = frozenset({"case.opened"})

    async def reset(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(case_parties))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        event = CONTRACTS.payload(envelope)
        if isinstance(event, CaseOpened):
            await tx.execute(
                insert(case_parties).values(
                    case_id=event.case_id,
                    tenant=envelope.tenant,
                    employee_id=event.employee_id,
                    manager_id=event.manager_id,
                    updated_at=envelope.time,
                )
            )
