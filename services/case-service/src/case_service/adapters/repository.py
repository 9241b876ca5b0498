"""Cases are stored as their events: load by replay, save by appending what is pending.

A case's events are sealed with the key of the employee it is about (``CaseOpened``'s
``employee_id``); once that key is destroyed the case replays with ``[erased]`` in their place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from case_service.adapters.streams import (
    Subject,
    Write,
    append_pending,
    earlier_result,
    read_unsealed,
)
from case_service.domain.case import Case
from case_service.domain.errors import CaseNotFound
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened
from naervaer.eventstore import EventStore
from naervaer.privacy.sealer import Sealer


@dataclass(frozen=True)
class CaseVersion:
    case_id: str
    version: int
    duplicate: bool = False


@dataclass(frozen=True)
class StoredCase:
    """A case as loaded from its events (a stored case has always been opened)."""

    case: Case
    tenant: str
    opened: CaseOpened


class CaseRepository:
    def __init__(self, store: EventStore, sealer: Sealer) -> None:
        self.store = store
        self.sealer = sealer

    async def get(
        self, case_id: str, *, to_version: int | None = None, as_of: datetime | None = None
    ) -> StoredCase:
        envelopes = await read_unsealed(
            self.store, case_id, self.sealer.vault, to_version=to_version, as_of=as_of
        )
        if not envelopes:
            raise CaseNotFound(f"no case {case_id}")
        events = [CONTRACTS.payload(envelope) for envelope in envelopes]
        case = Case.replay(case_id, events, envelopes[-1].streamversion)
        case.tenant = envelopes[0].tenant
        if case.opened is None:
            raise CaseNotFound(f"stream {case_id} is not a case")
        return StoredCase(case, envelopes[0].tenant, case.opened)

    async def save(
        self, case: Case, write: Write, *, connection: AsyncConnection | None = None
    ) -> CaseVersion:
        """Append the case's pending events at the version it was loaded at."""
        assert case.tenant is not None
        assert case.opened is not None
        if not case.pending:  # the command changed nothing (e.g. a consent that stands)
            return CaseVersion(case.case_id, case.version)
        result = await append_pending(
            self.store,
            case.case_id,
            case.pending,
            stream_type="case",
            tenant=case.tenant,
            expected_version=case.version,
            write=write,
            subject=Subject(self.sealer, case.opened.employee_id),
            connection=connection,
        )
        case.pending.clear()
        return CaseVersion(result.stream_id, result.version, result.duplicate)

    async def earlier(self, write: Write) -> CaseVersion | None:
        """What a retried request (same Idempotency-Key) wrote the first time, if anything."""
        result = await earlier_result(self.store, write)
        return None if result is None else CaseVersion(result.stream_id, result.version, True)
