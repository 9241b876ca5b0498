"""Domain errors and refusals as RFC 9457 problem details."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from case_service.app.errors import NotAllowed
from case_service.domain.errors import CaseNotFound, DomainError
from naervaer.auth.fastapi import forbidden
from naervaer.http.problems import Problem, ProblemResponse, problem_type


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(NotAllowed, _not_allowed)  # type: ignore[arg-type]


async def _domain_error(request: Request, exc: DomainError) -> Response:
    status = 404 if isinstance(exc, CaseNotFound) else 422
    return ProblemResponse(
        Problem(
            type=problem_type(exc.rule),
            title="Case not found" if status == 404 else "The command breaks a rule of the domain",
            status=status,
            detail=exc.detail,
            instance=request.url.path,
            rule=exc.rule,
        )
    )


async def _not_allowed(_request: Request, exc: NotAllowed) -> Response:
    refusal = forbidden(exc.decision)
    return ProblemResponse(refusal.problem, headers=refusal.headers)
