"""The last line of defence: an unexpected exception becomes a 500 problem, logged once.

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

from naervaer.http._model import Problem, ProblemResponse

log = structlog.stdlib.get_logger("naervaer.http")

GENERIC_DETAIL = "An unexpected error occurred. Quote the trace_id when reporting it."


class UnhandledErrorMiddleware:
    """Answer an unhandled exception with a 500 problem that reveals nothing of it."""

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
            problem = _internal_error(scope, exc)
            await ProblemResponse(problem)(scope, receive, send)


def _internal_error(scope: Scope, exc: Exception) -> Problem:
    span = trace.get_current_span()
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
    log.exception("unhandled error", method=scope.get("method"), path=scope.get("path"))
    extensions: dict[str, Any] = {}
    context = span.get_span_context()
    if context.is_valid:
        extensions["trace_id"] = format(context.trace_id, "032x")
    correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
    if correlation_id is not None:
        extensions["correlation_id"] = correlation_id
    return Problem.for_status(
        500, "internal-error", detail=GENERIC_DETAIL, instance=scope.get("path"), **extensions
    )
