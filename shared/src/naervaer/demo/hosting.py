"""The four services in this process on the embedded default, called over their REST APIs.

Each service is hosted as ``naervaer up`` hosts it (a ``ServiceRuntime`` with its lifespan:
outbox relay, consumers, scheduler, delivery worker), but requests go to its ASGI app in-process,
so the demo needs no free ports and cannot collide with a running ``naervaer up``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from naervaer.auth.devkeys import mint_token
from naervaer.hosting import migrate_services
from naervaer.runtime import ServiceRuntime
from naervaer.service import discover_services
from naervaer.settings import PlatformSettings
from naervaer.topics import ACCESS_STREAM_TYPE

SERVICES = ("case", "deadline", "notification", "document")


class DemoError(Exception):
    """The story could not go on (a refused request, services that never settled)."""


@dataclass(frozen=True)
class Actor:
    """Someone who calls the APIs: a role in the tenant, an id, and the name the story uses."""

    name: str
    role: str
    sub: str


@dataclass
class Hosted:
    """The running services and a way to call them as one of the story's people."""

    data_dir: Path
    tenant: str
    runtimes: dict[str, ServiceRuntime]
    clients: dict[str, httpx.AsyncClient]
    _tokens: dict[Actor, str] = field(default_factory=dict)
    _seen: dict[str, int] = field(default_factory=dict)

    async def call(
        self, actor: Actor, service: str, method: str, path: str, body: object = None
    ) -> Any:
        """Send one request; a refusal ends the demo with the problem the service named."""
        response = await self.send(actor, service, method, path, body)
        if response.is_error:
            raise DemoError(
                f"{method} {path} answered {response.status_code}: {_problem(response)}"
            )
        return response.json() if response.content else None

    async def send(
        self, actor: Actor, service: str, method: str, path: str, body: object = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token(actor)}"}
        return await self.clients[service].request(method, path, json=body, headers=headers)

    async def facts(self) -> tuple[int, ...]:
        """Per event store, the position of its last fact: it moves whenever a service records
        something. Access records are left out: the demo's own reads write those."""
        for key, runtime in self.runtimes.items():
            if runtime.store is None:
                continue
            while found := await runtime.store.read_all(
                self._seen.get(key, 0), 500, exclude_stream_types=(ACCESS_STREAM_TYPE,)
            ):
                self._seen[key] = found[-1].globalposition or 0
        return tuple(self._seen.values())

    def _token(self, actor: Actor) -> str:
        if actor not in self._tokens:
            self._tokens[actor] = mint_token(
                self.data_dir, tenant=self.tenant, roles=[actor.role], sub=actor.sub
            )
        return self._tokens[actor]


@asynccontextmanager
async def hosted_services(
    data_dir: Path, tenant: str, settings: Mapping[str, str]
) -> AsyncIterator[Hosted]:
    """Migrate and start the four services on SQLite files in ``data_dir``; stop them after."""
    with demo_environment(settings):
        platform = PlatformSettings(
            data_dir=data_dir,
            database_url=None,
            kafka_bootstrap=None,
            environment="development",
            consumer_poll_interval_s=0.05,
        )
        specs = discover_services()
        missing = [key for key in SERVICES if key not in specs]
        if missing:
            raise DemoError(f"the demo needs all four services; not installed: {missing}")
        await migrate_services(platform, [specs[key] for key in SERVICES])
        runtimes = {key: ServiceRuntime(specs[key], platform, specs) for key in SERVICES}
        async with AsyncExitStack() as stack:
            clients = {}
            for key, runtime in runtimes.items():
                await stack.enter_async_context(runtime.app.router.lifespan_context(runtime.app))
                transport = httpx.ASGITransport(app=runtime.app)
                clients[key] = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url=f"http://{runtime.spec.name}")
                )
            yield Hosted(data_dir, tenant, runtimes, clients)


@contextmanager
def demo_environment(settings: Mapping[str, str]) -> Iterator[None]:
    """Only the demo's ``NAERVAER_*`` settings while it runs; the caller's come back after.

    The services read their settings from the environment; a ``NAERVAER_DATABASE_URL`` or a
    JWKS URL of the caller's own must not turn the embedded demo into something else.
    """
    saved = {name: value for name, value in os.environ.items() if name.startswith("NAERVAER_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(settings)
    try:
        yield
    finally:
        for name in settings:
            os.environ.pop(name, None)
        os.environ.update(saved)


def _problem(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(problem, dict):
        return str(problem)[:200]
    return str(problem.get("detail") or problem.get("title") or problem)
