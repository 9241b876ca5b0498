"""Routes of the deadline API (port 8002): timelines, the worklist and managers' calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from deadline_service.api.access import (
    authorize_case,
    readable,
    refuse_other_managers,
    worklist_scope,
)
from deadline_service.api.deps import QueriesDep
from deadline_service.api.schemas import ObligationOut, TimelineOut, WorklistItem, WorklistOut
from deadline_service.app.ical import calendar
from deadline_service.app.queries import WorklistFilter
from deadline_service.domain.kinds import Responsible, Status
from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.auth.policy import Decision
from naervaer.auth.principal import Principal, Role
from naervaer.http.problems import PROBLEM_RESPONSES, Problem, ProblemError

router = APIRouter(prefix="/v1", tags=["deadlines"])
CALENDAR_MEDIA_TYPE = "text/calendar"
PENDING = frozenset({Status.UPCOMING, Status.DUE_SOON, Status.OVERDUE})


def _problems(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {status: PROBLEM_RESPONSES[status] for status in statuses}


@router.get(
    "/cases/{case_id}/timeline",
    response_model=TimelineOut,
    responses=_problems(401, 403, 404),
    summary="The case's obligation timeline, with each obligation's status today",
)
async def get_timeline(
    case_id: str, queries: QueriesDep, principal: CurrentPrincipal, request: Request
) -> TimelineOut:
    case = await queries.case(case_id)
    if case is None:
        raise ProblemError(Problem.for_status(404, detail="No such resource."))
    await authorize_case(request, principal, case)
    entries = await queries.timeline(case_id)
    return TimelineOut(case_id=case_id, obligations=[ObligationOut.of(e) for e in entries])


@router.get(
    "/obligations",
    response_model=WorklistOut,
    responses=_problems(401, 403, 422),
    summary="The worklist: obligations of the cases the caller may see, filtered",
)
async def get_worklist(
    queries: QueriesDep,
    principal: CurrentPrincipal,
    request: Request,
    status: Status | None = None,
    responsible: Responsible | None = None,
    manager_id: Annotated[str | None, Query(max_length=200)] = None,
    org_unit: Annotated[str | None, Query(max_length=200)] = None,
    due_before: Annotated[date | None, Query(description="Due strictly before this day")] = None,
) -> WorklistOut:
    refuse_other_managers(principal, manager_id)
    wanted = WorklistFilter(status, responsible, manager_id, org_unit, due_before)
    entries = await queries.worklist(principal.tenant, worklist_scope(principal), wanted)
    shown = await readable(request, principal, entries)
    return WorklistOut(today=queries.today(), obligations=[WorklistItem.of(e) for e in shown])


@router.get(
    "/managers/{manager_id}/deadlines.ics",
    response_class=Response,
    responses={
        200: {"content": {CALENDAR_MEDIA_TYPE: {}}, "description": "An iCalendar feed."},
        **_problems(401, 403),
    },
    summary="A manager's open deadlines as an iCalendar feed (the manager themself, or HR)",
)
async def get_manager_calendar(
    manager_id: str, queries: QueriesDep, principal: CurrentPrincipal, request: Request
) -> Response:
    await authorize(
        request,
        principal,
        _calendar_decision(principal, manager_id),
        operation="read",
        resource="manager-deadlines",
        resource_id=manager_id,
    )
    wanted = WorklistFilter(manager_id=manager_id)
    entries = await queries.worklist(principal.tenant, [], wanted)
    open_ones = [e for e in entries if e.status in PENDING]
    shown = await readable(request, principal, open_ones)
    body = calendar(shown, name=f"Deadlines of {manager_id}", stamp=datetime.now(UTC))
    return Response(body, media_type=f"{CALENDAR_MEDIA_TYPE}; charset=utf-8")


def _calendar_decision(principal: Principal, manager_id: str) -> Decision:
    if principal.has(Role.MANAGER) and principal.subject == manager_id:
        return Decision(True, "the manager's own deadlines", Role.MANAGER)
    for role in (Role.HR, Role.SYSTEM):
        if principal.has(role):
            return Decision(True, "HR of the tenant", role)
    return Decision(False, "only the manager themself or HR may read a manager's deadlines")
