"""The audit trail as a projection: every case event becomes one chained entry."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.tables import audit_entries
from document_service.domain.chain import GENESIS, content_hash, entry_hash
from naervaer.envelope import Envelope


class AuditTrailProjection:
    """Appends each consumed event to its tenant's hash chain (one writer per tenant at a time)."""

    name = "document-service.audit-trail"
    event_types: frozenset[str] | None = None  # everything the case service records

    async def reset(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(audit_entries))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        last = (
            await tx.execute(
                select(audit_entries.c.sequence, audit_entries.c.entry_hash)
                .where(audit_entries.c.tenant == envelope.tenant)
                .order_by(audit_entries.c.sequence.desc())
                .limit(1)
                .with_for_update()
            )
        ).first()
        sequence, previous = (last.sequence + 1, last.entry_hash) if last else (1, GENESIS)
        content = envelope.model_dump(mode="json", exclude_none=True)
        digest = content_hash(content)
        await tx.execute(
            insert(audit_entries).values(
                tenant=envelope.tenant,
                sequence=sequence,
                source_event_id=str(envelope.id),
                kind=envelope.type,
                case_id=envelope.streamid,
                recorded_at=envelope.time,
                content=content,
                content_hash=digest,
                previous_hash=previous,
                entry_hash=entry_hash(
                    tenant=envelope.tenant,
                    sequence=sequence,
                    previous_hash=previous,
                    content_digest=digest,
                ),
            )
        )
