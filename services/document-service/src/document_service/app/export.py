"""The export of everything this service holds about one employee (innsyn, GDPR art. 15).

The employee's cases as this service knows them, each case's documents (the latest body and
every version's hash), the signatures and refusals on them, the attachments (what they are, not
their bytes) and the access log of the cases: who read or wrote what, and when, as sealed in
the audit trail, opened with the employee's key. Erased cases are no longer held: not listed.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters import documents as repo
from document_service.adapters.parties import CaseRecord, employee_cases
from document_service.adapters.tables import audit_entries
from document_service.app.sealing import open_sealed
from naervaer.auth.access import ACCESS_RECORDED
from naervaer.privacy.keyring import KeySource

SERVICE_NAME = "document-service"


class ExportedCase(BaseModel):
    case_id: str
    org_unit: str
    first_absence_day: date
    employee_id: str
    manager_id: str = Field(description="The nearest manager (nærmeste leder) now.")


class ExportedVersion(BaseModel):
    version: int
    document_hash: str
    title: str
    stored_at: datetime
    produced_by_event_type: str


class ExportedDocument(BaseModel):
    document_id: str
    case_id: str
    kind: str
    title: str
    latest_version: int
    latest_body: dict[str, Any] | None = Field(description="The latest version's content.")
    versions: list[ExportedVersion]


class ExportedDecision(BaseModel):
    document_id: str
    version: int
    role: str
    signer_id: str
    decision: str = Field(description="signed or refused")
    document_hash: str
    decided_at: datetime
    comment: str | None = None


class ExportedAttachment(BaseModel):
    attachment_id: str
    document_id: str
    case_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class AccessLogEntry(BaseModel):
    """One access record (innsynslogg) of the employee's cases."""

    at: datetime
    case_id: str | None
    subject: str = Field(description="Who read or wrote.")
    roles: list[str]
    basis_role: str | None
    action: str = Field(description="read, write or denied")
    operation: str
    resource: str
    resource_id: str
    reason: str


class PersonalDataExport(BaseModel):
    service: str
    tenant: str
    employee_id: str
    generated_at: datetime
    cases: list[ExportedCase]
    documents: list[ExportedDocument]
    signatures: list[ExportedDecision]
    attachments: list[ExportedAttachment]
    access_log: list[AccessLogEntry]


async def personal_data(
    conn: AsyncConnection, keys: KeySource, *, tenant: str, employee_id: str, now: datetime
) -> PersonalDataExport:
    cases = await employee_cases(conn, tenant, employee_id)
    export = PersonalDataExport(
        service=SERVICE_NAME,
        tenant=tenant,
        employee_id=employee_id,
        generated_at=now,
        cases=[_case(case) for case in cases],
        documents=[],
        signatures=[],
        attachments=[],
        access_log=await _access_log(conn, keys, tenant, [c.case_id for c in cases]),
    )
    for case in cases:
        for document in await repo.case_documents(conn, tenant, case.case_id):
            await _add_document(conn, export, document)
    return export


async def _add_document(conn: AsyncConnection, export: PersonalDataExport, document: Any) -> None:
    stored = await repo.versions(conn, document.document_id)
    latest = await repo.blob(conn, stored[-1].document_hash) if stored else None
    export.documents.append(
        ExportedDocument(
            document_id=document.document_id,
            case_id=document.case_id,
            kind=document.kind,
            title=document.title,
            latest_version=document.latest_version,
            latest_body=None if latest is None else json.loads(latest).get("body"),
            versions=[
                ExportedVersion(
                    version=v.version,
                    document_hash=v.document_hash,
                    title=v.title,
                    stored_at=v.stored_at,
                    produced_by_event_type=v.source_event_type,
                )
                for v in stored
            ],
        )
    )
    export.signatures.extend(
        ExportedDecision.model_validate(d, from_attributes=True)
        for d in await repo.decisions(conn, document.document_id)
    )
    export.attachments.extend(
        ExportedAttachment.model_validate(row, from_attributes=True)
        for row in await repo.document_attachments(conn, document.document_id)
    )


async def _access_log(
    conn: AsyncConnection, keys: KeySource, tenant: str, case_ids: list[str]
) -> list[AccessLogEntry]:
    if not case_ids:
        return []
    rows = await conn.execute(
        select(audit_entries.c.content)
        .where(
            audit_entries.c.tenant == tenant,
            audit_entries.c.case_id.in_(case_ids),
            audit_entries.c.kind == ACCESS_RECORDED,
        )
        .order_by(audit_entries.c.sequence)
    )
    sealed = [content["data"] for content in rows.scalars()]
    return [AccessLogEntry.model_validate(data) for data in await open_sealed(keys, sealed)]


def _case(case: CaseRecord) -> ExportedCase:
    return ExportedCase(
        case_id=case.case_id,
        org_unit=case.org_unit,
        first_absence_day=case.first_absence_day,
        employee_id=case.employee_id,
        manager_id=case.manager_id,
    )
