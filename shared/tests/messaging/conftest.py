"""Fixtures of the consumer tests: databases with the consumer tables, a Kafka kit, the
embedded transport's two ends (the helpers they hand out live in kits.py)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import EventStore, EventStoreTables, NewEvent, event_store_tables

from .kits import Db, KafkaKit, Kit, open_db


@pytest.fixture
async def pg_db(fresh_database: str) -> AsyncIterator[Db]:
    db = await open_db(fresh_database)
    yield db
    await db.engine.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Db]:
    db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}")
    yield db
    await db.engine.dispose()


@pytest.fixture
def kafka(kafka_bootstrap: str) -> KafkaKit:
    return KafkaKit(kafka_bootstrap)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit


@dataclass(frozen=True)
class LogSetup:
    """A producing service's event store and a consuming service's database, side by side."""

    store: EventStore
    db: Db
    backend: str

    async def append(self, stream_id: str, *types: str, tenant: str = "tenant-1") -> None:
        events = [NewEvent(type=t, data={"type": t}) for t in types]
        await self.store.append(stream_id, events, tenant=tenant, expected_version=None)


@pytest.fixture(params=["sqlite", "postgresql"])
async def log_setup(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LogSetup]:
    """The embedded transport's two ends, on SQLite files or on PostgreSQL schemas."""
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            producer = DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'case-service.db'}", None)
            consumer_url = f"sqlite+aiosqlite:///{tmp_path / 'deadline-service.db'}"
        else:
            # a sync fixture may be requested from here; fresh_database (async) may not
            server = request.getfixturevalue("postgres_url")
            consumer_url = await stack.enter_async_context(_scratch_database(server))
            producer = DatabaseTarget(consumer_url, "case_service")
        engine = create_engine(producer)
        stack.push_async_callback(engine.dispose)
        tables = await _create_store_tables(engine, schema=producer.schema)
        db = await open_db(consumer_url)
        stack.push_async_callback(db.engine.dispose)
        store = EventStore(engine, tables, source="/case-service", outbox_topic=None)
        yield LogSetup(store, db, request.param)


async def _create_store_tables(engine: AsyncEngine, *, schema: str | None) -> EventStoreTables:
    metadata = MetaData()
    tables = event_store_tables(metadata)
    async with engine.begin() as connection:
        if schema is not None:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await connection.run_sync(metadata.create_all)
    return tables


@contextlib.asynccontextmanager
async def _scratch_database(server_url: str) -> AsyncIterator[str]:
    url = make_url(server_url)
    name = f"m_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
