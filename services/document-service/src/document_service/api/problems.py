"""The document domain's refusals as RFC 9457 problem details."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from document_service.domain.errors import DomainError
from naervaer.http.problems import Problem, ProblemResponse, problem_instance, problem_type

_TITLES = {
    403: "Not a party to the document",
    404: "Not found",
    409: "Conflicts with the stored record",
    410: "Erased after the retention period",
    413: "Attachment too large",
    415: "Attachment type not allowed",
}


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]


async def _domain_error(request: Request, exc: DomainError) -> Response:
    return ProblemResponse(
        Problem(
            type=problem_type(exc.rule),
            title=_TITLES.get(exc.status, "The request breaks a rule of the record"),
            status=exc.status,
            detail=exc.detail,
            instance=problem_instance(request.scope),
            rule=exc.rule,
        )
    )
