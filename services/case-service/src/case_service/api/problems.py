"""Domain errors and refusals as RFC 9457 problem details.

A broken rule answers with its own problem type (``urn:naervaer:problem:<rule>``) and the
``rule`` member; a stale ``If-Match`` answers 412 with the current version's ETag.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from case_service.app.meta import PreconditionFailed
from case_service.domain.errors import DomainError
from naervaer.http.problems import (
    PROBLEM_RESPONSES,
    Problem,
    ProblemResponse,
    problem_instance,
    problem_type,
)

_TITLES = {
    404: "Not found",
    409: "Based on a stale version",
    422: "The command breaks a rule of the domain",
}


_DOCUMENTED: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    410: {
        **PROBLEM_RESPONSES[404],
        "description": "Gone: the employee's personal data in this case was erased after the "
        "retention period (`case_erased`).",
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the problem answers it documents."""
    return {status: _DOCUMENTED[status] for status in statuses}


COMMAND_RESPONSES = responses(400, 401, 403, 404, 409, 410, 412, 422)
"""What every command on an existing case may answer besides 200."""


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(PreconditionFailed, _precondition_failed)  # type: ignore[arg-type]


async def _domain_error(request: Request, exc: DomainError) -> Response:
    return ProblemResponse(
        Problem(
            type=problem_type(exc.rule),
            title=exc.title or _TITLES.get(exc.status, _TITLES[422]),
            status=exc.status,
            detail=exc.detail,
            instance=problem_instance(request.scope),
            rule=exc.rule,
            **exc.extensions,
        )
    )


async def _precondition_failed(request: Request, exc: PreconditionFailed) -> Response:
    problem = Problem.for_status(
        412,
        "precondition_failed",
        title="Precondition failed",
        detail=f"If-Match does not name the current version ({exc.current_version}): read "
        "again, then retry with the new ETag.",
        instance=problem_instance(request.scope),
        current_version=exc.current_version,
    )
    return ProblemResponse(problem, headers={"ETag": f'"{exc.current_version}"'})
