"""The audit trail (revisjonsspor) in the database: append-only, one hash chain per tenant.

Appends of one tenant are serialised by its row in ``audit_heads``: ``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite every write transaction already holds the database lock (``BEGIN
IMMEDIATE``). So concurrent consumers and requests still make one unbroken chain. An entry's
``source_id`` is unique per tenant: a redelivered event or retried request adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.signing_keys import AuditSigner, KeyRegistry
from document_service.adapters.sql import insert_or_ignore
from document_service.adapters.tables import audit_entries, audit_heads
from document_service.domain.chain import (
    GENESIS,
    ChainEntry,
    ChainHead,
    ChainVerdict,
    entry_content,
    seal,
    verify_chain,
)

_CHAIN_COLUMNS = (
    audit_entries.c.tenant,
    audit_entries.c.sequence,
    audit_entries.c.recorded_at,
    audit_entries.c.previous_hash,
    audit_entries.c.content_hash,
    audit_entries.c.entry_hash,
    audit_entries.c.key_id,
    audit_entries.c.signature,
)


def wall_clock() -> datetime:
    # The audit trail records when things really happened: never the dev clock control,
    # which may be moved back and forth (and key validity must follow real time).
    return datetime.now(UTC)


class AuditLog:
    def __init__(
        self, signer: AuditSigner, keys: KeyRegistry, now: Callable[[], datetime] = wall_clock
    ) -> None:
        self._signer = signer
        self.keys = keys
        self._now = now

    async def append(
        self,
        tx: AsyncConnection,
        *,
        tenant: str,
        kind: str,
        source_id: str,
        case_id: str | None,
        data: Mapping[str, Any],
    ) -> int | None:
        """Seal one entry at the end of ``tenant``'s chain; None when ``source_id`` is there."""
        head = await self.lock(tx, tenant)
        if await _recorded(tx, tenant, source_id):
            return None
        content = entry_content(kind=kind, source_id=source_id, case_id=case_id, data=data)
        sequence: int = head.sequence + 1
        recorded_at = self._now()
        sealed = seal(
            tenant=tenant,
            sequence=sequence,
            recorded_at=recorded_at,
            previous_hash=head.entry_hash,
            content=content,
            key_id=self._signer.key_id,
            sign=self._signer.sign,
        )
        await tx.execute(
            audit_entries.insert().values(
                tenant=tenant,
                sequence=sequence,
                source_id=source_id,
                kind=kind,
                case_id=case_id,
                recorded_at=recorded_at,
                content=content,
                content_hash=sealed.content_hash,
                previous_hash=sealed.previous_hash,
                entry_hash=sealed.entry_hash,
                key_id=sealed.key_id,
                signature=sealed.signature,
            )
        )
        await tx.execute(
            update(audit_heads)
            .where(audit_heads.c.tenant == tenant)
            .values(sequence=sequence, entry_hash=sealed.entry_hash, updated_at=recorded_at)
        )
        return sequence

    async def lock(self, tx: AsyncConnection, tenant: str) -> Row[Any]:
        """Take ``tenant``'s chain for the rest of ``tx`` (every append does): a decision made
        after it sees whatever the transactions that appended before it committed."""
        await self.keys.ensure(tx, self._now())
        return await _lock_head(tx, tenant, self._now())

    async def verify(self, conn: AsyncConnection, tenant: str) -> ChainVerdict:
        """Check ``tenant``'s whole chain up to its recorded head."""
        head = (
            await conn.execute(select(audit_heads).where(audit_heads.c.tenant == tenant))
        ).first()
        if head is None:
            return ChainVerdict(0, ())
        rows = await conn.execute(
            select(audit_entries)
            .where(audit_entries.c.tenant == tenant, audit_entries.c.sequence <= head.sequence)
            .order_by(audit_entries.c.sequence)
        )
        entries = [_sealed_entry(row) for row in rows]
        ring = await self.keys.ring(conn)
        return verify_chain(entries, ring, head=ChainHead(head.sequence, head.entry_hash))

    async def case_segment(
        self, conn: AsyncConnection, tenant: str, case_id: str
    ) -> list[ChainEntry]:
        """The case's entries in full, and the chain fields of the others between them.

        The segment is contiguous, so a dossier can prove its links without revealing other
        cases' content.
        """
        table = audit_entries.c
        rows = await conn.execute(
            select(audit_entries)
            .where(table.tenant == tenant, table.case_id == case_id)
            .order_by(table.sequence)
        )
        own = [_sealed_entry(row) for row in rows]
        if not own:
            return []
        others = await conn.execute(
            select(*_CHAIN_COLUMNS).where(
                table.tenant == tenant,
                table.sequence.between(own[0].sequence, own[-1].sequence),
                or_(table.case_id.is_(None), table.case_id != case_id),
            )
        )
        links = [_link_entry(row) for row in others]
        return sorted([*own, *links], key=lambda entry: entry.sequence)


async def _lock_head(tx: AsyncConnection, tenant: str, now: datetime) -> Row[Any]:
    await tx.execute(
        insert_or_ignore(
            tx, audit_heads, tenant=tenant, sequence=0, entry_hash=GENESIS, updated_at=now
        )
    )
    locked = select(audit_heads).where(audit_heads.c.tenant == tenant).with_for_update()
    return (await tx.execute(locked)).one()


async def _recorded(tx: AsyncConnection, tenant: str, source_id: str) -> bool:
    found = await tx.execute(
        select(audit_entries.c.sequence).where(
            and_(audit_entries.c.tenant == tenant, audit_entries.c.source_id == source_id)
        )
    )
    return found.first() is not None


def _sealed_entry(row: Row[Any]) -> ChainEntry:
    return ChainEntry(
        tenant=row.tenant,
        sequence=row.sequence,
        recorded_at=row.recorded_at,
        previous_hash=row.previous_hash,
        content_hash=row.content_hash,
        entry_hash=row.entry_hash,
        key_id=row.key_id,
        signature=row.signature,
        content=row.content,
        columns={"kind": row.kind, "source_id": row.source_id, "case_id": row.case_id},
    )


def _link_entry(row: Any) -> ChainEntry:
    return ChainEntry(
        tenant=row.tenant,
        sequence=row.sequence,
        recorded_at=row.recorded_at,
        previous_hash=row.previous_hash,
        content_hash=row.content_hash,
        entry_hash=row.entry_hash,
        key_id=row.key_id,
        signature=row.signature,
    )
