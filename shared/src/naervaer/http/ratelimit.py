"""Rate limiting of writes per client: a token bucket per caller, in this process's memory.

Every client may make ``writes_per_minute`` writes (POST, PUT, PATCH, DELETE) a minute, in
bursts of up to the same number; reads are never limited. Over the limit a write is refused
with a 429 problem and ``Retry-After`` before its body is read or anything is decided.

Who is "a client": the verified token's tenant and subject when the request carries a valid
bearer token, else the client's IP address. An invalid or forged token counts against the IP,
so minting junk subjects does not buy fresh buckets. Behind a proxy the address is the proxy's
unless the server trusts its forwarding headers (uvicorn's ``--forwarded-allow-ips``).

The buckets live in memory, per process: with several replicas behind a load balancer the
effective limit is the per-process limit times the replicas (and a restart forgets them). That
is enough to stop a runaway integration from flooding one service; a hard global limit belongs
in the gateway in front of the services, which sees every replica's traffic.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from naervaer.auth.errors import KeysUnavailable, TokenError
from naervaer.auth.verify import TokenVerifier
from naervaer.http._instance import problem_instance
from naervaer.http._model import PROBLEM_MEDIA_TYPE, Problem, ProblemResponse
from naervaer.http._openapi import PROBLEM_SCHEMA_REF

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_CLIENTS = 10_000
"""Buckets kept at most; the least recently used go first (a full bucket is as good as none)."""

Clock = Callable[[], float]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One bucket per client key: ``capacity`` tokens, refilled at ``capacity`` per minute."""

    def __init__(
        self, per_minute: int, *, clock: Clock = time.monotonic, max_clients: int = MAX_CLIENTS
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self._rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when granted, else the seconds until one is due."""
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        self._remember(key, bucket)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate

    def _remember(self, key: str, bucket: _Bucket) -> None:
        self._buckets[key] = bucket  # re-inserted last: the most recently used
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)


class WriteRateLimitMiddleware:
    """Answer a client's writes beyond its budget with 429 and ``Retry-After`` (seconds)."""

    def __init__(
        self, app: ASGIApp, *, writes_per_minute: int, clock: Clock = time.monotonic
    ) -> None:
        self.app = app
        self.writes_per_minute = writes_per_minute
        self.buckets = TokenBuckets(writes_per_minute, clock=clock) if writes_per_minute else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        wait_s = self.buckets.take(await client_key(scope))
        if wait_s <= 0:
            await self.app(scope, receive, send)
            return
        await self._refuse(scope, receive, send, retry_after=max(1, math.ceil(wait_s)))

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, *, retry_after: int
    ) -> None:
        problem = Problem.for_status(
            429,
            "rate-limited",
            title="Too many requests",
            detail=f"More than {self.writes_per_minute} writes a minute from this client. "
            f"Retry after {retry_after} s.",
            instance=problem_instance(scope),
        )
        # The body was not read: closing beats making the server read and discard it.
        headers = {"Retry-After": str(retry_after), "Connection": "close"}
        await ProblemResponse(problem, headers=headers)(scope, receive, send)


async def client_key(scope: Scope) -> str:
    """``tenant/subject`` of a valid bearer token, else the client's IP address."""
    token = _bearer_token(Headers(scope=scope))
    app = scope.get("app")
    verifier = getattr(getattr(app, "state", None), "token_verifier", None)
    if token is not None and isinstance(verifier, TokenVerifier):
        try:
            principal = await verifier.verify_async(token)
        except (TokenError, KeysUnavailable):
            pass  # the route will refuse it; until then it is just traffic from an address
        else:
            return f"principal:{principal.tenant}/{principal.subject}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


def document_rate_limit(app: FastAPI) -> None:
    """Document the 429 answer on every write operation of ``app``'s OpenAPI document."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    response = {
        "description": "Too many writes from this client; retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
    }

    def openapi() -> dict[str, Any]:
        schema = generate()
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if method.upper() in WRITE_METHODS:
                    operation.setdefault("responses", {}).setdefault("429", response)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override hook


def _bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
