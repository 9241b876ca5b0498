"""One contract suite, two backends: every store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import EventStore, EventStoreTables, event_store_tables

SCHEMA = "store_test"  # PostgreSQL: a service schema reached through search_path


class StepClock:
    """A clock that moves one second per reading, so each append has its own time."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseTarget:
    if request.param == "sqlite":
        return DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", None)
    return DatabaseTarget(request.getfixturevalue("fresh_database"), SCHEMA)


@pytest.fixture
async def engine(target: DatabaseTarget) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(target)
    async with engine.begin() as conn:
        if target.schema:
            await conn.execute(text(f'CREATE SCHEMA "{target.schema}"'))
    yield engine
    await engine.dispose()


@pytest.fixture
async def tables(engine: AsyncEngine) -> EventStoreTables:
    metadata = MetaData()
    tables = event_store_tables(metadata)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return tables


@pytest.fixture
def make_store(engine: AsyncEngine, tables: EventStoreTables) -> Callable[..., EventStore]:
    def make(**overrides: object) -> EventStore:
        options: dict[str, object] = {
            "source": "/test-service",
            "outbox_topic": None,
            "clock": StepClock(),
        }
        options.update(overrides)
        return EventStore(engine, tables, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def store(make_store: Callable[..., EventStore]) -> EventStore:
    return make_store(service="store-test")
