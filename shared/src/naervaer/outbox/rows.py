"""The relay's SQL: pending events in position order, marking their rows published, the lag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, Table, bindparam, func, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer import on_driver
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
    """How far the relay is behind: events not yet acknowledged and the age of the oldest."""

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
        # The oldest pending rows, then their events: whole rows only (an append's events go
        # together), and no row that starts past ``limit`` events, so a batch holds at most
        # ``limit`` events plus the rest of the row that crosses it.
        first = outbox.c.global_position
        oldest = (
            select(
                first.label("outbox_position"),
                _last_position(outbox).label("last_position"),
                _events_named(outbox).label("size"),
                outbox.c.topic,
                outbox.c.message_key,
            )
            .where(outbox.c.published_at.is_(None))
            .order_by(first)
            .limit(bindparam("limit", type_=Integer))
            .subquery("oldest")
        )
        size = oldest.c.size
        running = select(
            oldest,
            (func.sum(size).over(order_by=oldest.c.outbox_position) - size).label("before"),
        ).subquery("running")
        in_row = events.c.global_position.between(
            running.c.outbox_position, running.c.last_position
        )
        if postgres:
            # LATERAL, with a LIMIT so that the planner keeps it: an index range scan of the
            # events per row. On a join by BETWEEN alone PostgreSQL scanned every event and
            # filtered (465 ms a drain with 20 000 events stored).
            ranged = select(events).where(in_row).limit(running.c.size).lateral("ranged")
            joined, columns = running.join(ranged, true()), ranged.c
        else:
            joined, columns = running.join(events, in_row), events.c
        self._pending = (
            select(*columns, running.c.topic, running.c.message_key, running.c.outbox_position)
            .select_from(joined)
            .where(running.c.before < bindparam("limit", type_=Integer))
            .order_by(columns.global_position)
        )
        # ``among``: on PostgreSQL one array parameter, the same prepared statement for every
        # batch size. The end published goes with the mark (the table's check wants it).
        dialect = "postgresql" if postgres else "sqlite"
        self._mark_published = (
            update(outbox)
            .where(among(outbox.c.global_position, "positions", dialect))
            .values(
                published_at=bindparam("at", type_=outbox.c.published_at.type),
                published_through=outbox.c.last_position,
            )
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
        rows = await on_driver.fetch(conn, self._pending, {"limit": limit})
        envelopes = [
            (
                envelope_from_row(row._asdict(), self._source),
                row.topic,
                row.message_key,
                row.outbox_position,
            )
            for row in rows
        ]
        return [
            PendingRow(
                envelope=envelope,
                topic=topic,
                key=key,
                traceparent=envelope.traceparent,
                tracestate=envelope.tracestate,
                outbox_position=outbox_position,
            )
            for envelope, topic, key, outbox_position in envelopes
        ]

    async def mark_published(
        self, conn: AsyncConnection, rows: Sequence[PendingRow], at: datetime
    ) -> None:
        """Mark the outbox rows of ``rows`` (whole rows, as ``pending`` read them)."""
        positions = sorted({row.outbox_position for row in rows})
        await on_driver.execute(conn, self._mark_published, {"positions": positions, "at": at})

    async def lag(self, conn: AsyncConnection, now: datetime) -> OutboxLag:
        outbox = self._tables.outbox
        query = select(
            func.coalesce(func.sum(_events_named(outbox)), 0), func.min(outbox.c.created_at)
        ).where(outbox.c.published_at.is_(None))
        pending, oldest = (await conn.execute(query)).one()
        age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        return OutboxLag(pending=int(pending), oldest_age_s=age)


def _last_position(outbox: Table) -> ColumnElement[int]:
    """The position of an outbox row's last event (its own, for a row of one event)."""
    return func.coalesce(outbox.c.last_position, outbox.c.global_position)


def _events_named(outbox: Table) -> ColumnElement[int]:
    """How many events an outbox row names."""
    return _last_position(outbox) - outbox.c.global_position + 1
