"""Per-request middlewares every service shares: context, access log, metrics, body size limit.

Plain ASGI middlewares rather than ``BaseHTTPMiddleware``: they run in the request's own task, so
the contextvars bound here are the ones handlers and their log lines see.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import structlog
from opentelemetry import trace
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from naervaer.http._instance import problem_instance
from naervaer.http._model import Problem, ProblemResponse
from naervaer.observability.logging import log_context
from naervaer.observability.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

CORRELATION_HEADER = "X-Correlation-Id"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# A caller's id is reused only if it is short and plain: it goes into every log line.
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes come every few seconds: their access lines are debug noise.
_OPERATIONAL_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = structlog.stdlib.get_logger("naervaer.http.access")


class RequestContextMiddleware:
    """Bind service and correlation id, echo the id, log one access line, count the request.

    The correlation id (``X-Correlation-Id``) is taken from the request when usable, else made
    up; it is returned in the response and travels on in the events the request causes.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = correlation_id_of(Headers(scope=scope))
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("naervaer.correlation_id", correlation_id)
        status = 500  # what the server answers if the app fails before responding
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        with log_context(service=self.service, correlation_id=correlation_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        route = route_template(scope)
        HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
        HTTP_REQUEST_SECONDS.labels(self.service, method, route).observe(seconds)
        # The path only: query strings may hold personal data (names, identity numbers).
        level = logging.DEBUG if scope["path"] in _OPERATIONAL_PATHS else logging.INFO
        access_log.log(
            level,
            "request",
            method=scope["method"],
            path=scope["path"],
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 1),
        )


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with a 413 problem.

    A declared ``Content-Length`` is checked before the app runs; a chunked body is counted as it
    is read, so a client cannot stream around the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(Headers(scope=scope))
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise ContentTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except ContentTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        instance = problem_instance(scope)
        problem = content_too_large(self.max_bytes).model_copy(update={"instance": instance})
        # The body was not read: closing beats making the server read and discard it.
        await ProblemResponse(problem, headers={"Connection": "close"})(scope, receive, send)


class ContentTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit.

    An ``HTTPException`` because FastAPI passes those through while it reads a body (anything
    else becomes a generic 400), so the problem handlers answer it as a 413.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, detail=content_too_large(max_bytes).detail)


def content_too_large(max_bytes: int) -> Problem:
    return Problem.for_status(
        413, detail=f"The request body is larger than the limit of {max_bytes} bytes."
    )


def correlation_id_of(headers: Headers) -> str:
    """The caller's correlation id when it is usable, else a new one."""
    given = headers.get(CORRELATION_HEADER)
    if given is not None and _CORRELATION_ID.fullmatch(given):
        return given
    return str(uuid.uuid4())


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/cases/{case_id}``): bounded metric labels."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.isdigit():
        return None  # the server (h11/httptools) refuses malformed lengths itself
    return int(value)
