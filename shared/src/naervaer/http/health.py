"""Liveness, readiness and metrics endpoints for orchestrators and Prometheus.

``/healthz`` answers as long as the process serves requests (restart me if not); ``/readyz`` runs
the service's named checks (database reachable, …) and answers 503 while any fails (send me no
traffic); ``/metrics`` is the Prometheus text format of the default registry. None of them is part
of the public API, so they stay out of the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.responses import Response

Check = Callable[[], Awaitable[bool | None]]
"""A readiness check: returns True/None when ready, False (or raises) when not."""

log = structlog.stdlib.get_logger("naervaer.http.health")
_NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    duration_ms: float
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "ok" if self.ok else "failed"}
        body["duration_ms"] = self.duration_ms
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class Readiness:
    """The named checks behind ``/readyz``; all run concurrently, each under ``timeout_s``."""

    def __init__(self, *, timeout_s: float = 2.0) -> None:
        self.timeout_s = timeout_s
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        if name in self._checks:
            raise ValueError(f"readiness check {name!r} added twice")
        self._checks[name] = check

    async def run(self) -> list[CheckResult]:
        return list(await asyncio.gather(*(self._run(n, c) for n, c in self._checks.items())))

    async def _run(self, name: str, check: Check) -> CheckResult:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                ok, detail = (await check()) is not False, None
        except TimeoutError:
            ok, detail = False, f"no answer within {self.timeout_s:g}s"
        except Exception as exc:
            # The reason goes to the log, not to the unauthenticated endpoint.
            log.warning("readiness check failed", check=name, exc_info=True)
            ok, detail = False, type(exc).__name__
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        return CheckResult(name, ok, elapsed, detail if not ok else None)


def health_router(service: str, readiness: Readiness) -> APIRouter:
    """``GET /healthz``, ``GET /readyz`` and ``GET /metrics`` for one service."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "service": service}, headers=_NO_STORE)

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        results = await readiness.run()
        ready = all(result.ok for result in results)
        body = {
            "status": "ok" if ready else "unavailable",
            "service": service,
            "checks": {result.name: result.as_json() for result in results},
        }
        return JSONResponse(body, status_code=200 if ready else 503, headers=_NO_STORE)

    @router.get("/metrics")
    async def metrics() -> Response:
        # One registry per process: in the embedded default it holds all four services,
        # told apart by their ``service`` label.
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
