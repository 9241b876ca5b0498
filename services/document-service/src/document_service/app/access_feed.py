"""Access records (innsynslogg) other services publish, into the audit trail: who and what
sealed with the case's key (``CaseKeys.access_entry``), never in clear for want of the case.

The access-events and case-events consumers settle their batches independently, so a record can
arrive before its case's first event, when no key is known yet. Such a record is held
(``held_access_records``) in the consumer's transaction and released by the case's first event,
in the order received; an erasure that comes first releases it nameless, as a record reaching
an erased case is kept. Records without a case (exports) and records of a case another tenant
holds are appended as they come, as before.

A record can also name a case that never comes: a refused attempt to open one names the id the
case would have had. Held for ever, it would be missing from the trail (and the table would grow
with every refused attempt), so a record held longer than ``HOLD_FOR`` enters the trail as it
would have without holding: sealed if its case is known or erased by then, in clear otherwise —
a case that does not exist has no key. ``HOLD_FOR`` is far longer than the consumers' usual lag;
a case-events consumer stalled longer than that brings back the in-clear record it prevents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.audit_log import AuditLog, wall_clock
from document_service.adapters.held_access import (
    awaits_case,
    held_before,
    held_for,
    hold,
    let_go,
)
from document_service.adapters.parties import case_record
from document_service.app.sealing import CaseKeys, nameless
from naervaer.auth.access import AccessRecord
from naervaer.contracts import CONTRACTS
from naervaer.dossier import layout
from naervaer.envelope import Envelope

HOLD_FOR = timedelta(minutes=15)


class AccessFeed:
    """The access-events subscription's records, and their release when the case is known."""

    def __init__(self, audit: AuditLog, keys: CaseKeys) -> None:
        self.audit = audit
        self.keys = keys

    async def record(self, tx: AsyncConnection, envelope: Envelope) -> None:
        """Seal the record into the trail, or hold it until its case is known."""
        record = CONTRACTS.payload(envelope)
        if not isinstance(record, AccessRecord):
            raise TypeError(f"{envelope.type} on the access-events topic is not an access record")
        source_id = layout.event_source_id(str(envelope.id))
        if await self._must_wait(tx, record):
            await hold(
                tx, source_id=source_id, kind=envelope.type, record=record, held_at=wall_clock()
            )
        else:
            await self._append(
                tx, source_id, envelope.type, record, await self.keys.access_entry(tx, record)
            )
        await self.release_overdue(tx)

    async def release_overdue(self, tx: AsyncConnection) -> None:
        """Records held longer than ``HOLD_FOR`` enter the trail as they would have unheld."""
        held = await held_before(tx, wall_clock() - HOLD_FOR)
        for item in held:
            entry = await self.keys.access_entry(tx, item.record)
            await self._append(tx, item.source_id, item.kind, item.record, entry)
        await let_go(tx, held)

    async def release(self, tx: AsyncConnection, case_id: str) -> None:
        """The case is known: its held records enter the trail sealed with its key, in order."""
        held = await held_for(tx, [case_id])
        if not held or await case_record(tx, case_id) is None:
            return
        for item in held:
            entry = await self.keys.access_entry(tx, item.record)
            await self._append(tx, item.source_id, item.kind, item.record, entry)
        await let_go(tx, held)

    async def release_erased(self, tx: AsyncConnection, case_ids: Sequence[str]) -> None:
        """The cases are erased before they were known: their held records enter the trail
        with no names, like a record reaching an erased case (the access happened; whom it
        concerned is erased). Never in clear: no key is left to seal them with."""
        held = await held_for(tx, case_ids)
        for item in held:
            await self._append(tx, item.source_id, item.kind, item.record, nameless(item.record))
        await let_go(tx, held)

    async def _must_wait(self, tx: AsyncConnection, record: AccessRecord) -> bool:
        if record.case_id is None or not await awaits_case(tx, record.case_id):
            return False  # known or erased stays so: no lock needed to trust the answer
        # The case's first event appends (to the same tenant's chain) before it records the
        # case, so it holds this lock until it commits: once this transaction has the lock,
        # either the case is known here, or that event comes after and releases what is held.
        await self.audit.lock(tx, record.tenant)
        return await awaits_case(tx, record.case_id)

    async def _append(
        self,
        tx: AsyncConnection,
        source_id: str,
        kind: str,
        record: AccessRecord,
        entry: dict[str, Any],
    ) -> None:
        await self.audit.append(
            tx,
            tenant=record.tenant,
            kind=kind,
            source_id=source_id,
            case_id=record.case_id,
            data=entry,
        )
