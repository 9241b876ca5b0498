"""The case service hosted in-process, as the platform tests host it, with helpers to call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from case_service.adapters.records import employee_stream
from case_service.bootstrap import SERVICE
from naervaer.auth.access import AccessRecord
from naervaer.auth.devkeys import mint_token
from naervaer.clock import Clock
from naervaer.envelope import Envelope
from naervaer.hosting import migrate_services
from naervaer.runtime import ServiceRuntime
from naervaer.settings import PlatformSettings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # "today" is Monday 2026-03-02 in Oslo too
CASE = {
    "employee_id": "emp-1",
    "manager_id": "mgr-1",
    "org_unit": "warehouse",
    "first_absence_day": "2026-01-05",
}


@dataclass
class FixedClock:
    moment: datetime = NOW

    def now(self) -> datetime:
        return self.moment


@dataclass
class CaseApi:
    """A client of the hosted case service, with tokens, access records and the store at hand."""

    client: httpx.AsyncClient
    runtime: ServiceRuntime
    data_dir: Path
    access: list[AccessRecord] = field(default_factory=list)
    _tokens: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def auth(self, role: str = "hr", sub: str = "hr-1", tenant: str = "acme") -> dict[str, str]:
        key = (role, sub, tenant)
        if key not in self._tokens:
            self._tokens[key] = mint_token(self.data_dir, tenant=tenant, roles=[role], sub=sub)
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    async def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        role: str = "hr",
        sub: str = "hr-1",
        tenant: str = "acme",
        **headers: str,
    ) -> httpx.Response:
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        return await self.client.post(
            path, json=body, headers={**self.auth(role, sub, tenant), **extra}
        )

    async def open_case(self, **changes: str) -> str:
        response = await self.post("/v1/cases", {**CASE, **changes})
        assert response.status_code == 201, response.text
        case_id: str = response.json()["case_id"]
        return case_id

    async def stream(self, stream_id: str) -> list[Envelope]:
        assert self.runtime.store is not None
        return await self.runtime.store.read_stream(stream_id)

    def employee_stream(self, employee_id: str, tenant: str = "acme") -> str:
        """The employee's stream: named by the vault's keyed hash, never the plain id."""
        return employee_stream(self.runtime.vault, tenant, employee_id)

    async def types(self, stream_id: str) -> list[str]:
        return [envelope.type for envelope in await self.stream(stream_id)]

    async def head(self) -> int:
        """The store's global position: how many events were ever written."""
        assert self.runtime.store is not None
        return await self.runtime.store.head_position()


@asynccontextmanager
async def hosted_case_service(
    data_dir: Path, *, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[CaseApi]:
    """The case service with its migrations run, a fixed clock and an access-record list."""
    platform = PlatformSettings(data_dir=data_dir, consumer_poll_interval_s=0.05, **settings)
    await migrate_services(platform, [SERVICE])
    runtime = ServiceRuntime(SERVICE, platform, {SERVICE.key: SERVICE}, clock=clock or FixedClock())
    api_access: list[AccessRecord] = []

    async def record(entry: AccessRecord) -> None:
        api_access.append(entry)

    runtime.app.state.access_recorder = record
    async with (
        runtime.app.router.lifespan_context(runtime.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=runtime.app), base_url="http://case.test"
        ) as client,
    ):
        yield CaseApi(client, runtime, data_dir, api_access)
