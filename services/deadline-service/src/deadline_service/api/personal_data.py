"""The export of an employee's personal data (innsyn, GDPR art. 15), as every service has it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from deadline_service.api.access import export_decision
from deadline_service.api.schemas import PersonalDataOut
from deadline_service.app.personal_data import PersonalData
from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.http.problems import PROBLEM_RESPONSES

personal_data_router = APIRouter(prefix="/v1", tags=["privacy"])


def _personal_data(request: Request) -> PersonalData:
    personal_data: PersonalData = request.app.state.personal_data
    return personal_data


@personal_data_router.get(
    "/employees/{employee_id}/personal-data",
    response_model=PersonalDataOut,
    responses={status: PROBLEM_RESPONSES[status] for status in (401, 403, 422)},
    summary="Everything the deadline service holds about the employee (HR or the employee)",
)
async def export_personal_data(
    employee_id: Annotated[str, Path(min_length=1, max_length=200)],
    principal: CurrentPrincipal,
    request: Request,
    personal_data: Annotated[PersonalData, Depends(_personal_data)],
) -> PersonalDataOut:
    """The employee's cases in the caller's tenant: timelines with today's statuses and the
    deadline notices pending or sent. An empty list of cases when nothing is held. Every
    call is an access record (operation ``export``)."""
    await authorize(
        request,
        principal,
        export_decision(principal, employee_id),
        operation="export",
        resource="personal-data",
        resource_id=employee_id,
    )
    return PersonalDataOut.of(await personal_data.of_employee(principal.tenant, employee_id))
