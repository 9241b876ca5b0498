"""Innsyn (GDPR art. 15): everything the notification service holds about one employee."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from notification_service.adapters.personal_data import held_about
from notification_service.api.access import can_export_personal_data
from notification_service.api.common import CallerDep, problem_responses
from notification_service.api.schemas import (
    ExportedCase,
    ExportedDelivery,
    PersonalDataOut,
)

router = APIRouter(prefix="/v1", tags=["privacy"])
SERVICE_NAME = "notification-service"
EmployeeId = Annotated[
    str, Path(min_length=1, max_length=128, description="The employee as the tenant knows them.")
]


@router.get(
    "/employees/{employee_id}/personal-data",
    response_model=PersonalDataOut,
    responses=problem_responses(401, 403, 404, 422),
    summary="Export what the service holds about an employee (HR, or the employee themself)",
)
async def export_personal_data(employee_id: EmployeeId, caller: CallerDep) -> PersonalDataOut:
    """Their cases and meetings, the messages about them, and their address book entry.

    Empty lists (and no entry) when nothing is held: "nothing" is an answer too.
    """
    decision = can_export_personal_data(caller.principal, caller.tenant, employee_id)
    await caller.check(decision, "export", "personal-data", employee_id)
    async with caller.deps.engine.connect() as tx:
        held = await held_about(tx, caller.tenant, employee_id)
    return PersonalDataOut(
        service=SERVICE_NAME,
        tenant=caller.tenant,
        employee_id=employee_id,
        generated_at=caller.deps.clock.now(),
        cases=[ExportedCase.model_validate(case) for case in held.cases],
        deliveries=[ExportedDelivery.model_validate(d) for d in held.deliveries],
        recipient=held.recipient,
    )
