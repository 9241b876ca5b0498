"""FastAPI dependencies and the authorisation step every document route takes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from document_service.adapters.erasure import case_erased
from document_service.adapters.parties import CaseRecord, case_record
from document_service.app.services import DocumentServices
from document_service.domain.errors import Gone, NotFound
from naervaer.auth.fastapi import authorize
from naervaer.auth.policy import can_read_case, can_write_case
from naervaer.auth.principal import Principal
from naervaer.http.problems import PROBLEM_RESPONSES


def _services(request: Request) -> DocumentServices:
    services: DocumentServices = request.app.state.documents
    return services


ServicesDep = Annotated[DocumentServices, Depends(_services)]
GONE_RESPONSE: dict[str, Any] = {
    "description": "The case's personal data was erased after the retention period "
    "(problem type urn:naervaer:problem:case_erased): its documents are no longer held.",
    "content": PROBLEM_RESPONSES[404]["content"],
}


def responses(
    *statuses: int, extra: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=``: the problem answers of ``statuses`` plus ``extra``."""
    documented = {**PROBLEM_RESPONSES, 410: GONE_RESPONSE}
    return {**{status: documented[status] for status in statuses}, **(extra or {})}


async def known_case(services: DocumentServices, tenant: str, case_id: str) -> CaseRecord:
    """The case, in the caller's ``tenant`` only for the erasure's answer (410, not 404)."""
    async with services.engine.connect() as conn:
        case = await case_record(conn, case_id)
        erased = case is None and await case_erased(conn, tenant, case_id)
    if erased:
        raise Gone(f"case {case_id} was erased after the retention period")
    if case is None:
        raise NotFound("case_not_found", f"no case {case_id} is known to the document service")
    return case


async def allow(
    request: Request,
    principal: Principal,
    case: CaseRecord,
    *,
    operation: str,
    resource: str,
    resource_id: str,
) -> None:
    """Decide by the one access policy and record the access (innsynslogg) either way.

    ``operation`` ``read`` is a read of the case; anything else is a write action (``sign``,
    ``attach_document``): an auditor may read and verify but never change.
    """
    decision = (
        can_read_case(principal, case.ref)
        if operation == "read"
        else can_write_case(principal, case.ref, operation)
    )
    await authorize(
        request,
        principal,
        decision,
        operation=operation,
        resource=resource,
        resource_id=resource_id,
        case_id=case.case_id,
    )
