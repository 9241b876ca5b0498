"""The three systems W1 and W2 compare, behind one small interface.

Each writes the same JSON payload. ``append_one`` is one command under optimistic concurrency:
read the stream's version, append one event expecting it, and on a conflict read and try again.
``append_batch`` writes a new stream of ``count`` events in one append (an imported history).
"""

from __future__ import annotations

import json
from typing import Protocol

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.machine import plain_url
from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import (
    HEAD_SEED,
    ConcurrencyConflict,
    EventStore,
    NewEvent,
    event_store_tables,
)

EVENT_TYPE = "case.sick_note_received"
PAYLOAD = {
    "case_id": "6a0c7a7e-1d6c-4f1e-9b8e-2f0f3f8f5c11",
    "sick_note_id": "n-1",
    "period_start": "2026-01-08",
    "period_end": "2026-01-25",
    "grade": 100,
    "kind": "ordinary",
    "received_on": "2026-01-09",
}
PAYLOAD_JSON = json.dumps(PAYLOAD)
OUTBOX_TOPIC = "naervaer.case-events"


class Writer(Protocol):
    name: str

    async def open(self, concurrency: int) -> None:
        """Connect with a pool of ``concurrency`` connections (tables made on first open)."""
        ...

    async def close(self) -> None: ...

    async def append_one(self, stream: str) -> int:
        """One event to ``stream`` under optimistic concurrency; returns the conflicts met."""
        ...

    async def append_batch(self, stream: str, count: int) -> None:
        """A new ``stream`` of ``count`` events, in one append."""
        ...


class NaervaerWriter:
    """Nærvær's ``EventStore`` as the case service configures it: outbox rows included, one
    per append (``NAERVAER_OUTBOX_ROW_PER_APPEND``, off by default for rolling deploys from
    older builds; W1's one-event appends write one row either way)."""

    name = "naervaer"
    schema = "naervaer_store"

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None
        self._store: EventStore | None = None
        self._event = NewEvent(EVENT_TYPE, PAYLOAD)

    async def open(self, concurrency: int) -> None:
        metadata = MetaData()
        tables = event_store_tables(metadata)
        engine = create_engine(
            DatabaseTarget(self._url, self.schema), pool_size=concurrency, max_overflow=0
        )
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {self.schema}"))
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(
                text(
                    "INSERT INTO event_log_head (id, position) VALUES (:id, :position) "
                    "ON CONFLICT DO NOTHING"
                ),
                HEAD_SEED,
            )
        self._engine = engine
        self._store = EventStore(
            engine,
            tables,
            source="/bench",
            outbox_topic=OUTBOX_TOPIC,
            service="bench",
            outbox_row_per_append=True,
        )

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = self._store = None

    async def append_one(self, stream: str) -> int:
        store = self._opened()
        conflicts = 0
        while True:
            version = await store.stream_version(stream)
            try:
                await store.append(stream, [self._event], tenant="bench", expected_version=version)
                return conflicts
            except ConcurrencyConflict:
                conflicts += 1

    async def append_batch(self, stream: str, count: int) -> None:
        events = [self._event] * count
        await self._opened().append(stream, events, tenant="bench", expected_version=0)

    def _opened(self) -> EventStore:
        if self._store is None:
            raise RuntimeError("writer not opened")
        return self._store


class _NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """The floor pays no reset on release: asyncpg's default sends one more round trip per
    command (``RESET ALL``, ``UNLISTEN *``, …), which is not the physical limit of the box;
    the writers here leave nothing behind to reset (no session state, no open transaction)."""

    def get_reset_query(self) -> str:
        return ""


class AsyncpgWriter:
    """The floor: hand-written SQL on raw asyncpg, primary key (stream, version), no more."""

    name = "asyncpg"

    def __init__(self, url: str) -> None:
        self._url = plain_url(url)
        self._pool: asyncpg.Pool | None = None

    async def open(self, concurrency: int) -> None:
        self._pool = await asyncpg.create_pool(
            self._url,
            min_size=concurrency,
            max_size=concurrency,
            connection_class=_NoResetConnection,
        )
        await self._pool.execute(
            "CREATE TABLE IF NOT EXISTS raw_events (stream_id text NOT NULL, version integer "
            "NOT NULL, data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), "
            "PRIMARY KEY (stream_id, version))"
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        self._pool = None

    async def append_one(self, stream: str) -> int:
        conflicts = 0
        async with self._opened().acquire() as conn:
            while True:
                version = await conn.fetchval(
                    "SELECT coalesce(max(version), 0) FROM raw_events WHERE stream_id = $1", stream
                )
                try:
                    await conn.execute(
                        "INSERT INTO raw_events (stream_id, version, data) "
                        "VALUES ($1, $2, $3::jsonb)",
                        stream,
                        version + 1,
                        PAYLOAD_JSON,
                    )
                    return conflicts
                except asyncpg.UniqueViolationError:
                    conflicts += 1

    async def append_batch(self, stream: str, count: int) -> None:
        await self._opened().execute(
            "INSERT INTO raw_events (stream_id, version, data) "
            "SELECT $1, v, CAST(d AS jsonb) FROM unnest($2::integer[], $3::text[]) AS t(v, d)",
            stream,
            list(range(1, count + 1)),
            [PAYLOAD_JSON] * count,
        )

    def _opened(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("writer not opened")
        return self._pool
