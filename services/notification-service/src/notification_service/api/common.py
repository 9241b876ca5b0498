"""Helpers every route module shares: the caller with its access check, and problem answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Body, Depends, Path, Request

from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.auth.policy import Decision
from naervaer.auth.principal import Principal
from naervaer.http.problems import PROBLEM_RESPONSES, Problem, ProblemError
from notification_service.api.deps import Notifications, NotificationsDep

PartyId = Annotated[
    str, Path(min_length=1, max_length=128, description="The party as the tenant knows them.")
]


@dataclass(frozen=True)
class Caller:
    """Who calls (their verified principal), with what the routes work with."""

    request: Request
    principal: Principal
    deps: Notifications

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    async def check(
        self,
        decision: Decision,
        operation: str,
        resource: str,
        resource_id: str,
        *,
        case_id: str | None = None,
    ) -> None:
        """Record the access (innsynslogg), then refuse unless allowed (404 across tenants)."""
        await authorize(
            self.request,
            self.principal,
            decision,
            operation=operation,
            resource=resource,
            resource_id=resource_id,
            case_id=case_id,
            at=self.deps.clock.now(),
        )


def _caller(request: Request, principal: CurrentPrincipal, deps: NotificationsDep) -> Caller:
    return Caller(request, principal, deps)


CallerDep = Annotated[Caller, Depends(_caller)]


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
