"""Reading deliveries back, with their attempts: what was sent, to whom, and what failed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_service.adapters.tables import deliveries, delivery_attempts

MAX_ROWS = 500


@dataclass(frozen=True)
class AttemptView:
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error: str | None


@dataclass(frozen=True)
class DeliveryView:
    id: UUID
    case_id: str | None
    subject_key: str
    stage: str
    audience: str
    recipient_id: str
    channel: str
    template: str
    status: str
    send_after: datetime
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    attempt_log: tuple[AttemptView, ...]


async def for_case(tx: AsyncConnection, tenant: str, case_id: str) -> list[DeliveryView]:
    where = (deliveries.c.tenant == tenant, deliveries.c.case_id == case_id)
    return await _views(tx, *where)


async def for_recipient(tx: AsyncConnection, tenant: str, recipient_id: str) -> list[DeliveryView]:
    where = (deliveries.c.tenant == tenant, deliveries.c.recipient_id == recipient_id)
    return await _views(tx, *where)


async def one(tx: AsyncConnection, tenant: str, delivery_id: UUID) -> DeliveryView | None:
    found = await _views(tx, deliveries.c.tenant == tenant, deliveries.c.id == delivery_id)
    return found[0] if found else None


async def _views(tx: AsyncConnection, *where: Any) -> list[DeliveryView]:
    query = (
        select(deliveries)
        .where(*where)
        .order_by(deliveries.c.created_at.desc(), deliveries.c.id)
        .limit(MAX_ROWS)
    )
    rows = (await tx.execute(query)).all()
    logs = await _attempts(tx, [row.id for row in rows])
    return [_view(row, tuple(logs[row.id])) for row in rows]


async def _attempts(tx: AsyncConnection, ids: list[UUID]) -> dict[UUID, list[AttemptView]]:
    logs: dict[UUID, list[AttemptView]] = defaultdict(list)
    if not ids:
        return logs
    table = delivery_attempts
    rows = await tx.execute(
        select(table).where(table.c.delivery_id.in_(ids)).order_by(table.c.attempt)
    )
    for row in rows:
        logs[row.delivery_id].append(
            AttemptView(row.attempt, row.started_at, row.finished_at, row.outcome, row.error)
        )
    return logs


def _view(row: Any, attempt_log: tuple[AttemptView, ...]) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        case_id=row.case_id,
        subject_key=row.subject_key,
        stage=row.stage,
        audience=row.audience,
        recipient_id=row.recipient_id,
        channel=row.channel,
        template=row.template,
        status=row.status,
        send_after=row.send_after,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
        attempt_log=attempt_log,
    )
