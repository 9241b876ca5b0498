"""Queries that read the event store (the same SQL on PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import ColumnElement, Dialect, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.db import among, analyse
from naervaer.envelope import Envelope
from naervaer.eventstore.model import LoggedCommand, envelope_from_row
from naervaer.eventstore.tables import HEAD_ID, EventStoreTables


class EventReader:
    """Reads streams, the global log and the counters of one store.

    With ``dialect`` PostgreSQL, the stream-version read (made before every append of a
    command) and the read of a whole stream (a command loading its aggregate) go to asyncpg
    directly: through SQLAlchemy's async execution they cost more Python than the queries
    themselves (measured: a fifth of a command's CPU for the version; the stream read was
    ~10 % of the case service's CPU in W3). Both give what the SQLAlchemy reads give: the same
    rows, decoded by the same codecs the pool's connections carry.
    """

    def __init__(self, tables: EventStoreTables, source: str, dialect: Dialect) -> None:
        self._tables = tables
        self._source = source
        self._dialect = dialect.name
        self._driver_version: str | None = None
        self._driver_stream: str | None = None
        self._driver_versions: str | None = None
        self._driver_streams: str | None = None
        if dialect.name == "postgresql":
            preparer = dialect.identifier_preparer
            name = preparer.format_table(tables.streams)
            self._driver_version = f"SELECT version FROM {name} WHERE stream_id = $1"
            self._driver_versions = (
                f"SELECT stream_id, version FROM {name} WHERE stream_id = ANY($1::text[])"
            )
            columns = ", ".join(preparer.quote(c.name) for c in tables.events.c)
            events = preparer.format_table(tables.events)
            self._driver_stream = (
                f"SELECT {columns} FROM {events} WHERE stream_id = $1 ORDER BY stream_version"
            )
            self._driver_streams = (
                f"SELECT {columns} FROM {events} WHERE stream_id = ANY($1::text[]) "
                "ORDER BY stream_id, stream_version"
            )
        # The hot single-row reads, built once: building a select costs more Python than
        # running it (a command reads its stream's version before every append).
        streams, head, log = tables.streams, tables.event_log_head, tables.command_log
        self._version = select(streams.c.version).where(
            streams.c.stream_id == bindparam("stream_id")
        )
        self._head = select(head.c.position).where(head.c.id == HEAD_ID)
        self._logged = select(log.c.stream_id, log.c.fingerprint).where(
            log.c.command_id == bindparam("command_id")
        )

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
        tenants: Collection[str] | None = None,
        up_to: int | None = None,
    ) -> list[Envelope]:
        events = self._tables.events
        query = self._select().where(events.c.global_position > after_position)
        query = _of_types(query, events.c.stream_type, stream_types, exclude_stream_types)
        if up_to is not None:
            query = query.where(events.c.global_position <= up_to)
        params = None
        if tenants is not None:  # a share of a rebuild (``naervaer.messaging.rebuild``)
            query = query.where(among(events.c.tenant, "tenants", self._dialect))
            params = {"tenants": list(tenants)}
        query = query.order_by(events.c.global_position).limit(limit)
        return await self._envelopes(conn, query, params)

    async def refresh_log_statistics(self, conn: AsyncConnection) -> None:
        """PostgreSQL: ``ANALYZE`` the columns a read of the log filters and orders on."""
        c = self._tables.events.c
        columns = [c.global_position.name, c.tenant.name, c.stream_type.name]
        await analyse(conn, self._tables.events.name, columns)

    async def tenant_counts(
        self,
        conn: AsyncConnection,
        up_to: int,
        stream_types: Collection[str] | None = None,
        exclude_stream_types: Collection[str] = (),
    ) -> dict[str, int]:
        """How many events of the log up to ``up_to`` each tenant has (of those types)."""
        events = self._tables.events
        query = select(events.c.tenant, func.count()).where(events.c.global_position <= up_to)
        query = _of_types(query, events.c.stream_type, stream_types, exclude_stream_types)
        result = await conn.execute(query.group_by(events.c.tenant))
        return {tenant: int(count) for tenant, count in result.all()}

    async def by_command(self, conn: AsyncConnection, command_id: str) -> list[Envelope]:
        events = self._tables.events
        query = self._select().where(events.c.command_id == command_id)
        return await self._envelopes(conn, query.order_by(events.c.global_position))

    async def logged_command(self, conn: AsyncConnection, command_id: str) -> LoggedCommand | None:
        """The command log's row of ``command_id``; None when it was never appended."""
        row = (await conn.execute(self._logged, {"command_id": command_id})).first()
        return None if row is None else LoggedCommand(row.stream_id, row.fingerprint)

    async def version(self, conn: AsyncConnection, stream_id: str) -> int:
        if self._driver_version is not None:  # the same connection, in its transaction if any
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            return await self.driver_version(raw, stream_id)
        return int(await conn.scalar(self._version, {"stream_id": stream_id}) or 0)

    async def driver_version(self, raw: asyncpg.Connection, stream_id: str) -> int:
        """The stream's version, read on an asyncpg connection (PostgreSQL only)."""
        assert self._driver_version is not None
        return int(await raw.fetchval(self._driver_version, stream_id) or 0)

    async def driver_stream(self, raw: asyncpg.Connection, stream_id: str) -> list[Envelope]:
        """The whole stream in version order, read on an asyncpg connection (PostgreSQL)."""
        assert self._driver_stream is not None
        return self.envelopes(await raw.fetch(self._driver_stream, stream_id))

    async def driver_versions(
        self, raw: asyncpg.Connection, stream_ids: Sequence[str]
    ) -> dict[str, int]:
        """The versions of those of ``stream_ids`` that exist, in one statement (PostgreSQL)."""
        assert self._driver_versions is not None
        return dict(await raw.fetch(self._driver_versions, stream_ids))

    async def driver_streams(
        self, raw: asyncpg.Connection, stream_ids: Sequence[str]
    ) -> dict[str, list[asyncpg.Record]]:
        """The rows of those of ``stream_ids`` that have events, each stream's in version
        order, in one statement (PostgreSQL); ``envelopes`` makes them a stream's envelopes."""
        assert self._driver_streams is not None
        rows = await raw.fetch(self._driver_streams, stream_ids)
        return {
            stream_id: list(stream)
            for stream_id, stream in groupby(rows, key=itemgetter("stream_id"))
        }

    def envelopes(self, rows: Iterable[Mapping[str, Any]] | None) -> list[Envelope]:
        """A stream's envelopes from its rows (none: a stream without events)."""
        return [envelope_from_row(row, self._source) for row in rows or ()]

    async def head(self, conn: AsyncConnection) -> int:
        return int(await conn.scalar(self._head) or 0)

    def _select(self) -> Select[tuple[object, ...]]:
        return select(*self._tables.events.c)

    async def _envelopes(
        self,
        conn: AsyncConnection,
        query: Select[tuple[object, ...]],
        params: Mapping[str, object] | None = None,
    ) -> list[Envelope]:
        result = await conn.execute(query, params)
        return [envelope_from_row(row, self._source) for row in result.mappings()]


_S = TypeVar("_S", bound=Select[Any])


def _of_types(
    query: _S,
    column: ColumnElement[str],
    stream_types: Collection[str] | None,
    exclude_stream_types: Collection[str],
) -> _S:
    if stream_types is not None:
        query = query.where(column.in_(list(stream_types)))
    if exclude_stream_types:
        query = query.where(column.not_in(list(exclude_stream_types)))
    return query
