"""The audit trail: its public keys, verifying a tenant's chain, and the case dossier."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from document_service.api.deps import ServicesDep, allow, known_case, responses
from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.auth.policy import can_read_tenant_wide
from naervaer.dossier.keys import PublicKey

router = APIRouter(tags=["audit"])


class ChainProblemView(BaseModel):
    sequence: int
    problem: str = Field(description="changed, removed, reordered or bad_signature")
    detail: str
    expected_sequence: int | None = Field(
        default=None, description="Where a reordered entry was sealed."
    )


class VerifyResponse(BaseModel):
    ok: bool
    tenant: str
    entries_checked: int
    problems: list[ChainProblemView]


@router.get(
    "/v1/audit/keys",
    summary="The public keys that sign the audit trail (JWKS-like, with validity periods)",
)
async def audit_keys(services: ServicesDep) -> dict[str, Any]:
    async with services.engine.connect() as conn:
        ring = await services.audit.keys.ring(conn)
    if services.signer.key_id not in ring:  # not signed anything yet: still publish it
        ring = ring.merged(type(ring)([PublicKey(services.signer.public_raw)]))
    return ring.document()


@router.get(
    "/v1/audit/verify",
    response_model=VerifyResponse,
    responses=responses(401, 403),
    summary="Check the caller's tenant's whole chain: every changed, removed, reordered or "
    "badly signed entry is named",
)
async def verify_audit_trail(
    services: ServicesDep, principal: CurrentPrincipal, request: Request
) -> VerifyResponse:
    await authorize(
        request,
        principal,
        can_read_tenant_wide(principal, principal.tenant),
        operation="read",
        resource="audit-trail",
        resource_id=principal.tenant,
    )
    async with services.engine.connect() as conn:
        verdict = await services.audit.verify(conn, principal.tenant)
    return VerifyResponse(
        ok=verdict.ok,
        tenant=principal.tenant,
        entries_checked=verdict.entries_checked,
        problems=[ChainProblemView(**problem.as_dict()) for problem in verdict.problems],
    )


@router.get(
    "/v1/cases/{case_id}/dossier",
    response_class=Response,
    responses=responses(
        401,
        403,
        404,
        410,
        extra={200: {"content": {"application/zip": {}}, "description": "The dossier (ZIP)."}},
    ),
    summary="Export the case dossier: documents, signatures, history, sealed audit entries, PDF",
)
async def export_dossier(
    case_id: str, services: ServicesDep, principal: CurrentPrincipal, request: Request
) -> Response:
    case = await known_case(services, principal.tenant, case_id)
    await allow(request, principal, case, operation="read", resource="dossier", resource_id=case_id)
    archive = await services.dossiers.export(case.tenant, case_id)
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="dossier-{case_id}.zip"'},
    )
