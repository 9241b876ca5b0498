"""The four services hosted in-process (as ``naervaer up`` runs them: SQLite files, the embedded
transport, the data folder's dev clock), each one stoppable and restartable on its own.

Also what the driver needs beside HTTP in this setting: the deadline service's event log read
from its store, and the dev clock moved through its file while the deadline service is down.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AsyncExitStack
from datetime import date, datetime
from typing import Self

import httpx

from naervaer.auth.devkeys import mint_token
from naervaer.clock import ControlledClock
from naervaer.db import create_engine
from naervaer.eventstore import EventStore
from naervaer.hosting import migrate_services
from naervaer.migrations import target_for
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec, discover_services
from naervaer.settings import PlatformSettings

from .api import SERVICES, Endpoints
from .expectations import Reminder

DEADLINE_STREAM_TYPE = "deadline"
"""The streams the deadline scheduler appends its events to (access records are others)."""


class EmbeddedPlatform:
    """``async with EmbeddedPlatform(settings) as platform``: all four services running."""

    def __init__(self, settings: PlatformSettings, *, tenant: str = "acme") -> None:
        self.settings = settings
        self.tenant = tenant
        self.specs: dict[str, ServiceSpec] = discover_services()
        self.runtimes: dict[str, ServiceRuntime] = {}
        self._stacks: dict[str, AsyncExitStack] = {}
        self._endpoints: Endpoints | None = None
        self.deadline_log = DeadlineStoreLog(settings, self.specs["deadline"])

    @property
    def endpoints(self) -> Endpoints:
        assert self._endpoints is not None, "the platform is not started"
        return self._endpoints

    def token(self, role: str, subject: str) -> str:
        return mint_token(self.settings.data_dir, tenant=self.tenant, roles=[role], sub=subject)

    async def __aenter__(self) -> Self:
        await migrate_services(self.settings, list(self.specs.values()))
        clients = {key: await self._start(key) for key in SERVICES}
        self._endpoints = Endpoints(**clients)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for key in reversed(list(self._stacks)):
            await self.stop(key)
        await self.deadline_log.close()

    async def start(self, key: str) -> None:
        """A new runtime of service ``key`` on the same data folder; its client replaces the old."""
        setattr(self.endpoints, key, await self._start(key))

    async def stop(self, key: str) -> None:
        """Leave the service's lifespan: its consumers and background tasks stop."""
        await self._stacks.pop(key).aclose()
        del self.runtimes[key]

    async def restart(self, key: str) -> None:
        await self.stop(key)
        await self.start(key)

    async def _start(self, key: str) -> httpx.AsyncClient:
        runtime = ServiceRuntime(self.specs[key], self.settings, self.specs)
        stack = AsyncExitStack()
        await stack.enter_async_context(runtime.app.router.lifespan_context(runtime.app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=runtime.app), base_url=f"http://{key}.test"
            )
        )
        self.runtimes[key], self._stacks[key] = runtime, stack
        return client


class DeadlineStoreLog:
    """The deadline events in the deadline service's own event store (read, never written)."""

    def __init__(self, settings: PlatformSettings, spec: ServiceSpec) -> None:
        assert spec.event_store is not None
        self._engine = create_engine(target_for(spec, settings))
        self._store = EventStore(
            self._engine, spec.event_store, source=f"/{spec.name}", outbox_topic=None
        )

    async def reminders(self) -> Counter[Reminder]:
        envelopes = await self._store.read_all(0, 100_000, stream_types=(DEADLINE_STREAM_TYPE,))
        return Counter(
            Reminder(e.data["kind"], e.data["stage"], date.fromisoformat(e.data["due_date"]))
            for e in envelopes
        )

    async def close(self) -> None:
        await self._engine.dispose()


class FileClock:
    """The dev clock moved through ``<data_dir>/clock.json`` (``naervaer clock set``), for
    when the deadline service, which moves it over HTTP, is down."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._clock = ControlledClock(settings.data_dir / "clock.json")

    async def set(self, moment: datetime) -> None:
        self._clock.set(moment)
