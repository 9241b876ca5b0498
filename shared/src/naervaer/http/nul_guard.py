"""Refuse the NUL character (U+0000) in a request's path, query or body, on every backend.

PostgreSQL cannot hold U+0000 in ``text`` nor in ``jsonb``: a NUL that reached a query or an
insert made the driver fail and the service answer 500 (found by ``tests/hostile``). SQLite
would store it, so the same request behaved differently per backend. No identifier or text of
ours has a use for it, so it is refused at the door with a 400 problem, the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from naervaer.http._model import PROBLEM_MEDIA_TYPE, InvalidParam, Problem, ProblemError
from naervaer.http._openapi import PROBLEM_SCHEMA_REF

NUL = "\x00"
# JSON's escape for U+0000, not itself escaped: an even run of backslashes (escaped
# backslashes) and then \u0000. A raw NUL byte is not valid JSON and fails parsing already.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_NUL_TYPE = "nul_character"


async def refuse_nul_characters(request: Request) -> None:
    """App-wide dependency: a 400 problem when the path, the query or the body holds U+0000."""
    location = _nul_location(request) or await _nul_in_body(request)
    if location is None:
        return
    message = "The NUL character (U+0000) is not allowed anywhere in a request."
    problem = Problem.for_status(
        400,
        "nul-character",
        title="NUL character in the request",
        detail=message,
        errors=[InvalidParam(location=location, message=message, type=_NUL_TYPE)],
    )
    raise ProblemError(problem)


def document_nul_refusal(app: FastAPI) -> None:
    """Document the 400 answer on every operation of ``app``'s OpenAPI document."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    response = {
        "description": "Malformed request: a body that is not JSON, or a NUL character "
        "(U+0000) in the path, the query or the body.",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
    }

    def openapi() -> dict[str, Any]:
        schema = generate()
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if isinstance(operation, dict) and method != "parameters":
                    operation.setdefault("responses", {}).setdefault("400", response)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override hook


def _nul_location(request: Request) -> str | None:
    # The decoded path as routing sees it, read from the scope: ``request.url.path`` builds
    # and re-parses a whole URL first (with the query's parsing, ~2 % of a W3 command's CPU).
    if NUL in request.scope.get("root_path", "") + request.scope["path"]:
        return "path"
    query: bytes = request.scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None  # nothing to decode to U+0000: the query is not parsed for nothing
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            return f"query.{name.replace(NUL, '?')}"
    return None


async def _nul_in_body(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "").lower()
    if request.method in ("GET", "HEAD") or content_type.startswith(_FORM_TYPES):
        return None  # uploads are files, not text; their names are sanitised where stored
    return "#" if _NUL_ESCAPE.search(await request.body()) else None
