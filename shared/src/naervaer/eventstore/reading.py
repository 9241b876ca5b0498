"""Queries that read the event store (the same SQL on PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.envelope import Envelope
from naervaer.eventstore.model import LoggedCommand, envelope_from_row
from naervaer.eventstore.tables import HEAD_ID, EventStoreTables


class EventReader:
    """Reads streams, the global log and the counters of one store."""

    def __init__(self, tables: EventStoreTables, source: str) -> None:
        self._tables = tables
        self._source = source

    async def stream(
        self,
        conn: AsyncConnection,
        stream_id: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[Envelope]:
        events = self._tables.events
        query = self._select().where(events.c.stream_id == stream_id)
        if to_version is not None:
            query = query.where(events.c.stream_version <= to_version)
        if as_of is not None:
            query = query.where(events.c.recorded_at <= as_of)
        return await self._envelopes(conn, query.order_by(events.c.stream_version))

    async def log(
        self,
        conn: AsyncConnection,
        after_position: int,
        limit: int,
        stream_types: Collection[str] | None = None,
        exclude_stream_types: Collection[str] = (),
    ) -> list[Envelope]:
        events = self._tables.events
        query = self._select().where(events.c.global_position > after_position)
        if stream_types is not None:
            query = query.where(events.c.stream_type.in_(list(stream_types)))
        if exclude_stream_types:
            query = query.where(events.c.stream_type.not_in(list(exclude_stream_types)))
        query = query.order_by(events.c.global_position).limit(limit)
        return await self._envelopes(conn, query)

    async def by_command(self, conn: AsyncConnection, command_id: str) -> list[Envelope]:
        events = self._tables.events
        query = self._select().where(events.c.command_id == command_id)
        return await self._envelopes(conn, query.order_by(events.c.global_position))

    async def logged_command(self, conn: AsyncConnection, command_id: str) -> LoggedCommand | None:
        """The command log's row of ``command_id``; None when it was never appended."""
        log = self._tables.command_log
        query = select(log.c.stream_id, log.c.fingerprint).where(log.c.command_id == command_id)
        row = (await conn.execute(query)).first()
        return None if row is None else LoggedCommand(row.stream_id, row.fingerprint)

    async def version(self, conn: AsyncConnection, stream_id: str) -> int:
        streams = self._tables.streams
        query = select(streams.c.version).where(streams.c.stream_id == stream_id)
        return int(await conn.scalar(query) or 0)

    async def head(self, conn: AsyncConnection) -> int:
        head = self._tables.event_log_head
        query = select(head.c.position).where(head.c.id == HEAD_ID)
        return int(await conn.scalar(query) or 0)

    def _select(self) -> Select[tuple[object, ...]]:
        return select(*self._tables.events.c)

    async def _envelopes(
        self, conn: AsyncConnection, query: Select[tuple[object, ...]]
    ) -> list[Envelope]:
        result = await conn.execute(query)
        return [envelope_from_row(row, self._source) for row in result.mappings()]
