"""Attaching a file (vedlegg) to a document: checked, stored as a blob, sealed and published.

The file's name and who attached it are personal data: sealed with the case's key in the audit
entry and the published event alike (the entry is the event as published).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from document_service.adapters import documents as repo
from document_service.adapters.audit_log import AuditLog, wall_clock
from document_service.adapters.parties import CaseRecord
from document_service.app.publishing import DocumentEvents
from document_service.domain.attachments import MediaType, check_upload
from naervaer.contracts.document import DocumentAttachmentAdded
from naervaer.dossier import layout
from naervaer.dossier.canonical import sha256_hex


@dataclass(frozen=True)
class StoredAttachment:
    attachment_id: str
    document_id: str
    filename: str
    media_type: MediaType
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class Attachments:
    def __init__(
        self, engine: AsyncEngine, audit: AuditLog, events: DocumentEvents, max_bytes: int
    ) -> None:
        self._engine = engine
        self._audit = audit
        self._events = events
        self.max_bytes = max_bytes

    async def add(
        self,
        *,
        case: CaseRecord,
        document_id: str,
        uploaded_by: str,
        data: bytes,
        declared_type: str | None,
        filename: str | None,
    ) -> StoredAttachment:
        checked = check_upload(
            data, declared_type=declared_type, filename=filename, max_bytes=self.max_bytes
        )
        stored = StoredAttachment(
            attachment_id=str(uuid.uuid4()),
            document_id=document_id,
            filename=checked.filename,
            media_type=checked.media_type,
            size=checked.size,
            sha256=sha256_hex(data),
            uploaded_by=uploaded_by,
            uploaded_at=wall_clock(),
        )
        tenant, case_id = case.tenant, case.case_id
        async with self._engine.begin() as tx:
            key_id = await self._events.keys.key_id(tx, case)
            await repo.put_blob(tx, stored.sha256, data, stored.media_type, stored.uploaded_at)
            await repo.add_attachment(tx, tenant=tenant, case_id=case_id, **vars(stored))
            event = DocumentAttachmentAdded(case_id=case_id, **vars(stored))
            (sealed,) = await self._events.publish(
                tx, tenant=tenant, document_id=document_id, key_id=key_id, events=[event]
            )
            await self._audit.append(
                tx,
                tenant=tenant,
                kind=layout.ATTACHMENT_ADDED,
                source_id=f"attachment:{stored.attachment_id}",
                case_id=case_id,
                data=sealed,
            )
        return stored
