"""Everything the case service holds about one employee (innsyn, GDPR art. 15), decrypted:
their cases (summaries) with every event of each case, their own stream's events, legal hold
and retention. Erased data reads ``[erased]``; erased cases have no summary left to list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from case_service.adapters.streams import read_unsealed
from case_service.app.access import export_decision
from case_service.app.meta import CommandMeta
from case_service.app.privacy import EmployeeRetention, Privacy
from case_service.app.queries import CaseSummary, summary_from_row
from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore
from naervaer.privacy.keyring import KEYRING
from naervaer.privacy.sealing import unseal_data

EXPORT_OPERATION = "export"
EXPORT_RESOURCE = "personal-data"


@dataclass(frozen=True)
class ExportedEvent:
    type: str
    time: datetime
    streamversion: int
    data: dict[str, Any]


@dataclass(frozen=True)
class ExportedCase:
    summary: CaseSummary
    events: list[ExportedEvent]


@dataclass(frozen=True)
class PersonalDataExport:
    tenant: str
    employee_id: str
    generated_at: datetime
    cases: list[ExportedCase]
    employee_events: list[ExportedEvent]
    retention: EmployeeRetention


@dataclass(frozen=True)
class Exporter:
    privacy: Privacy
    store: EventStore

    async def export(self, employee_id: str, meta: CommandMeta) -> PersonalDataExport:
        await meta.authorize(
            export_decision(meta.principal, employee_id),
            operation=EXPORT_OPERATION,
            resource=EXPORT_RESOURCE,
            resource_id=employee_id,
        )
        tenant = meta.principal.tenant
        eraser = self.privacy.eraser
        rows = await eraser.cases.summaries(tenant, employee_id)
        cases = [
            ExportedCase(summary, await self._events(summary.case_id))
            for summary in map(summary_from_row, rows)
        ]
        stream = eraser.employees.stream(tenant, employee_id)
        return PersonalDataExport(
            tenant=tenant,
            employee_id=employee_id,
            generated_at=eraser.clock.now(),
            cases=cases,
            employee_events=await self._events(stream),
            retention=await self.privacy.status(tenant, employee_id),
        )

    async def _events(self, stream_id: str) -> list[ExportedEvent]:
        envelopes = await read_unsealed(self.store, stream_id, self.privacy.eraser.vault)
        return [_exported(envelope) for envelope in envelopes]


def _exported(envelope: Envelope) -> ExportedEvent:
    return ExportedEvent(
        type=envelope.type,
        time=envelope.time,
        streamversion=envelope.streamversion,
        data=unseal_data(dict(envelope.data), KEYRING.lookup),
    )
