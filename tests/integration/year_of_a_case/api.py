"""The four services as an HR suite, NAV and the parties see them: HTTP and nothing else.

``Endpoints`` holds one httpx client per service, made from base URLs (separate processes) or
from ASGI transports (in-process); a client may be swapped when its service restarts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

SERVICES = ("case", "deadline", "notification", "document")

TokenSource = Callable[[str, str], str]
"""(role, subject) → a bearer token of the scenario's tenant."""


@dataclass
class Endpoints:
    """One client per service; replace one when its service restarts."""

    case: httpx.AsyncClient
    deadline: httpx.AsyncClient
    notification: httpx.AsyncClient
    document: httpx.AsyncClient

    def of(self, service: str) -> httpx.AsyncClient:
        client: httpx.AsyncClient = getattr(self, service)
        return client

    @classmethod
    @asynccontextmanager
    async def over_http(
        cls, base_urls: Mapping[str, str], *, timeout_s: float = 30.0
    ) -> AsyncIterator[Endpoints]:
        """Clients of services running as processes, e.g. ``{"case": "http://127.0.0.1:8001"}``."""
        async with AsyncExitStack() as stack:
            clients = {
                key: await stack.enter_async_context(
                    httpx.AsyncClient(base_url=base_urls[key], timeout=timeout_s)
                )
                for key in SERVICES
            }
            yield cls(**clients)


@dataclass(frozen=True)
class Party:
    """Who acts: a role and the subject id their token carries."""

    role: str
    subject: str


class ApiError(AssertionError):
    """A call answered with another status than the scenario expected."""


class Api:
    """Authenticated calls to the services, each checked for the status it should answer."""

    def __init__(self, endpoints: Endpoints, tokens: TokenSource) -> None:
        self.endpoints = endpoints
        self._tokens = tokens
        self._cache: dict[Party, str] = {}

    def headers(self, party: Party) -> dict[str, str]:
        if party not in self._cache:
            self._cache[party] = self._tokens(party.role, party.subject)
        return {"Authorization": f"Bearer {self._cache[party]}"}

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        by: Party,
        body: Any = None,
        expect: tuple[int, ...] = (200,),
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        response = await self.endpoints.of(service).request(
            method, path, json=body, headers={**self.headers(by), **(headers or {})}
        )
        if response.status_code not in expect:
            raise ApiError(
                f"{method} {service}{path} as {by.role} answered {response.status_code}, "
                f"expected {expect}: {response.text[:2000]}"
            )
        return response

    async def get(self, service: str, path: str, *, by: Party) -> Any:
        return (await self.call(service, "GET", path, by=by)).json()


async def until(
    probe: Callable[[], Awaitable[str | None]], *, what: str, timeout_s: float = 20.0
) -> None:
    """Poll ``probe`` until it reports no mismatch (None); fail with the last one it named."""
    deadline = time.monotonic() + timeout_s
    while (mismatch := await probe()) is not None:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout_s} s: {mismatch}")
        await asyncio.sleep(0.03)
