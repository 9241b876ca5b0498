"""The four services in-process for hostile tests, as ``tests/integration/platform_fixtures.py``
hosts them, plus what an attacker's view needs: tokens for any role, tenant and subject, and
the environment (SMTP, rate limit) the runtimes are built with.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from naervaer.auth.devkeys import mint_token
from naervaer.clock import ControlledClock
from naervaer.hosting import migrate_services
from naervaer.runtime import ServiceRuntime
from naervaer.service import discover_services
from naervaer.settings import PlatformSettings

T = TypeVar("T")
PROBLEM = "application/problem+json"
ROLES = ("employee", "manager", "hr", "nav", "bht", "auditor", "system")
SUBJECTS = {
    "employee": "emp-1",
    "manager": "mgr-1",
    "hr": "hr-1",
    "nav": "nav-1",
    "bht": "bht-1",
    "auditor": "aud-1",
    "system": "sys-1",
}
"""Each role's caller: ``emp-1`` and ``mgr-1`` are the parties of the 'own' case."""
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
"""The services' (dev) clock when a platform starts: the first absence day of the tests' cases,
so no deadline of theirs has passed and the scheduler stays quiet."""
QUIET_ENV = {"NAERVAER_RATE_LIMIT_WRITES_PER_MINUTE": "0"}
"""The tests write far faster than any client should: no rate limit unless a test wants one."""
TRACE_MARKERS = ("Traceback", 'File "', "site-packages", '.py", line', "RecursionError")
"""What a leaked stack trace or exception would show."""


@dataclass
class Platform:
    """The services by key (case, deadline, notification, document) and a client for each."""

    settings: PlatformSettings
    runtimes: dict[str, ServiceRuntime]
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    _tokens: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def token(self, role: str = "hr", sub: str | None = None, tenant: str = "acme") -> str:
        key = (role, sub or SUBJECTS[role], tenant)
        if key not in self._tokens:
            self._tokens[key] = mint_token(
                self.settings.data_dir, tenant=tenant, roles=[role], sub=key[1]
            )
        return self._tokens[key]

    def auth(
        self, role: str = "hr", sub: str | None = None, tenant: str = "acme"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub, tenant)}"}


def platform_settings(data_dir: Path, **overrides: Any) -> PlatformSettings:
    return PlatformSettings(
        data_dir=data_dir,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}.",
        consumer_poll_interval_s=0.05,
        outbox_poll_interval_s=0.2,
        **overrides,
    )


async def build_platform(
    settings: PlatformSettings, env: Mapping[str, str] = QUIET_ENV, *, keys: tuple[str, ...] = ()
) -> Platform:
    """Migrated runtimes, not yet started; ``env`` holds while they read their settings."""
    ControlledClock(settings.data_dir / "clock.json").set(START)
    specs = discover_services()
    await migrate_services(settings, [s for k, s in specs.items() if not keys or k in keys])
    return Platform(settings, new_runtimes(settings, env, keys=keys))


def new_runtimes(
    settings: PlatformSettings, env: Mapping[str, str] = QUIET_ENV, *, keys: tuple[str, ...] = ()
) -> dict[str, ServiceRuntime]:
    """Runtimes of already migrated services (a runtime serves one lifespan only)."""
    specs = discover_services()
    chosen = {key: spec for key, spec in specs.items() if not keys or key in keys}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return {key: ServiceRuntime(spec, settings, specs) for key, spec in chosen.items()}


@asynccontextmanager
async def hosted_platform(
    settings: PlatformSettings, env: Mapping[str, str] = QUIET_ENV, *, keys: tuple[str, ...] = ()
) -> AsyncIterator[Platform]:
    """The services started (consumers, workers) with an in-process client each."""
    platform = await build_platform(settings, env, keys=keys)
    async with AsyncExitStack() as stack:
        for key, runtime in platform.runtimes.items():
            await stack.enter_async_context(runtime.app.router.lifespan_context(runtime.app))
            platform.clients[key] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=runtime.app),
                    base_url=f"http://{key}.test",
                    timeout=30,
                )
            )
        yield platform


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 20.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout_s}s")
        await asyncio.sleep(0.05)


def assert_clean_problem(response: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """An RFC 9457 problem with the expected status and nothing of a stack trace in it."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("type"), str)
    assert isinstance(body.get("title"), str)
    assert body.get("status") == response.status_code
    text = response.text
    for trace_marker in TRACE_MARKERS:
        assert trace_marker not in text, text[:500]
    return body
