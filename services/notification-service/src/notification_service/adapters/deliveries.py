"""The deliveries table: recording decisions once, claiming due ones, logging each attempt.

Exactly-once has two halves. Deciding: ``record`` runs in the consumer's transaction with its
inbox row and inserts with ON CONFLICT DO NOTHING on (tenant, subject, stage, recipient,
channel), so neither a redelivered event nor a re-announced deadline adds a second row.
Sending: ``claim_next`` marks one due row 'sending' with a fresh attempt id and commits that
*before* the channel is called; ``finish`` settles it only if that attempt still owns it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from notification_service.adapters.sql import insert
from notification_service.adapters.tables import deliveries, delivery_attempts
from notification_service.domain.planning import Notice

Outcome = Literal["sent", "retry", "failed"]
ABANDONED = "the worker stopped during this attempt; whether it arrived is unknown"


@dataclass(frozen=True)
class Claim:
    """A delivery this worker now owns for one attempt."""

    id: UUID
    tenant: str
    case_id: str | None
    subject_key: str
    stage: str
    audience: str
    recipient_id: str
    channel: str
    template: str
    facts: dict[str, Any]
    attempt: int
    attempt_id: UUID
    key_id: str | None = None


async def record(
    tx: AsyncConnection,
    tenant: str,
    case_id: str | None,
    notices: Iterable[Notice],
    *,
    now: datetime,
    source_event_id: UUID | None,
    key_id: str | None = None,
) -> list[UUID]:
    """Insert one pending delivery per notice not decided before; the ids of the new ones.

    ``key_id`` is the key the case's personal data is sealed with (none for a test message).
    """
    created = []
    for notice in notices:
        row = _row(tenant, case_id, notice, now=now, source_event_id=source_event_id)
        row["key_id"] = key_id
        statement = insert(tx, deliveries).values(row).on_conflict_do_nothing()
        if (await tx.execute(statement)).rowcount == 1:
            created.append(row["id"])
    return created


async def claim_next(engine: AsyncEngine, now: datetime, lease: timedelta) -> Claim | None:
    """Take the next due delivery: pending and due, or 'sending' with its lease run out."""
    async with engine.begin() as tx:
        row = (await tx.execute(_due_query(now))).first()
        if row is None:
            return None
        attempt, attempt_id = row.attempts + 1, uuid.uuid4()
        if row.status == "sending":  # an earlier worker died mid-send
            await _close_attempt(tx, row.attempt_id, "abandoned", ABANDONED, now)
        await tx.execute(
            update(deliveries)
            .where(deliveries.c.id == row.id)
            .values(
                status="sending",
                attempts=attempt,
                attempt_id=attempt_id,
                lease_expires_at=now + lease,
                updated_at=now,
            )
        )
        await tx.execute(
            delivery_attempts.insert().values(
                delivery_id=row.id, attempt=attempt, attempt_id=attempt_id, started_at=now
            )
        )
    return _claim(row, attempt, attempt_id)


async def finish(
    engine: AsyncEngine,
    claim: Claim,
    outcome: Outcome,
    *,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    subject: str | None = None,
) -> bool:
    """Settle the attempt; False when another worker has taken the delivery over meanwhile.

    ``subject`` is the rendered subject line of a sent message, kept for the export.
    """
    values: dict[str, Any] = {"updated_at": now, "lease_expires_at": None}
    if error is not None:
        values["last_error"] = error[:2000]
    if outcome == "sent":
        values.update(status="sent", sent_at=now, rendered_subject=subject)
    elif outcome == "retry":
        values.update(status="pending", send_after=retry_at or now)
    else:
        values.update(status="failed")
    async with engine.begin() as tx:
        result = await tx.execute(
            update(deliveries)
            .where(deliveries.c.id == claim.id, deliveries.c.attempt_id == claim.attempt_id)
            .where(deliveries.c.status == "sending")
            .values(**values)
        )
        await _close_attempt(tx, claim.attempt_id, outcome, error, now)
    return bool(result.rowcount == 1)


async def drop(engine: AsyncEngine, claim: Claim) -> bool:
    """Delete a claimed delivery unsent (its case was erased), if this attempt still owns it."""
    async with engine.begin() as tx:
        owned = await tx.execute(
            select(deliveries.c.id).where(
                deliveries.c.id == claim.id, deliveries.c.attempt_id == claim.attempt_id
            )
        )
        if owned.first() is None:
            return False
        await tx.execute(
            delete(delivery_attempts).where(delivery_attempts.c.delivery_id == claim.id)
        )
        await tx.execute(delete(deliveries).where(deliveries.c.id == claim.id))
    return True


async def create_now(engine: AsyncEngine, tenant: str, notice: Notice, *, now: datetime) -> UUID:
    """Record a one-off delivery (a test message) in its own transaction."""
    async with engine.begin() as tx:
        (created,) = await record(tx, tenant, None, [notice], now=now, source_event_id=None)
    return created


async def cancel_pending(
    tx: AsyncConnection,
    tenant: str,
    case_id: str,
    stages: Iterable[str],
    *,
    reason: str,
    now: datetime,
) -> int:
    """Cancel ``tenant``'s deliveries about the case of ``stages`` not yet attempted; how
    many were."""
    result = await tx.execute(
        update(deliveries)
        .where(deliveries.c.tenant == tenant, deliveries.c.case_id == case_id)
        .where(deliveries.c.status == "pending")
        .where(deliveries.c.stage.in_(list(stages)), deliveries.c.attempts == 0)
        .values(status="cancelled", last_error=reason, updated_at=now)
    )
    return int(result.rowcount)


def _due_query(now: datetime) -> Any:
    due = or_(
        and_(deliveries.c.status == "pending", deliveries.c.send_after <= now),
        and_(deliveries.c.status == "sending", deliveries.c.lease_expires_at <= now),
    )
    # SKIP LOCKED: replicas each take a different row instead of queueing behind one another
    # (SQLite has no row locks: its BEGIN IMMEDIATE already lets one writer in at a time).
    return (
        select(deliveries)
        .where(due)
        .order_by(deliveries.c.send_after)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


async def _close_attempt(
    tx: AsyncConnection, attempt_id: UUID | None, outcome: str, error: str | None, now: datetime
) -> None:
    if attempt_id is None:
        return
    await tx.execute(
        update(delivery_attempts)
        .where(delivery_attempts.c.attempt_id == attempt_id)
        .where(delivery_attempts.c.finished_at.is_(None))
        .values(finished_at=now, outcome=outcome, error=None if error is None else error[:2000])
    )


def _row(
    tenant: str, case_id: str | None, notice: Notice, *, now: datetime, source_event_id: UUID | None
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant": tenant,
        "case_id": case_id,
        "subject_key": notice.subject_key,
        "stage": notice.stage,
        "audience": notice.audience,
        "recipient_id": notice.recipient_id,
        "channel": notice.channel,
        "template": notice.template,
        "facts": dict(notice.facts),
        "status": "pending",
        "send_after": notice.send_after,
        "attempts": 0,
        "source_event_id": source_event_id,
        "created_at": now,
        "updated_at": now,
    }


def _claim(row: Row[Any], attempt: int, attempt_id: UUID) -> Claim:
    return Claim(
        id=row.id,
        tenant=row.tenant,
        case_id=row.case_id,
        subject_key=row.subject_key,
        stage=row.stage,
        audience=row.audience,
        recipient_id=row.recipient_id,
        channel=row.channel,
        template=row.template,
        facts=dict(row.facts),
        attempt=attempt,
        attempt_id=attempt_id,
        key_id=row.key_id,
    )
