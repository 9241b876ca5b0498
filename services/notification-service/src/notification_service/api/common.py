"""Helpers every route module shares: recording the access, and problem answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path, Request

from naervaer.auth.fastapi import authorize
from naervaer.auth.policy import Decision
from naervaer.auth.principal import Principal
from naervaer.http.problems import PROBLEM_RESPONSES, Problem, ProblemError
from notification_service.api.deps import Notifications

PartyId = Annotated[
    str, Path(min_length=1, max_length=128, description="The party as the tenant knows them.")
]


async def check_access(
    request: Request,
    principal: Principal,
    deps: Notifications,
    decision: Decision,
    *,
    operation: str,
    resource: str,
    resource_id: str,
    case_id: str | None = None,
) -> None:
    """Record the access (innsynslogg), then refuse unless allowed (404 across tenants)."""
    await authorize(
        request,
        principal,
        decision,
        operation=operation,
        resource=resource,
        resource_id=resource_id,
        case_id=case_id,
        at=deps.clock.now(),
    )


def not_found(detail: str) -> ProblemError:
    return ProblemError(Problem.for_status(404, detail=detail))


def unprocessable(slug: str, detail: str) -> ProblemError:
    return ProblemError(Problem.for_status(422, slug, detail=detail))


def example(value: dict[str, Any]) -> Any:
    """``Body(...)`` documenting ``value`` as the request body's example in OpenAPI."""
    return Body(openapi_examples={"example": {"value": value}})


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` documenting the problem answers a route can give."""
    return {status: PROBLEM_RESPONSES[status] for status in statuses}
