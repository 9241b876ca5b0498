"""Fixtures for the outbox tests: a store with an outbox on SQLite and PostgreSQL, a test
tracer, and a way to read a topic back from the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import EventStore, EventStoreTables, event_store_tables
from naervaer.outbox import OutboxRelay

Consume = Callable[[str, str, int], Awaitable[list[ConsumerRecord]]]
Until = Callable[[Callable[[], Awaitable[bool]], str], Awaitable[None]]
Running = Callable[[OutboxRelay], contextlib.AbstractAsyncContextManager[None]]


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseTarget:
    if request.param == "sqlite":
        return DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}", None)
    return DatabaseTarget(request.getfixturevalue("fresh_database"), "outbox_test")


@pytest.fixture
def pg_target(fresh_database: str) -> DatabaseTarget:
    return DatabaseTarget(fresh_database, "outbox_test")


@pytest.fixture
async def engine(target: DatabaseTarget) -> AsyncIterator[AsyncEngine]:
    async for engine in _engine(target):
        yield engine


@pytest.fixture
async def pg_engine(pg_target: DatabaseTarget) -> AsyncIterator[AsyncEngine]:
    async for engine in _engine(pg_target):
        yield engine


async def _engine(target: DatabaseTarget) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(target)
    async with engine.begin() as conn:
        if target.schema:
            await conn.execute(text(f'CREATE SCHEMA "{target.schema}"'))
    yield engine
    await engine.dispose()


async def _tables(engine: AsyncEngine) -> EventStoreTables:
    metadata = MetaData()
    tables = event_store_tables(metadata)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return tables


@pytest.fixture
async def tables(engine: AsyncEngine) -> EventStoreTables:
    return await _tables(engine)


@pytest.fixture
async def pg_tables(pg_engine: AsyncEngine) -> EventStoreTables:
    return await _tables(pg_engine)


@pytest.fixture
def topic() -> str:
    return f"naervaer.test.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
def service() -> str:
    """A service label of its own, so each test reads its own metric series."""
    return f"outbox-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_store(topic: str, service: str, provider: TracerProvider) -> Callable[..., EventStore]:
    def make(
        engine: AsyncEngine, tables: EventStoreTables, *, row_per_append: bool = True
    ) -> EventStore:
        return EventStore(
            engine,
            tables,
            source=f"/{service}",
            outbox_topic=topic,
            tracer=provider.get_tracer("test.store"),
            service=service,
            outbox_row_per_append=row_per_append,
        )

    return make


@pytest.fixture
def until() -> Until:
    """Poll ``check`` until it is true; fail with ``what`` after a deadline."""

    async def wait(check: Callable[[], Awaitable[bool]], what: str) -> None:
        deadline = asyncio.get_running_loop().time() + 20
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    return wait


@pytest.fixture
def consume() -> Consume:
    """Read ``count`` records of ``topic``; fail if the topic holds more or fewer.

    (Tansu's ListOffsets answers the last offset, not the next one, so the count is checked
    by reading: once ``count`` records are in, a further poll must find nothing.)
    """

    async def read(bootstrap: str, topic: str, count: int) -> list[ConsumerRecord]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            records = await _read(consumer, count)
            extra = await consumer.getmany(timeout_ms=300)
        finally:
            await consumer.stop()
        assert len(records) == count
        assert not any(extra.values()), "more records than expected (a duplicate?)"
        return records

    return read


async def _read(consumer: AIOKafkaConsumer, count: int) -> list[ConsumerRecord]:
    records: list[ConsumerRecord] = []
    deadline = asyncio.get_running_loop().time() + 20
    while len(records) < count and asyncio.get_running_loop().time() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        for partition_records in batches.values():
            records.extend(partition_records)
    return records


@pytest.fixture
def running() -> Running:
    """Run a relay in the background for the body of an ``async with``."""

    @contextlib.asynccontextmanager
    async def run(relay: OutboxRelay) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)

    return run
