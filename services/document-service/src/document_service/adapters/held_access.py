"""Access records (innsynslogg) held until their case is known (table ``held_access_records``).

The access-events and case-events consumers settle their batches independently, so a record
naming a case can arrive before the case's first event. Without the case there is no key to
seal the caller with, so the record waits here instead of entering the audit trail in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.sql import insert_or_ignore
from document_service.adapters.tables import case_parties, erased_cases, held_access_records
from naervaer.auth.access import AccessRecord


@dataclass(frozen=True)
class HeldAccess:
    id: int
    source_id: str
    kind: str
    record: AccessRecord


async def awaits_case(conn: AsyncConnection, case_id: str) -> bool:
    """Is ``case_id`` neither known here nor erased (in any tenant)? Then its key is not either.

    Another tenant's erased case is not waited for: nothing would ever release the record.
    """
    known = exists().where(case_parties.c.case_id == case_id)
    erased = exists().where(erased_cases.c.case_id == case_id)
    found = await conn.execute(select(~known & ~erased))
    return bool(found.scalar_one())


async def hold(
    tx: AsyncConnection, *, source_id: str, kind: str, record: AccessRecord, held_at: datetime
) -> None:
    """Keep the record until its case is known; a redelivered one is kept once."""
    if record.case_id is None:
        raise ValueError("only a record naming a case waits for it")
    await tx.execute(
        insert_or_ignore(
            tx,
            held_access_records,
            tenant=record.tenant,
            source_id=source_id,
            kind=kind,
            case_id=record.case_id,
            record=record.model_dump(mode="json"),
            held_at=held_at,
        )
    )


async def held_for(conn: AsyncConnection, case_ids: Sequence[str]) -> list[HeldAccess]:
    """The records held for ``case_ids`` (of any tenant), in the order they were received."""
    if not case_ids:
        return []
    table = held_access_records.c
    rows = await conn.execute(
        select(table.id, table.source_id, table.kind, table.record)
        .where(table.case_id.in_(case_ids))
        .order_by(table.id)
    )
    return [
        HeldAccess(row.id, row.source_id, row.kind, AccessRecord.model_validate(row.record))
        for row in rows
    ]


async def held_before(
    conn: AsyncConnection, cutoff: datetime, limit: int = 100
) -> list[HeldAccess]:
    """Up to ``limit`` records held since before ``cutoff``, in the order they were received."""
    table = held_access_records.c
    rows = await conn.execute(
        select(table.id, table.source_id, table.kind, table.record)
        .where(table.held_at < cutoff)
        .order_by(table.id)
        .limit(limit)
    )
    return [
        HeldAccess(row.id, row.source_id, row.kind, AccessRecord.model_validate(row.record))
        for row in rows
    ]


async def let_go(tx: AsyncConnection, held: Sequence[HeldAccess]) -> None:
    """Delete records that were released into the audit trail."""
    if held:
        ids = [item.id for item in held]
        await tx.execute(delete(held_access_records).where(held_access_records.c.id.in_(ids)))
