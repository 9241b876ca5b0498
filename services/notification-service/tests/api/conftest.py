"""The notification API in-process: its runtime's app over ASGI, on a migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from naervaer.auth.access import AccessRecord
from naervaer.auth.devkeys import mint_token
from naervaer.migrations import upgrade
from naervaer.runtime import ServiceRuntime
from naervaer.service import discover_services
from naervaer.settings import PlatformSettings
from naervaer.testing.pytest_plugin import temporary_database
from notification_service.adapters.projections import CaseProjection
from notification_service.adapters.rendering import Renderer
from notification_service.app.planner import Planner
from notification_service.bootstrap import SERVICE
from notification_service.config import NotificationServiceSettings
from notification_service.wiring import delivery_worker

from ..conftest import Harness
from ..support import MovableClock, SmtpServer


@dataclass
class Api:
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    harness: Harness
    data_dir: Path
    access: list[AccessRecord] = field(default_factory=list)

    def auth(self, role: str = "hr", sub: str = "hr-1", tenant: str = "acme") -> dict[str, str]:
        token = mint_token(self.data_dir, tenant=tenant, roles=[role], sub=sub)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **who: str) -> httpx.Response:
        return await self.client.get(path, headers=self.auth(**who))

    async def put(self, path: str, body: Any, **who: str) -> httpx.Response:
        return await self.client.put(path, json=body, headers=self.auth(**who))


@pytest.fixture
async def api(
    tmp_path: Path, smtp: SmtpServer, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Api]:
    """The API on SQLite (the embedded default)."""
    platform = PlatformSettings(data_dir=tmp_path)
    async with hosted(platform, smtp, clock, monkeypatch) as api:
        yield api


@pytest.fixture(params=["sqlite", "postgres"])
async def api_on_both(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    smtp: SmtpServer,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Api]:
    """The API on SQLite, and on PostgreSQL (its tables and the key vault in one database)."""
    if request.param == "sqlite":
        async with hosted(PlatformSettings(data_dir=tmp_path), smtp, clock, monkeypatch) as api:
            yield api
        return
    async with temporary_database(request.getfixturevalue("postgres_url")) as url:
        platform = PlatformSettings(data_dir=tmp_path, database_url=url)
        async with hosted(platform, smtp, clock, monkeypatch) as api:
            yield api


@asynccontextmanager
async def hosted(
    platform: PlatformSettings,
    smtp: SmtpServer,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Api]:
    smtp.start()
    for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)}.items():
        monkeypatch.setenv(f"NAERVAER_NOTIFICATION_{name}", value)
    monkeypatch.setenv("NAERVAER_NOTIFICATION_SMTP_SECURITY", "none")
    runtime = ServiceRuntime(SERVICE, platform, discover_services(), clock=clock)
    await upgrade(SERVICE, runtime.target)
    await runtime.vault.install()
    settings = runtime.settings
    assert isinstance(settings, NotificationServiceSettings)
    worker = delivery_worker(runtime.engine, clock, settings, Renderer(), runtime.vault)
    planner = Planner(clock, CaseProjection())
    harness = Harness(runtime.engine, clock, planner, worker, runtime.vault)
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://notification.test"
    ) as client:
        api = Api(client, runtime, harness, platform.data_dir)

        async def record(entry: AccessRecord) -> None:
            api.access.append(entry)

        runtime.app.state.access_recorder = record
        try:
            yield api
        finally:
            await runtime.engine.dispose()
            await runtime.vault.dispose()
