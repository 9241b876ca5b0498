"""Privacy: the export of everything this service holds about one employee (innsyn)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from document_service.api.deps import ServicesDep, responses
from document_service.app.export import PersonalDataExport, personal_data
from document_service.app.sealing import EXPORT_RESOURCE
from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.auth.policy import can_export_personal_data

router = APIRouter(tags=["privacy"])


@router.get(
    "/v1/employees/{employee_id}/personal-data",
    response_model=PersonalDataExport,
    responses=responses(401, 403),
    summary="Everything the document service holds about an employee (GDPR art. 15), as JSON: "
    "documents, signatures, attachments (not their bytes) and the access log of their cases",
)
async def export_personal_data(
    employee_id: str, services: ServicesDep, principal: CurrentPrincipal, request: Request
) -> PersonalDataExport:
    await authorize(
        request,
        principal,
        can_export_personal_data(principal, principal.tenant, employee_id),
        operation="export",
        resource=EXPORT_RESOURCE,
        resource_id=employee_id,
    )
    async with services.engine.connect() as conn:
        return await personal_data(
            conn,
            services.keys.vault,
            tenant=principal.tenant,
            employee_id=employee_id,
            now=services.clock(),
        )
