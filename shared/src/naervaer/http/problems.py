"""RFC 9457 problem details for every error a service answers with.

``install_problem_handlers(app)`` makes each failure an ``application/problem+json`` document:
invalid requests (422, with one ``errors`` entry per invalid value), malformed JSON (400),
``HTTPException`` (its own status: 404 unknown route, 405 wrong method …), ``ProblemError`` (its
problem), the event store's ``ConcurrencyConflict`` (409) and ``IdempotencyKeyReused`` (422,
``idempotency_key_reused``), and anything unexpected (500 with a
``trace_id`` and nothing of the exception itself). Request values are never echoed back: they may
be health data (helseopplysninger) or national identity numbers (fødselsnummer); nor are the
personal ids in the path (``instance`` names the parameter instead, see ``problem_instance``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from naervaer.http._instance import PERSONAL_PATH_PARAMS, problem_instance
from naervaer.http._model import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_PREFIX,
    InvalidParam,
    Problem,
    ProblemError,
    ProblemResponse,
    problem_type,
)
from naervaer.http._openapi import PROBLEM_SCHEMA_REF, use_problem_schemas
from naervaer.http._unhandled import UnhandledErrorMiddleware

log = structlog.stdlib.get_logger("naervaer.http")

__all__ = [
    "PERSONAL_PATH_PARAMS",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_RESPONSES",
    "PROBLEM_TYPE_PREFIX",
    "InvalidParam",
    "Problem",
    "ProblemError",
    "ProblemResponse",
    "install_problem_handlers",
    "invalid_params",
    "problem_instance",
    "problem_type",
]

_DOCUMENTED = {
    400: "Malformed request, e.g. a body that is not JSON.",
    401: "No valid bearer token; see the `WWW-Authenticate` header.",
    403: "The caller's role does not allow this.",
    404: "No such resource.",
    409: "Conflict: the resource changed since it was read (optimistic concurrency).",
    412: "Precondition failed: `If-Match` does not match the current version.",
    413: "The request body is larger than the service accepts.",
    422: "The request is well-formed but invalid; `errors` lists each invalid value.",
    429: "Too many requests; retry after the `Retry-After` seconds.",
    500: "Unexpected error; quote `trace_id` when reporting it.",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
    }
    for status, description in _DOCUMENTED.items()
}
"""``responses=`` for routes: documents the problem answers in OpenAPI."""


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem document (see the module docstring).

    Adds a middleware: call it before adding middlewares that should see the 500 responses.
    """
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ProblemError, _problem_error)
    for name, handler in (
        ("ConcurrencyConflict", _concurrency_conflict),
        ("IdempotencyKeyReused", _idempotency_key_reused),
        ("StreamOfAnotherTenant", _stream_of_another_tenant),
    ):
        error_class = _event_store_error(name)
        if error_class is not None:
            app.add_exception_handler(error_class, handler)
    app.add_middleware(UnhandledErrorMiddleware)
    use_problem_schemas(app)


def invalid_params(errors: Sequence[Mapping[str, Any]]) -> list[InvalidParam]:
    """Pydantic/FastAPI validation errors as ``errors`` entries, without the input values."""
    return [
        InvalidParam(location=_location(e.get("loc", ())), message=e["msg"], type=e["type"])
        for e in errors
    ]


async def _validation_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if malformed is not None:
        return _answer(request, _malformed_json(malformed))
    problem = Problem.for_status(
        422,
        "validation-error",
        title="Invalid request",
        detail=f"{len(errors)} value(s) in the request are invalid; see errors.",
        errors=invalid_params(errors),
    )
    return _answer(request, problem)


def _malformed_json(error: Mapping[str, Any]) -> Problem:
    reason = (error.get("ctx") or {}).get("error", "invalid JSON")
    loc = error.get("loc", ())
    position = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
    return Problem.for_status(
        400,
        "malformed-json",
        title="Malformed JSON",
        detail=f"The request body is not valid JSON: {reason}{position}.",
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = Problem.for_status(exc.status_code).title
    extensions: dict[str, Any] = {}
    if isinstance(exc.detail, str):
        # Starlette fills in the status phrase when no detail was given: not worth repeating.
        extensions["detail"] = exc.detail if exc.detail and exc.detail != title else None
    elif exc.detail is not None:
        extensions["details"] = exc.detail  # FastAPI allows structured details
    return _answer(request, Problem.for_status(exc.status_code, **extensions), exc.headers)


async def _problem_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return _answer(request, exc.problem, exc.headers)


async def _concurrency_conflict(request: Request, exc: Exception) -> Response:
    stream_id = getattr(exc, "stream_id", None)
    expected = getattr(exc, "expected_version", None)
    actual = getattr(exc, "actual_version", None)
    problem = Problem.for_status(
        409,
        "concurrency-conflict",
        title="Concurrency conflict",
        detail=f"{stream_id} was changed by another request (now at version {actual}). "
        "Read it again and retry.",
        stream_id=stream_id,
        expected_version=expected,
        actual_version=actual,
    )
    return _answer(request, problem)


async def _idempotency_key_reused(request: Request, _exc: Exception) -> Response:
    rule = "idempotency_key_reused"
    problem = Problem.for_status(
        422,
        rule,
        title="Idempotency key reused",
        detail="This Idempotency-Key was first used for a request with another body. A retry "
        "must repeat the request exactly; a new request needs a new key.",
        rule=rule,
    )
    return _answer(request, problem)


async def _stream_of_another_tenant(request: Request, exc: Exception) -> Response:
    log.warning(
        "append refused: the stream is another tenant's",
        stream_id=getattr(exc, "stream_id", None),
        tenant=getattr(exc, "tenant", None),
    )
    return _answer(request, Problem.for_status(404))


def _answer(
    request: Request, problem: Problem, headers: Mapping[str, str] | None = None
) -> ProblemResponse:
    if problem.instance is None:
        problem = problem.model_copy(update={"instance": problem_instance(request.scope)})
    return ProblemResponse(problem, headers=headers)


def _location(loc: Sequence[str | int]) -> str:
    if not loc:
        return "#"
    source, *path = loc
    if source == "body":
        # RFC 6901 JSON pointer into the request body, with its two escapes.
        return "#" + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
    return ".".join(str(part) for part in loc)


def _event_store_error(name: str) -> type[Exception] | None:
    # naervaer.eventstore depends on nothing here, but is optional for this module: an app
    # without an event store (or a checkout before it existed) still gets its handlers.
    for module_name in ("naervaer.eventstore.errors", "naervaer.eventstore"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise  # a missing dependency inside the event store is a real error
            continue
        candidate = getattr(module, name, None)
        if isinstance(candidate, type) and issubclass(candidate, Exception):
            return candidate
    return None
