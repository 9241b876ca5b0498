"""Fixtures of the deadline service's tests: its database on SQLite and PostgreSQL, a case
event log to feed it (a stand-in for the case service's event store) and a key vault to seal
the case events with, as the case service does."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.projection import TimelineProjection
from deadline_service.adapters.tables import event_store, metadata
from deadline_service.bootstrap import SERVICE
from deadline_service.config import Policies
from naervaer.contracts import CONTRACTS
from naervaer.db import DatabaseTarget, create_engine, normalise_url
from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore, NewEvent, event_store_tables
from naervaer.migrations import upgrade
from naervaer.privacy import KEYRING, KeySource
from naervaer.privacy.keyvault import KeyVault
from naervaer.privacy.sealer import Sealer
from naervaer.testing.pytest_plugin import temporary_database


@dataclass
class FakeClock:
    """A clock the test moves by hand (settable, like the development clock)."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment

    def advance(self, days: int) -> None:
        self.moment += timedelta(days=days)


@dataclass
class CaseLog:
    """The case events the deadline service consumes, in an event store of their own."""

    store: EventStore
    engine: AsyncEngine

    async def append(self, case_id: str, payloads: Iterable[Any], tenant: str = "acme") -> None:
        for payload in payloads:
            name = CONTRACTS.type_of(payload).name
            await self.store.append(
                case_id, [NewEvent(name, payload)], tenant=tenant, expected_version=None
            )

    async def append_sealed(
        self,
        case_id: str,
        payloads: list[Any],
        vault: KeyVault,
        employee_id: str,
        tenant: str = "acme",
    ) -> str:
        """Appended with their personal fields sealed with the employee's key, as the case
        service appends them; returns the key id."""
        sealed = await Sealer(vault).for_employee(tenant, employee_id, payloads)
        for payload, data in zip(payloads, sealed, strict=True):
            name = CONTRACTS.type_of(payload).name
            await self.store.append(
                case_id, [NewEvent(name, data)], tenant=tenant, expected_version=None
            )
        key_id = await vault.live_key_id(tenant, employee_id)
        assert key_id is not None
        return key_id

    async def envelopes(self) -> list[Envelope]:
        return await self.store.read_all(0, 100_000)


class NoKeys:
    """The key source of logs without sealed values: asking it for a key is a test bug."""

    async def keys(self, key_ids: Iterable[str]) -> Mapping[str, bytes | None]:
        raise AssertionError(f"sealed values but no key vault given: {sorted(key_ids)}")


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[KeyVault]:
    """A key vault of its own (the platform's is shared by every service)."""
    engine = create_engine(DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}", None))
    keys = KeyVault(engine, os.urandom(32), schema=None)
    await keys.install()
    yield keys
    await keys.dispose()


@pytest.fixture
async def case_log(tmp_path: Path) -> AsyncIterator[CaseLog]:
    tables_metadata = MetaData()
    tables = event_store_tables(tables_metadata)
    engine = create_engine(DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'case.db'}", None))
    async with engine.begin() as conn:
        await conn.run_sync(tables_metadata.create_all)
    store = EventStore(engine, tables, source="/case-service", outbox_topic=None)
    yield CaseLog(store, engine)
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def deadline_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """The deadline service's database, migrated, on each backend."""
    if request.param == "sqlite":
        target = DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'deadline.db'}", None)
        async for engine in _migrated(target):
            yield engine
        return
    async with temporary_database(request.getfixturevalue("postgres_url")) as url:
        async for engine in _migrated(DatabaseTarget(normalise_url(url), "deadline_service")):
            yield engine


async def _migrated(target: DatabaseTarget) -> AsyncIterator[AsyncEngine]:
    await upgrade(SERVICE, target)
    engine = create_engine(target)
    try:
        yield engine
    finally:
        await engine.dispose()


def deadline_store(engine: AsyncEngine, clock: FakeClock | None = None) -> EventStore:
    return EventStore(
        engine,
        event_store,
        source="/deadline-service",
        outbox_topic=None,
        clock=(clock or FakeClock(datetime.now(UTC))).now,
    )


async def project(
    engine: AsyncEngine,
    envelopes: Iterable[Envelope],
    policies: Policies | None = None,
    keys: KeySource | None = None,
) -> TimelineProjection:
    """Apply ``envelopes`` one transaction each, as the consumer does (keys loaded first)."""
    source = keys or NoKeys()
    projection = TimelineProjection(policies or Policies(), source)
    for envelope in envelopes:
        if projection.event_types is None or envelope.type in projection.event_types:
            await KEYRING.load([envelope], source)
            async with engine.begin() as tx:
                await projection.handle(tx, envelope)
    return projection


async def project_together(
    engine: AsyncEngine,
    projection: TimelineProjection,
    envelopes: Sequence[Envelope],
    keys: KeySource,
    *,
    batched: bool,
) -> None:
    """Apply ``envelopes`` in one transaction (keys loaded first): as one batch, or one event
    after the other."""
    await KEYRING.load(envelopes, keys)
    async with engine.begin() as tx:
        if batched:
            await projection.handle_batch(tx, envelopes)
        else:
            for envelope in envelopes:
                await projection.handle(tx, envelope)


async def snapshot(engine: AsyncEngine, *names: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the named tables, sorted: for comparing two states of the projection."""
    found = {}
    async with engine.connect() as conn:
        for name in names:
            table = metadata.tables[name]
            rows = (await conn.execute(select(table))).all()
            found[name] = sorted((tuple(row) for row in rows), key=repr)
    return found
