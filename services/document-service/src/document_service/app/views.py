"""What the API shows of documents: versions, who signed, who is missing, attachments."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters import documents as repo
from document_service.adapters.documents import StoredVersion
from document_service.adapters.parties import CaseRecord
from document_service.domain.errors import NotFound
from document_service.domain.signing import SignatureDecision, missing_roles, role_statuses
from naervaer.contracts.document import PartyRole


class DecisionView(BaseModel):
    role: PartyRole
    signer_id: str
    decision: str = Field(description="signed or refused")
    document_hash: str
    decided_at: datetime
    comment: str | None = None

    @classmethod
    def of(cls, decision: SignatureDecision) -> DecisionView:
        return cls(
            role=decision.role,
            signer_id=decision.signer_id,
            decision=decision.decision,
            document_hash=decision.document_hash,
            decided_at=decision.decided_at,
            comment=decision.comment,
        )


class PartyStatus(BaseModel):
    role: PartyRole
    party_id: str = Field(description="Who holds the role on the case now.")
    status: str = Field(description="signed, refused or missing")


class VersionView(BaseModel):
    version: int
    document_hash: str = Field(description="SHA-256 of the canonical JSON: sign this value.")
    title: str
    stored_at: datetime
    produced_by_event_id: str
    produced_by_event_type: str
    parties: list[PartyStatus]
    missing: list[PartyRole] = Field(description="Roles whose signature is still missing.")
    decisions: list[DecisionView]


class AttachmentView(BaseModel):
    attachment_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class DocumentView(BaseModel):
    document_id: str
    case_id: str
    kind: str
    title: str
    latest_version: int
    versions: list[VersionView]
    attachments: list[AttachmentView]


class VersionContent(BaseModel):
    document_id: str
    version: int
    document_hash: str
    content: dict[str, Any] = Field(description="The canonical document, parsed.")


async def document_view(conn: AsyncConnection, document_id: str, case: CaseRecord) -> DocumentView:
    document = await repo.document(conn, document_id)
    if document is None:
        raise NotFound("document_not_found", f"no document {document_id}")
    decisions = await repo.decisions(conn, document_id)
    versions = [
        _version_view(stored, [d for d in decisions if d.version == stored.version], case)
        for stored in await repo.versions(conn, document_id)
    ]
    attached = await repo.document_attachments(conn, document_id)
    return DocumentView(
        document_id=document_id,
        case_id=document.case_id,
        kind=document.kind,
        title=document.title,
        latest_version=document.latest_version,
        versions=versions,
        attachments=[AttachmentView.model_validate(row, from_attributes=True) for row in attached],
    )


async def version_content(conn: AsyncConnection, document_id: str, number: int) -> VersionContent:
    stored = await repo.version(conn, document_id, number)
    content = None if stored is None else await repo.blob(conn, stored.document_hash)
    if stored is None or content is None:
        raise NotFound("version_not_found", f"document {document_id} has no version {number}")
    return VersionContent(
        document_id=document_id,
        version=number,
        document_hash=stored.document_hash,
        content=json.loads(content),
    )


def _version_view(
    stored: StoredVersion, decisions: list[SignatureDecision], case: CaseRecord
) -> VersionView:
    decided = {d.role: d for d in decisions}
    statuses = role_statuses(stored.required_roles, decided)
    return VersionView(
        version=stored.version,
        document_hash=stored.document_hash,
        title=stored.title,
        stored_at=stored.stored_at,
        produced_by_event_id=stored.source_event_id,
        produced_by_event_type=stored.source_event_type,
        parties=[
            PartyStatus(role=role, party_id=case.parties.holder(role), status=status)
            for role, status in statuses.items()
        ],
        missing=missing_roles(stored.required_roles, decided),
        decisions=[DecisionView.of(d) for d in decisions],
    )
