"""The last line of defence: an unexpected exception becomes a 500 problem, logged once; a
database out of reach (an outage, see ``naervaer.outages``) a 503 with ``Retry-After``.

Starlette's own 500 handler runs after the request's span has ended and re-raises, so the server
logs the traceback a second time without our context. This middleware sits inside the tracing
middleware: the span is still current, so the log line and the answer carry its ``trace_id``.
"""

from __future__ import annotations

from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from naervaer.http._instance import problem_instance
from naervaer.http._model import Problem, ProblemResponse
from naervaer.outages import is_outage

log = structlog.stdlib.get_logger("naervaer.http")

GENERIC_DETAIL = "An unexpected error occurred. Quote the trace_id when reporting it."
UNAVAILABLE_DETAIL = (
    "The service cannot reach its database (or another service it needs) just now. "
    "Retry the request later; with the same Idempotency-Key a retried write is safe."
)
RETRY_AFTER = {"Retry-After": "1"}


class UnhandledErrorMiddleware:
    """Answer an unhandled exception with a 500 problem that reveals nothing of it (503 when
    the database is out of reach)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # too late for a problem document; the server drops the connection
            if is_outage(exc):
                # Not the request's fault: retrying it (same Idempotency-Key) is safe and useful.
                response = ProblemResponse(_unavailable(scope, exc), headers=RETRY_AFTER)
            else:
                response = ProblemResponse(_internal_error(scope, exc))
            await response(scope, receive, send)


def _internal_error(scope: Scope, exc: Exception) -> Problem:
    _record(exc)
    log.exception("unhandled error", method=scope.get("method"), path=scope.get("path"))
    return Problem.for_status(500, "internal-error", detail=GENERIC_DETAIL, **_where(scope))


def _unavailable(scope: Scope, exc: Exception) -> Problem:
    """503: the database (or another peer) is out of reach, e.g. restarting."""
    _record(exc)
    # The type only: a driver's message may quote the statement and its parameters.
    log.warning(
        "dependency unavailable",
        method=scope.get("method"),
        path=scope.get("path"),
        error=type(exc).__qualname__,
    )
    return Problem.for_status(503, "unavailable", detail=UNAVAILABLE_DETAIL, **_where(scope))


def _record(exc: Exception) -> None:
    span = trace.get_current_span()
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))


def _where(scope: Scope) -> dict[str, Any]:
    """The problem's ``instance`` and the ids to quote when reporting it."""
    span = trace.get_current_span()
    extensions: dict[str, Any] = {"instance": problem_instance(scope)}
    context = span.get_span_context()
    if context.is_valid:
        extensions["trace_id"] = format(context.trace_id, "032x")
    correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
    if correlation_id is not None:
        extensions["correlation_id"] = correlation_id
    return extensions
