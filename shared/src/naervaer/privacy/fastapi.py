"""The diagnosis guard as a FastAPI dependency, for every route that takes free text."""

from __future__ import annotations

from fastapi import Request

from naervaer.auth.fastapi import CurrentPrincipal
from naervaer.http.problems import InvalidParam, Problem, ProblemError
from naervaer.privacy.diagnosis import find_diagnosis

DIAGNOSIS_NOT_ALLOWED = "diagnosis_not_allowed"


async def refuse_diagnosis(request: Request, _principal: CurrentPrincipal) -> None:
    """No write body may carry a diagnosis, at any depth (function, not diagnosis).

    Runs after authentication and before the body is validated, so a diagnosis is refused
    as such even where the body is otherwise invalid. Malformed JSON is left to FastAPI (400).
    The body is parsed once: ``Request.json`` keeps what FastAPI parsed for the route.
    """
    if not await request.body():
        return
    try:
        document = await request.json()
    except ValueError:
        return
    finding = find_diagnosis(document)
    if finding is None:
        return
    location = "#" + finding.pointer
    problem = Problem.for_status(
        422,
        DIAGNOSIS_NOT_ALLOWED,
        title="Diagnosis data is not allowed",
        detail=finding.explanation,
        rule=DIAGNOSIS_NOT_ALLOWED,
        errors=[InvalidParam(location=location, message=finding.explanation, type=finding.reason)],
    )
    raise ProblemError(problem)
