"""The relay's SQL: pending rows in position order, marking them published, the lag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.db import among
from naervaer.eventstore import EventStoreTables, envelope_from_row
from naervaer.outbox.messages import PendingRow

# First key of the two-key advisory lock: "outbox" in the naervaer lock namespace. A session
# lock: the relay that holds it leads, publishing, until its connection ends.
_LOCK_NAMESPACE = 0x4E4F42
_TRY_LEAD = text(
    "SELECT pg_try_advisory_lock(CAST(:namespace AS integer), "
    "hashtext(coalesce(current_schema(), '') || '.' || CAST(:table AS text)))"
)


@dataclass(frozen=True)
class OutboxLag:
    """How far the relay is behind: rows not yet acknowledged and the age of the oldest."""

    pending: int
    oldest_age_s: float


class OutboxRows:
    """Reads and updates one service's outbox table."""

    def __init__(self, tables: EventStoreTables, source: str, *, postgres: bool) -> None:
        self._tables = tables
        self._source = source
        self._postgres = postgres
        # Built once: a drain runs at every append's NOTIFY, and building a statement cost
        # more CPU than running it (issue 8: ~70 % of a one-row drain's Python time).
        outbox, events = tables.outbox, tables.events
        self._pending = (
            select(*events.c, outbox.c.topic, outbox.c.message_key)
            .select_from(outbox.join(events, outbox.c.global_position == events.c.global_position))
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.global_position)
            .limit(bindparam("limit", type_=Integer))
        )
        # ``among``: on PostgreSQL one array parameter, the same prepared statement for every
        # batch size.
        dialect = "postgresql" if postgres else "sqlite"
        self._mark_published = (
            update(outbox)
            .where(among(outbox.c.global_position, "positions", dialect))
            .values(published_at=bindparam("at", type_=outbox.c.published_at.type))
        )

    async def try_lead(self, conn: AsyncConnection) -> bool:
        """PostgreSQL: become the only publishing relay for as long as ``conn`` lives.

        One publisher at a time keeps replicas from overtaking each other's batches (which
        would break per-key order). The lock is the session's: it ends with the connection
        (a crash, a lost connection, ``OutboxRelay.aclose``), and another replica's relay
        takes over at its next try. SQLite is a single process: always True.
        """
        if not self._postgres:
            return True
        params = {"namespace": _LOCK_NAMESPACE, "table": self._tables.outbox.name}
        return bool(await conn.scalar(_TRY_LEAD, params))

    async def pending(self, conn: AsyncConnection, limit: int) -> list[PendingRow]:
        result = await conn.execute(self._pending, {"limit": limit})
        envelopes = [
            (envelope_from_row(row, self._source), row["topic"], row["message_key"])
            for row in result.mappings()
        ]
        return [
            PendingRow(
                envelope=envelope,
                topic=topic,
                key=key,
                traceparent=envelope.traceparent,
                tracestate=envelope.tracestate,
            )
            for envelope, topic, key in envelopes
        ]

    async def mark_published(
        self, conn: AsyncConnection, rows: Sequence[PendingRow], at: datetime
    ) -> None:
        positions = [row.position for row in rows]
        await conn.execute(self._mark_published, {"positions": positions, "at": at})

    async def lag(self, conn: AsyncConnection, now: datetime) -> OutboxLag:
        outbox = self._tables.outbox
        query = select(func.count(), func.min(outbox.c.created_at)).where(
            outbox.c.published_at.is_(None)
        )
        pending, oldest = (await conn.execute(query)).one()
        age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        return OutboxLag(pending=int(pending), oldest_age_s=age)
