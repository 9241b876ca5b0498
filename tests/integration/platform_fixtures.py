"""Helpers that host the four services in-process for platform tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from naervaer.auth.devkeys import mint_token
from naervaer.hosting import migrate_services
from naervaer.observability.tracing import build_tracer_provider
from naervaer.runtime import ServiceRuntime
from naervaer.service import discover_services
from naervaer.settings import PlatformSettings

T = TypeVar("T")


@dataclass
class Platform:
    settings: PlatformSettings
    runtimes: dict[str, ServiceRuntime]
    clients: dict[str, httpx.AsyncClient]
    spans: InMemorySpanExporter

    def token(self, *, tenant: str = "acme", role: str = "hr", sub: str = "hr-1") -> str:
        return mint_token(self.settings.data_dir, tenant=tenant, roles=[role], sub=sub)

    def auth(self, **claims: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**claims)}"}


@asynccontextmanager
async def hosted_platform(settings: PlatformSettings) -> AsyncIterator[Platform]:
    specs = discover_services()
    await migrate_services(settings, list(specs.values()))
    spans = InMemorySpanExporter()
    runtimes = {
        key: ServiceRuntime(
            spec, settings, specs, tracer_provider=build_tracer_provider(spec.name, exporter=spans)
        )
        for key, spec in specs.items()
    }
    async with AsyncExitStack() as stack:
        clients = {}
        for key, runtime in runtimes.items():
            await stack.enter_async_context(runtime.app.router.lifespan_context(runtime.app))
            clients[key] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=runtime.app),
                    base_url=f"http://{key}.test",
                )
            )
        yield Platform(settings, runtimes, clients, spans)


def platform_settings(tmp_path: Path, **overrides: object) -> PlatformSettings:
    return PlatformSettings(
        data_dir=tmp_path,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}.",
        consumer_poll_interval_s=0.05,
        outbox_poll_interval_s=0.2,
        kafka_session_timeout_ms=3000,
        kafka_partitions=3,
        **overrides,  # type: ignore[arg-type]
    )


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 30.0) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(0.05)
