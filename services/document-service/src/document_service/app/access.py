"""This service's own access records (innsynslogg) go straight into its audit trail, who and
what sealed with the case's key (see ``CaseKeys.access_entry``)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from document_service.adapters.audit_log import AuditLog
from document_service.app.sealing import CaseKeys
from naervaer.auth.access import ACCESS_RECORDED, AccessRecord, AccessRecorder


class AuditedAccess:
    """An access recorder: seal the record, then hand it on (log line, or publication)."""

    def __init__(
        self,
        engine: AsyncEngine,
        audit: AuditLog,
        keys: CaseKeys,
        forward: AccessRecorder | None,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self._keys = keys
        self._forward = forward

    async def __call__(self, record: AccessRecord) -> None:
        async with self._engine.begin() as tx:
            await self._audit.append(
                tx,
                tenant=record.tenant,
                kind=ACCESS_RECORDED,
                source_id=f"access:{uuid.uuid4()}",
                case_id=record.case_id,
                data=await self._keys.access_entry(tx, record),
            )
        if self._forward is not None:
            await self._forward(record)
