"""Fixtures: the service's database (SQLite and PostgreSQL), an SMTP server, a clock, and a
harness that runs the consumers' handlers and the delivery worker against them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import DatabaseTarget, create_engine, normalise_url
from naervaer.envelope import Envelope
from naervaer.messaging import Handler, inbox
from naervaer.privacy import KEYRING
from naervaer.privacy.keyvault import KeyVault
from naervaer.testing.pytest_plugin import temporary_database
from naervaer.testing.servers import free_port
from notification_service.adapters import directory
from notification_service.adapters.projections import CaseProjection
from notification_service.adapters.rendering import Renderer
from notification_service.adapters.tables import consumers, deliveries, delivery_attempts, metadata
from notification_service.app.planner import Planner
from notification_service.app.worker import DeliveryWorker
from notification_service.config import NotificationServiceSettings
from notification_service.domain.policy import TenantPolicy
from notification_service.domain.recipients import Recipient
from notification_service.wiring import delivery_worker

from .support import MovableClock, SmtpServer

OSLO = ZoneInfo("Europe/Oslo")
TUESDAY_MORNING = datetime(2026, 3, 10, 10, 0, tzinfo=OSLO)


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The service's tables on a new SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        async for engine in _engine(
            DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", None)
        ):
            yield engine
        return
    async with temporary_database(request.getfixturevalue("postgres_url")) as url:
        async for engine in _engine(DatabaseTarget(normalise_url(url), "notification_service")):
            yield engine


async def _engine(target: DatabaseTarget) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(target)
    async with engine.begin() as tx:
        if target.schema:
            await tx.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{target.schema}"'))
        await tx.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port, not yet started (tests start it, maybe late)."""
    server = SmtpServer(free_port())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock() -> MovableClock:
    moving = MovableClock()
    moving.set(TUESDAY_MORNING)
    return moving


def worker_settings(smtp_port: int, **overrides: Any) -> NotificationServiceSettings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "smtp_timeout_s": 5,
        "retry_base_s": 0.05,
        "retry_cap_s": 0.2,
        "max_attempts": 6,
        "worker_poll_interval_s": 0.02,
        "worker_lease_s": 30,
    }
    return NotificationServiceSettings(**(values | overrides))


@dataclass
class Harness:
    engine: AsyncEngine
    clock: MovableClock
    planner: Planner
    worker: DeliveryWorker
    vault: KeyVault

    async def consume(self, handler: Handler, consumer: str, event: Envelope) -> bool:
        """What the consumer does with one message: its keys, then inbox row and handler in
        one transaction."""
        await KEYRING.load([event], self.vault)
        async with self.engine.begin() as tx:
            if not await inbox.claim(tx, consumers, consumer, event.id):
                return False
            await handler(tx, event)
        return True

    async def on_deadline(self, event: Envelope) -> bool:
        return await self.consume(self.planner.on_deadline_event, "deadline", event)

    async def on_case(self, event: Envelope) -> bool:
        return await self.consume(self.planner.on_case_event, "cases", event)

    async def drain(self) -> int:
        """Run the worker until nothing is due; how many attempts it made."""
        attempts = 0
        while await self.worker.run_once():
            attempts += 1
        return attempts

    async def deliveries(self) -> list[Any]:
        async with self.engine.connect() as tx:
            query = select(deliveries).order_by(deliveries.c.recipient_id, deliveries.c.channel)
            return list((await tx.execute(query)).all())

    async def attempts(self) -> list[Any]:
        async with self.engine.connect() as tx:
            query = select(delivery_attempts).order_by(delivery_attempts.c.id)
            return list((await tx.execute(query)).all())

    async def recipient(self, party_id: str, tenant: str = "acme", **fields: Any) -> None:
        async with self.engine.begin() as tx:
            entry = Recipient.model_validate(fields)
            await directory.put_recipient(tx, tenant, party_id, entry, self.clock.now())

    async def policy(
        self, policy: TenantPolicy, tenant: str = "acme", secret: str | None = None
    ) -> None:
        async with self.engine.begin() as tx:
            await directory.put_policy(tx, tenant, policy, self.clock.now(), webhook_secret=secret)


def make_harness(
    engine: AsyncEngine, clock: MovableClock, settings: NotificationServiceSettings, vault: KeyVault
) -> Harness:
    planner = Planner(clock, CaseProjection())
    worker = delivery_worker(engine, clock, settings, Renderer(), vault)
    return Harness(engine, clock, planner, worker, vault)


@pytest.fixture
async def vault(engine: AsyncEngine) -> KeyVault:
    """A key vault (one key per employee) beside the service's tables, as the runtime has."""
    keys = KeyVault(engine, os.urandom(32), schema=None)
    await keys.install()
    return keys


@pytest.fixture
def harness(engine: AsyncEngine, clock: MovableClock, smtp: SmtpServer, vault: KeyVault) -> Harness:
    return make_harness(engine, clock, worker_settings(smtp.port), vault)
