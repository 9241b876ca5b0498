"""An HR suite as a careful client: every write carries an Idempotency-Key, and a write that
timed out, lost its connection or met a 5xx/429 is sent again with the same key and body until
an answer comes (or the client gives up). The ledger keeps what was sent and answered."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
REQUEST_TIMEOUT_S = 5.0
GIVE_UP_AFTER_S = 90.0

TokenSource = Callable[[str, str], str]
"""(role, subject) → a bearer token of the tenant."""


@dataclass(frozen=True)
class Party:
    role: str
    subject: str


@dataclass(frozen=True)
class Command:
    """One write as the client means it: sent until answered, always with the same key."""

    service: str
    method: str
    path: str
    body: Mapping[str, Any]
    by: Party
    key: str


@dataclass(frozen=True)
class Answered:
    command: Command
    status: int
    body: Any


class GaveUp(RuntimeError):
    """No answer within the client's patience: nobody knows whether the write happened."""


@dataclass
class Ledger:
    """What the client sent and what came back."""

    sent: int = 0
    attempts: int = 0
    retries_by_cause: Counter[str] = field(default_factory=Counter)
    answered: list[Answered] = field(default_factory=list)
    gave_up: list[Command] = field(default_factory=list)

    @property
    def accepted(self) -> list[Answered]:
        return [a for a in self.answered if 200 <= a.status < 300]

    @property
    def refused(self) -> list[Answered]:
        return [a for a in self.answered if not 200 <= a.status < 300]


class Client:
    """One httpx client per service; ``send`` retries as described above."""

    def __init__(self, http: Mapping[str, httpx.AsyncClient], tokens: TokenSource) -> None:
        self._http = http
        self._tokens = tokens
        self._token_cache: dict[Party, str] = {}
        self.ledger = Ledger()

    @classmethod
    @asynccontextmanager
    async def over_http(
        cls, base_urls: Mapping[str, str], tokens: TokenSource
    ) -> AsyncIterator[Client]:
        async with AsyncExitStack() as stack:
            http = {
                key: await stack.enter_async_context(
                    httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S)
                )
                for key, url in base_urls.items()
            }
            yield cls(http, tokens)

    async def send(self, command: Command) -> Answered:
        """Send until answered with anything but a retryable status; ledger it."""
        self.ledger.sent += 1
        deadline = time.monotonic() + GIVE_UP_AFTER_S
        attempt = 0
        while True:
            attempt += 1
            self.ledger.attempts += 1
            cause = await self._try(command)
            if isinstance(cause, Answered):
                self.ledger.answered.append(cause)
                return cause
            self.ledger.retries_by_cause[cause] += 1
            if time.monotonic() > deadline:
                self.ledger.gave_up.append(command)
                raise GaveUp(f"{command.method} {command.path}: last {cause}")
            await asyncio.sleep(_backoff(attempt))

    async def get(self, service: str, path: str, *, by: Party) -> Any:
        """A read, retried like a write while the service is unreachable."""
        deadline = time.monotonic() + GIVE_UP_AFTER_S
        while True:
            try:
                response = await self._http[service].get(path, headers=self._auth(by))
                if response.status_code not in RETRIED_STATUSES:
                    response.raise_for_status()
                    return response.json()
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise GaveUp(f"GET {service}{path}")
            await asyncio.sleep(0.2)

    async def _try(self, command: Command) -> Answered | str:
        headers = {**self._auth(command.by), "Idempotency-Key": command.key}
        try:
            response = await self._http[command.service].request(
                command.method, command.path, json=dict(command.body), headers=headers
            )
        except httpx.TransportError as error:
            return type(error).__name__
        if response.status_code in RETRIED_STATUSES:
            return f"HTTP {response.status_code}"
        body = response.json() if response.content else None
        return Answered(command, response.status_code, body)

    def _auth(self, party: Party) -> dict[str, str]:
        if party not in self._token_cache:
            self._token_cache[party] = self._tokens(party.role, party.subject)
        return {"Authorization": f"Bearer {self._token_cache[party]}"}


def _backoff(attempt: int) -> float:
    """Exponential with full jitter, 50 ms doubling up to 1 s: as a well-behaved client."""
    return random.uniform(0, min(1.0, 0.05 * 2**attempt))
