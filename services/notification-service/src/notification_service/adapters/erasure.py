"""Erasure (sletting): deleting everything the service derived about an employee's cases.

On ``employee.personal_data_erased`` the case service has destroyed the employee's key. Here
the rows that hold what was read with it go: the deliveries about the cases (facts, rendered
subjects, attempts and their errors), the cases' parties and meetings, and the employee's
address book entry once no remaining case names them, all of the event's tenant. A tombstone
per case (no personal data: the case id, its tenant and the destroyed key's id) keeps a
redelivered or replayed event of the tenant's case from writing anything again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.privacy import ERASED
from notification_service.adapters.sql import insert
from notification_service.adapters.tables import (
    case_parties,
    deliveries,
    delivery_attempts,
    erased_cases,
    meetings,
    recipients,
)


@dataclass(frozen=True)
class Erasure:
    """What ``employee.personal_data_erased`` names: the destroyed key and its cases."""

    tenant: str
    key_id: str
    case_ids: tuple[str, ...]
    erased_on: date


@dataclass(frozen=True)
class Erased:
    """How many rows went (for the log: counts, never contents)."""

    deliveries: int
    cases: int
    recipients: int


async def erase(tx: AsyncConnection, erasure: Erasure, *, now: datetime) -> Erased:
    """Delete what is held about the cases and record their tombstones (idempotent)."""
    people = await _people_of(tx, erasure.tenant, erasure.case_ids)
    removed = await _delete_deliveries(
        tx,
        deliveries.c.tenant == erasure.tenant,
        or_(deliveries.c.case_id.in_(erasure.case_ids), deliveries.c.key_id == erasure.key_id),
    )
    await tx.execute(
        delete(meetings).where(
            meetings.c.tenant == erasure.tenant, meetings.c.case_id.in_(erasure.case_ids)
        )
    )
    cases = await tx.execute(
        delete(case_parties).where(
            case_parties.c.tenant == erasure.tenant, case_parties.c.case_id.in_(erasure.case_ids)
        )
    )
    forgotten = 0
    for person in people - await _still_named(tx, erasure.tenant, people):
        forgotten += await _forget_recipient(tx, erasure.tenant, person)
    await _tombstones(tx, erasure, now)
    return Erased(removed, int(cases.rowcount), forgotten)


async def is_erased(tx: AsyncConnection, tenant: str, case_id: str) -> bool:
    """Whether ``tenant`` erased the case's personal data: nothing about it may be written
    again (another tenant's erasure naming the same id never counts)."""
    found = await tx.scalar(
        select(erased_cases.c.case_id).where(
            erased_cases.c.tenant == tenant, erased_cases.c.case_id == case_id
        )
    )
    return found is not None


async def _people_of(tx: AsyncConnection, tenant: str, case_ids: Collection[str]) -> set[str]:
    """The employees of the cases, as this service knew them (before their rows go)."""
    rows = await tx.execute(
        select(case_parties.c.employee_id).where(
            case_parties.c.tenant == tenant, case_parties.c.case_id.in_(case_ids)
        )
    )
    return {row.employee_id for row in rows if row.employee_id != ERASED}


async def _still_named(tx: AsyncConnection, tenant: str, people: set[str]) -> set[str]:
    """Those of ``people`` another (not erased) case still needs: as its employee or manager."""
    if not people:
        return set()
    named = or_(case_parties.c.employee_id.in_(people), case_parties.c.manager_id.in_(people))
    rows = await tx.execute(
        select(case_parties.c.employee_id, case_parties.c.manager_id).where(
            case_parties.c.tenant == tenant, named
        )
    )
    return {party for row in rows for party in (row.employee_id, row.manager_id)} & people


async def _forget_recipient(tx: AsyncConnection, tenant: str, party_id: str) -> int:
    """The employee's address book entry, and the test messages sent to it (no case)."""
    await _delete_deliveries(
        tx,
        deliveries.c.tenant == tenant,
        deliveries.c.recipient_id == party_id,
        deliveries.c.case_id.is_(None),
    )
    result = await tx.execute(
        delete(recipients).where(recipients.c.tenant == tenant, recipients.c.party_id == party_id)
    )
    return int(result.rowcount)


async def _delete_deliveries(tx: AsyncConnection, *where: ColumnElement[bool]) -> int:
    ids = [row.id for row in await tx.execute(select(deliveries.c.id).where(*where))]
    if not ids:
        return 0
    await tx.execute(delete(delivery_attempts).where(delivery_attempts.c.delivery_id.in_(ids)))
    await tx.execute(delete(deliveries).where(deliveries.c.id.in_(ids)))
    return len(ids)


async def _tombstones(tx: AsyncConnection, erasure: Erasure, now: datetime) -> None:
    for case_id in erasure.case_ids:
        row = {
            "case_id": case_id,
            "tenant": erasure.tenant,
            "key_id": erasure.key_id,
            "erased_on": erasure.erased_on,
            "recorded_at": now,
        }
        await tx.execute(insert(tx, erased_cases).values(row).on_conflict_do_nothing())
