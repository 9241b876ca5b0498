"""The FastAPI app every service starts from: problems, health, metrics, tracing, context."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from starlette.types import Lifespan

from naervaer.http.health import Readiness, health_router
from naervaer.http.middleware import (
    DEFAULT_MAX_BODY_BYTES,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
)
from naervaer.http.problems import install_problem_handlers
from naervaer.observability.logging import log_context
from naervaer.observability.tracing import instrument_app


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
) -> FastAPI:
    """A FastAPI app for ``service`` with everything but its own routes.

    Middlewares, outermost first: tracing (server span) → request context (service and
    correlation id bound, access line, metrics) → body size limit → unhandled errors → routes.
    """
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=_in_service_context(service, lifespan),
        # FastAPI's built-in telemetry would use the global providers; ours is per service.
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
    )
    app.state.service = service
    app.state.readiness = readiness
    install_problem_handlers(app)  # adds the innermost middleware: must come first
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(RequestContextMiddleware, service=service)
    app.include_router(health_router(service, readiness))
    instrument_app(app, tracer_provider)
    return app


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
