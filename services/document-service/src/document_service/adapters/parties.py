"""The parties of each case (employee and nearest manager), kept from the case events.

Who may sign a document is decided from this table: a manager reassignment moves the manager's
signing role to the new manager from then on. It also remembers the id of the employee's key the
case's events are sealed with (crypto-shredding), so what this service publishes about the case
is sealed with the same key. An erased case has no row and never gets one again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.erasure import ERASURE_EVENT, apply_erasure, is_erased
from document_service.adapters.sql import insert_or_ignore
from document_service.adapters.tables import case_parties
from document_service.domain.signing import Parties
from naervaer.auth.policy import CaseRef
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened, ManagerReassigned
from naervaer.envelope import Envelope
from naervaer.privacy import sealing_key_id

PARTY_EVENTS = frozenset({"case.opened", "case.manager_reassigned"})


@dataclass(frozen=True)
class CaseRecord:
    case_id: str
    tenant: str
    employee_id: str
    manager_id: str
    org_unit: str
    first_absence_day: date
    key_id: str | None = None

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
        row.key_id,
    )


async def employee_cases(conn: AsyncConnection, tenant: str, employee_id: str) -> list[CaseRecord]:
    """The cases of one employee that this service holds (erased ones have no row)."""
    rows = await conn.execute(
        select(case_parties.c.case_id)
        .where(case_parties.c.tenant == tenant, case_parties.c.employee_id == employee_id)
        .order_by(case_parties.c.first_absence_day, case_parties.c.case_id)
    )
    found = [await case_record(conn, case_id) for case_id in rows.scalars()]
    return [case for case in found if case is not None]


async def remember_key(tx: AsyncConnection, case_id: str, key_id: str) -> None:
    """Keep the case's key id where none is known yet (the first sealed event names it)."""
    await tx.execute(
        update(case_parties)
        .where(case_parties.c.case_id == case_id, case_parties.c.key_id.is_(None))
        .values(key_id=key_id)
    )


async def apply_party_event(tx: AsyncConnection, envelope: Envelope) -> None:
    """Record the parties a case event names (opened, manager reassigned), and the case's key.

    Nothing is recorded for an erased case: a redelivered or replayed event reads as erased.
    """
    if await is_erased(tx, envelope):
        return
    key_id = sealing_key_id(envelope.data)
    if envelope.type not in PARTY_EVENTS:
        if key_id is not None:
            await remember_key(tx, envelope.streamid, key_id)
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
                key_id=key_id,
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
    itself, never recomputed. The erased cases are not reset: a replayed ``case.opened`` of an
    erased case adds nothing (and the erasure, later in the log, erases again).
    """

    name = "document-service.case-parties"
    event_types: frozenset[str] | None = PARTY_EVENTS | {ERASURE_EVENT}

    async def reset(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(case_parties))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        if envelope.type == ERASURE_EVENT:
            await apply_erasure(tx, envelope)
        else:
            await apply_party_event(tx, envelope)
