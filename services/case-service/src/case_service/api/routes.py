"""Routes of the case API (port 8001): open a case, read it, and its lifecycle commands.

The other commands live beside this module by theme (sick leave, follow-up, measures); the
employer's own records (employees, case policy) in ``record_routes``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from case_service.adapters.repository import StoredCase
from case_service.adapters.streams import read_unsealed
from case_service.api.deps import (
    CaseCommandsDep,
    CasesDep,
    HandlersDep,
    MetaDep,
    authorize_case,
)
from case_service.api.examples import example
from case_service.api.problems import COMMAND_RESPONSES, responses
from case_service.api.schemas import (
    CaseResponse,
    CaseVersionResponse,
    EventResponse,
    EventsResponse,
)
from case_service.app.access import case_ref
from case_service.app.commands import (
    CloseCase,
    OpenCase,
    ReassignManager,
    ReopenCase,
    ReturnToWork,
    WaiveObligation,
)
from naervaer.auth.fastapi import CurrentPrincipal
from naervaer.auth.policy import can_read_case
from naervaer.privacy.fastapi import refuse_diagnosis
from naervaer.privacy.keyring import KEYRING
from naervaer.privacy.sealing import unseal_data

router = APIRouter(prefix="/v1/cases", tags=["cases"], dependencies=[Depends(refuse_diagnosis)])


@router.post(
    "",
    status_code=201,
    responses=responses(400, 401, 403, 409, 422),
    summary="Open a case on the first day of absence",
)
async def open_case(
    body: Annotated[OpenCase, example(OpenCase)],
    handlers: HandlersDep,
    meta: MetaDep,
    response: Response,
) -> CaseVersionResponse:
    result = await handlers.open_case(str(uuid.uuid4()), body, meta)
    response.headers["Location"] = f"/v1/cases/{result.case_id}"
    response.headers["ETag"] = f'"{result.version}"'
    return CaseVersionResponse(case_id=result.case_id, version=result.version)


@router.get(
    "/{case_id}",
    responses=responses(401, 403, 404, 410, 422),
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
        manager_id=case.manager_id or opened.manager_id,
        org_unit=opened.org_unit,
        first_absence_day=opened.first_absence_day,
    )


@router.get(
    "/{case_id}/events",
    responses=responses(401, 403, 404, 410),
    summary="The case's history: every event, oldest first, personal fields decrypted",
)
async def get_case_events(
    case_id: str, cases: CasesDep, principal: CurrentPrincipal, request: Request
) -> EventsResponse:
    stored = await cases.get(case_id)
    await _authorise_read(request, principal, stored)
    envelopes = await read_unsealed(cases.store, case_id, cases.sealer.vault)
    return EventsResponse(
        case_id=case_id,
        events=[
            EventResponse(
                id=str(e.id),
                type=e.type,
                time=e.time.isoformat(),
                streamversion=e.streamversion,
                data=unseal_data(dict(e.data), KEYRING.lookup),
            )
            for e in envelopes
        ],
    )


@router.post(
    "/{case_id}/reassign-manager",
    responses=COMMAND_RESPONSES,
    summary="Hand the case to a new nearest manager (nærmeste leder)",
)
async def reassign_manager(
    case_id: str,
    body: Annotated[ReassignManager, example(ReassignManager)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/{case_id}/return-to-work",
    responses=COMMAND_RESPONSES,
    summary="Record the return to work (friskmelding), full or partial",
)
async def return_to_work(
    case_id: str, body: Annotated[ReturnToWork, example(ReturnToWork)], commands: CaseCommandsDep
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post("/{case_id}/close", responses=COMMAND_RESPONSES, summary="Close the case")
async def close_case(
    case_id: str, body: Annotated[CloseCase, example(CloseCase)], commands: CaseCommandsDep
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/{case_id}/reopen",
    responses=COMMAND_RESPONSES,
    summary="Reopen a closed case for a new absence within 16 days of the last",
)
async def reopen_case(
    case_id: str, body: Annotated[ReopenCase, example(ReopenCase)], commands: CaseCommandsDep
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/{case_id}/obligation-waivers",
    responses=COMMAND_RESPONSES,
    summary="Waive an obligation of the deadline timeline (HR)",
)
async def waive_obligation(
    case_id: str,
    body: Annotated[WaiveObligation, example(WaiveObligation)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


async def _authorise_read(
    request: Request, principal: CurrentPrincipal, stored: StoredCase
) -> None:
    """May the caller read the case? An erased case then answers 410 (``case_erased``)."""
    await authorize_case(
        request,
        principal,
        can_read_case(principal, case_ref(stored.case)),
        operation="read",
        resource="case",
        resource_id=stored.case.case_id,
        case_id=stored.case.case_id,
    )
    stored.case.require_not_erased()  # after the check: another tenant still sees 404
