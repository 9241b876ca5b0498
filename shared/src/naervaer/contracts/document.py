"""Document events (dokumentasjon): versions stored, signed or refused, signatures missing.

Published by the document service on the document-events topic, one stream per document. A
document (follow-up plan, dialogue meeting minutes, adjustment record, expert assistance
application) is content-addressed: ``document_hash`` is the SHA-256 of its canonical JSON, and a
signature binds the signer to exactly that hash.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from naervaer.contracts._base import CASE_ID, Contract
from naervaer.privacy.personal import PersonalStr
from naervaer.registry import EventRegistry

DocumentKind = Literal[
    "follow_up_plan",
    "dialogue_meeting_minutes",
    "adjustment_record",
    "expert_assistance_application",
]
PartyRole = Literal["employee", "manager"]
DOCUMENT_HASH = Field(
    pattern="^[0-9a-f]{64}$", description="SHA-256 (hex) of the version's canonical JSON."
)


class DocumentVersionStored(Contract):
    """A new version of a case document was stored; every earlier version is kept."""

    case_id: str = CASE_ID
    document_id: str
    kind: DocumentKind
    title: str
    version: int = Field(ge=1)
    document_hash: str = DOCUMENT_HASH
    produced_by_event_id: str = Field(description="The case event the version was made from.")
    produced_by_event_type: str
    required_roles: list[PartyRole] = Field(description="Parties who must sign this version.")


class MissingSignature(Contract):
    role: PartyRole
    party_id: PersonalStr | None = Field(description="Who holds the role on the case, when known.")


class DocumentSignaturesMissing(Contract):
    """A version waits for the signatures of these parties (the notification service reminds)."""

    case_id: str = CASE_ID
    document_id: str
    kind: DocumentKind
    version: int = Field(ge=1)
    document_hash: str = DOCUMENT_HASH
    missing: list[MissingSignature] = Field(min_length=1)


class DocumentSigned(Contract):
    """A party signed a version: they read exactly the content with ``document_hash``."""

    case_id: str = CASE_ID
    document_id: str
    version: int = Field(ge=1)
    document_hash: str = DOCUMENT_HASH
    signer_id: PersonalStr = Field(description="The signer's subject (sub claim).")
    role: PartyRole
    signed_at: AwareDatetime
    remaining_roles: list[PartyRole] = Field(description="Roles still to sign this version.")


class DocumentSignatureRefused(Contract):
    """A party refused to sign a version and said why."""

    case_id: str = CASE_ID
    document_id: str
    version: int = Field(ge=1)
    document_hash: str = DOCUMENT_HASH
    signer_id: PersonalStr
    role: PartyRole
    comment: PersonalStr = Field(min_length=1)
    refused_at: AwareDatetime


class DocumentAttachmentAdded(Contract):
    """A file (PDF or image) was attached to a document."""

    case_id: str = CASE_ID
    document_id: str
    attachment_id: str
    filename: PersonalStr
    media_type: Literal["application/pdf", "image/png", "image/jpeg"]
    size: int = Field(ge=1)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    uploaded_by: PersonalStr
    uploaded_at: AwareDatetime


def register_document_events(registry: EventRegistry) -> None:
    for name, model in (
        ("document.version_stored", DocumentVersionStored),
        ("document.signatures_missing", DocumentSignaturesMissing),
        ("document.signed", DocumentSigned),
        ("document.signature_refused", DocumentSignatureRefused),
        ("document.attachment_added", DocumentAttachmentAdded),
    ):
        registry.register(name, model)
