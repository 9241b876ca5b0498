"""What a dossier's readable part (dossier.pdf) shows: plain data, drawn by an adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from document_service.domain.timeline import CaseGlance


@dataclass(frozen=True)
class DocumentSummary:
    title: str
    version: int
    document_hash: str
    stored_at: datetime
    statuses: dict[str, str]


@dataclass(frozen=True)
class DossierView:
    """What the PDF shows: the case at a glance, its documents and how the record is sealed."""

    tenant: str
    glance: CaseGlance
    documents: list[DocumentSummary]
    events: list[tuple[str, str]]  # (when, event type)
    entries: int
    key_ids: list[str]
    generated_at: datetime
