"""Routes of the case API (port 8001)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from case_service.adapters.repository import StoredCase
from case_service.api.deps import CasesDep, HandlersDep, MetaDep
from case_service.api.schemas import (
    CaseResponse,
    CaseVersionResponse,
    EventResponse,
    EventsResponse,
    OpenCaseRequest,
)
from case_service.app.commands import OpenCase
from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.auth.policy import CaseRef, can_read_case
from naervaer.http.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.post(
    "",
    status_code=201,
    response_model=CaseVersionResponse,
    responses={k: PROBLEM_RESPONSES[k] for k in (400, 401, 403, 409, 422)},
    summary="Open a case on the first day of absence",
)
async def open_case(
    body: OpenCaseRequest, handlers: HandlersDep, meta: MetaDep, response: Response
) -> CaseVersionResponse:
    command = OpenCase(case_id=str(uuid.uuid4()), **body.model_dump())
    result = await handlers.open_case(command, meta)
    response.headers["Location"] = f"/v1/cases/{result.case_id}"
    response.headers["ETag"] = f'"{result.version}"'
    return CaseVersionResponse(case_id=result.case_id, version=result.version)


@router.get(
    "/{case_id}",
    response_model=CaseResponse,
    responses={k: PROBLEM_RESPONSES[k] for k in (401, 403, 404, 422)},
    summary="The case's current state, or its state as of a point in time",
)
async def get_case(
    case_id: str,
    cases: CasesDep,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
    as_of: Annotated[datetime | None, Query(description="State as it was at this time")] = None,
) -> CaseResponse:
    stored = await cases.get(case_id, as_of=as_of)
    await _authorise_read(request, principal, stored)
    case, opened = stored.case, stored.opened
    response.headers["ETag"] = f'"{case.version}"'
    return CaseResponse(
        case_id=case.case_id,
        version=case.version,
        tenant=stored.tenant,
        status=case.status,
        employee_id=opened.employee_id,
        manager_id=opened.manager_id,
        org_unit=opened.org_unit,
        first_absence_day=opened.first_absence_day,
    )


@router.get(
    "/{case_id}/events",
    response_model=EventsResponse,
    responses={k: PROBLEM_RESPONSES[k] for k in (401, 403, 404)},
    summary="The case's history: every event, oldest first",
)
async def get_case_events(
    case_id: str, cases: CasesDep, principal: CurrentPrincipal, request: Request
) -> EventsResponse:
    stored = await cases.get(case_id)
    await _authorise_read(request, principal, stored)
    envelopes = await cases.store.read_stream(case_id)
    return EventsResponse(
        case_id=case_id,
        events=[
            EventResponse(
                id=str(e.id),
                type=e.type,
                time=e.time.isoformat(),
                streamversion=e.streamversion,
                data=e.data,
            )
            for e in envelopes
        ],
    )


async def _authorise_read(
    request: Request, principal: CurrentPrincipal, stored: StoredCase
) -> None:
    opened = stored.opened
    ref = CaseRef(
        tenant=stored.tenant,
        case_id=opened.case_id,
        employee_id=opened.employee_id,
        manager_id=opened.manager_id,
        org_unit=opened.org_unit,
    )
    await authorize(
        request,
        principal,
        can_read_case(principal, ref),
        operation="read",
        resource="case",
        resource_id=opened.case_id,
        case_id=opened.case_id,
    )
