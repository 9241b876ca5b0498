"""Projection of case events into what the obligation timeline is computed from."""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters.tables import case_starts
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened
from naervaer.envelope import Envelope


class CaseStartProjection:
    """Each case's tenant, manager, unit and start S (oppfølgingstilfellets startdato)."""

    name = "deadline-service.case-starts"
    event_types: frozenset[str] | None = frozenset({"case.opened"})

    async def reset(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(case_starts))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        event = CONTRACTS.payload(envelope)
        if isinstance(event, CaseOpened):
            await tx.execute(
                insert(case_starts).values(
                    case_id=event.case_id,
                    tenant=envelope.tenant,
                    manager_id=event.manager_id,
                    org_unit=event.org_unit,
                    case_start=event.first_absence_day,
                    version=envelope.streamversion,
                    updated_at=envelope.time,
                )
            )
