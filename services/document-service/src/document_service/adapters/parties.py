"""The parties of each case (employee and nearest manager), kept from the case events.

Who may sign a document is decided from this table: a manager reassignment moves the manager's
signing role to the new manager from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.sql import insert_or_ignore
from document_service.adapters.tables import case_parties
from document_service.domain.signing import Parties
from naervaer.auth.policy import CaseRef
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened, ManagerReassigned
from naervaer.envelope import Envelope

PARTY_EVENTS = frozenset({"case.opened", "case.manager_reassigned"})


@dataclass(frozen=True)
class CaseRecord:
    case_id: str
    tenant: str
    employee_id: str
    manager_id: str
    org_unit: str
    first_absence_day: date

    @property
    def parties(self) -> Parties:
        return Parties(self.employee_id, self.manager_id)

    @property
    def ref(self) -> CaseRef:
        """What the access policy needs to know about the case."""
        return CaseRef(self.tenant, self.case_id, self.employee_id, self.manager_id, self.org_unit)


async def case_record(conn: AsyncConnection, case_id: str) -> CaseRecord | None:
    found = await conn.execute(select(case_parties).where(case_parties.c.case_id == case_id))
    row = found.first()
    if row is None:
        return None
    return CaseRecord(
        row.case_id,
        row.tenant,
        row.employee_id,
        row.manager_id,
        row.org_unit,
        row.first_absence_day,
    )


async def apply_party_event(tx: AsyncConnection, envelope: Envelope) -> None:
    """Record the parties a case event names (opened, manager reassigned); ignore the rest."""
    if envelope.type not in PARTY_EVENTS:
        return
    event = CONTRACTS.payload(envelope)
    if isinstance(event, CaseOpened):
        await tx.execute(
            insert_or_ignore(
                tx,
                case_parties,
                case_id=event.case_id,
                tenant=envelope.tenant,
                employee_id=event.employee_id,
                manager_id=event.manager_id,
                org_unit=event.org_unit,
                first_absence_day=event.first_absence_day,
                updated_at=envelope.time,
            )
        )
    elif isinstance(event, ManagerReassigned):
        await tx.execute(
            update(case_parties)
            .where(case_parties.c.case_id == event.case_id)
            .values(manager_id=event.manager_id, updated_at=envelope.time)
        )


class CasePartiesProjection:
    """The case parties as a projection ``naervaer rebuild document`` can rebuild.

    Only this table is rebuilt: documents, signatures and the audit trail are the record
    itself, never recomputed.
    """

    name = "document-service.case-parties"
    event_types: frozenset[str] | None = PARTY_EVENTS

    async def reset(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(case_parties))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        await apply_party_event(tx, envelope)
