"""The FastAPI app every service starts from: problems, health, metrics, tracing, context."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

from fastapi import Depends, FastAPI
from opentelemetry.sdk.trace import TracerProvider
from starlette.types import Lifespan

from naervaer.http.health import Readiness, health_router
from naervaer.http.middleware import (
    DEFAULT_MAX_BODY_BYTES,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
)
from naervaer.http.nul_guard import document_nul_refusal, refuse_nul_characters
from naervaer.http.problems import install_problem_handlers
from naervaer.http.ratelimit import WriteRateLimitMiddleware, document_rate_limit
from naervaer.observability.logging import log_context
from naervaer.observability.tracing import instrument_app
from naervaer.settings import PlatformSettings


def create_service_app(
    *,
    service: str,
    version: str,
    title: str,
    description: str,
    lifespan: Lifespan[FastAPI] | None,
    tracer_provider: TracerProvider,
    readiness: Readiness,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    rate_limit_writes_per_minute: int | None = None,
) -> FastAPI:
    """A FastAPI app for ``service`` with everything but its own routes.

    Middlewares, outermost first: tracing (server span) → request context (service and
    correlation id bound, access line, metrics) → write rate limit → body size limit →
    unhandled errors → routes. ``rate_limit_writes_per_minute`` None reads
    ``NAERVAER_RATE_LIMIT_WRITES_PER_MINUTE`` (``PlatformSettings``); 0 turns the limit off.
    Every route refuses a NUL character in its path, query or body (``nul_guard``).
    """
    if rate_limit_writes_per_minute is None:
        rate_limit_writes_per_minute = PlatformSettings().rate_limit_writes_per_minute
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=_in_service_context(service, lifespan),
        # FastAPI's built-in telemetry would use the global providers; ours is per service.
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
        # PostgreSQL cannot store U+0000: refused for every route, on every backend alike.
        dependencies=[Depends(refuse_nul_characters)],
    )
    app.state.service = service
    app.state.readiness = readiness
    install_problem_handlers(app)  # adds the innermost middleware: must come first
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(WriteRateLimitMiddleware, writes_per_minute=rate_limit_writes_per_minute)
    document_rate_limit(app)
    document_nul_refusal(app)
    app.add_middleware(RequestContextMiddleware, service=service)
    app.include_router(health_router(service, readiness))
    instrument_app(app, tracer_provider)
    return app


def set_max_body_bytes(app: FastAPI, max_bytes: int) -> None:
    """Change the body size limit of ``app`` before it serves (e.g. a service taking uploads).

    The limit counts streamed bodies as they arrive, so raising it for uploads still refuses a
    body without Content-Length as soon as it passes ``max_bytes``.
    """
    limits = [m for m in app.user_middleware if cast(object, m.cls) is BodySizeLimitMiddleware]
    if len(limits) != 1 or app.middleware_stack is not None:
        raise RuntimeError("set the body size limit once the app is created, before it serves")
    limits[0].kwargs["max_bytes"] = max_bytes


def _in_service_context(service: str, lifespan: Lifespan[FastAPI] | None) -> Lifespan[FastAPI]:
    """Run ``lifespan`` with the service bound for logging.

    Background tasks it starts (outbox relay, consumers) copy the context when created, so
    their log lines say which service they belong to even with four services in one process.
    """

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[Mapping[str, Any]]:
        with log_context(service=service):
            if lifespan is None:
                yield {}
                return
            async with lifespan(app) as state:
                yield state or {}

    return run
