"""Fixtures of the fault-injection suite: its own crashable PostgreSQL cluster, a broker that
survives SIGKILL, the outside world (SMTP, webhooks), and the four services as processes."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from naervaer.auth.devkeys import mint_token
from naervaer.clock import ControlledClock
from naervaer.settings import PlatformSettings
from naervaer.testing.processes import QUICK_TIMINGS, ProcessConfig, ServiceProcesses

from .client import TokenSource
from .infra import CrashablePostgres, DurableBroker, ObjectStore
from .receivers import SmtpServer, WebhookReceiver
from .stores import Consumer, Stores, declared_consumers
from .workload import OSLO

TENANT = "acme"
TODAY = datetime(2026, 3, 10, 10, 0, tzinfo=OSLO)
"""The services' (dev) clock at the start: a Tuesday morning, inside everybody's working
hours, so no reminder waits for quiet hours to end while the suite runs."""
WEBHOOK_SECRET = "hr-suite-shared-secret-0123456789"
SERVICE_ENV = {
    **QUICK_TIMINGS,
    "NAERVAER_ENVIRONMENT": "development",
    "NAERVAER_RATE_LIMIT_WRITES_PER_MINUTE": "0",  # one HR client writes far faster than 600/min
    "NAERVAER_NOTIFICATION_WORKER_LEASE_S": "3",  # a send cut off by a kill is retried soon
    "NAERVAER_NOTIFICATION_RETRY_BASE_S": "0.5",
    "NAERVAER_NOTIFICATION_RETRY_CAP_S": "2",
    "NAERVAER_NOTIFICATION_SMTP_SECURITY": "none",
    "NAERVAER_NOTIFICATION_SMTP_TIMEOUT_S": "5",
    "OTEL_TRACES_EXPORTER": "none",
}


@pytest.fixture(autouse=True)
def started() -> float:
    """When the test began, fixtures included (autouse fixtures are set up first)."""
    return time.monotonic()


@pytest.fixture
def postgres() -> Iterator[CrashablePostgres]:
    server = CrashablePostgres()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def object_store(tmp_path: Path) -> Iterator[ObjectStore]:
    store = ObjectStore(log=tmp_path / "object-store.log")
    store.start()
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture
def broker(object_store: ObjectStore, tmp_path: Path) -> Iterator[DurableBroker]:
    server = DurableBroker(object_store, log=tmp_path / "broker.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def webhooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        yield receiver


@pytest.fixture
async def database(postgres: CrashablePostgres) -> str:
    admin = await asyncpg.connect(postgres.url.replace("postgresql+asyncpg", "postgresql", 1))
    try:
        await admin.execute('CREATE DATABASE "naervaer"')
    finally:
        await admin.close()
    return postgres.url.rsplit("/", 1)[0] + "/naervaer"


@pytest.fixture
def settings(tmp_path: Path, database: str, broker: DurableBroker) -> PlatformSettings:
    """The platform as the services see it; the dev clock is set and the dev key made."""
    data_dir = tmp_path / "data"
    ControlledClock(data_dir / "clock.json").set(TODAY)
    mint_token(data_dir, tenant=TENANT, roles=["hr"], sub="hr-1")  # creates the dev key
    return PlatformSettings(
        data_dir=data_dir, database_url=database, kafka_bootstrap=broker.bootstrap
    )


@pytest.fixture
def tokens(settings: PlatformSettings) -> TokenSource:
    def mint(role: str, subject: str) -> str:
        return mint_token(settings.data_dir, tenant=TENANT, roles=[role], sub=subject)

    return mint


@pytest.fixture
async def system(settings: PlatformSettings, smtp: SmtpServer) -> AsyncIterator[ServiceProcesses]:
    assert settings.database_url is not None
    assert settings.kafka_bootstrap is not None
    env = {
        **SERVICE_ENV,
        "NAERVAER_NOTIFICATION_SMTP_HOST": smtp.host,
        "NAERVAER_NOTIFICATION_SMTP_PORT": str(smtp.port),
    }
    config = ProcessConfig(
        settings.database_url, settings.kafka_bootstrap, settings.data_dir, env=env
    )
    async with ServiceProcesses(config) as processes:
        yield processes


@pytest.fixture
async def stores(settings: PlatformSettings) -> AsyncIterator[Stores]:
    opened = Stores(settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def consumers(settings: PlatformSettings) -> list[Consumer]:
    return await declared_consumers(settings)


FIGURES = pytest.StashKey[list[str]]()
"""The suite's figures, printed in the terminal summary so CI logs show them without -s."""


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[list[str]], None]:
    def keep(lines: list[str]) -> None:
        request.config.stash[FIGURES] = lines

    return keep


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(FIGURES, None)
    if lines:
        terminalreporter.write_sep("=", "fault-injection figures")
        for line in lines:
            terminalreporter.write_line(line)


def commands_wanted(default: int) -> int:
    """``NAERVAER_FAULTS_COMMANDS``: how many commands the stream sends (see the README)."""
    return int(os.environ.get("NAERVAER_FAULTS_COMMANDS", default))
