"""Erasure (sletting) of everything the deadline service derived about an employee's cases.

On ``employee.personal_data_erased`` the cases' timelines, timers (sent ones too), stored case
events and case rows are deleted, and the cases are remembered as erased so a late or
redelivered event of theirs stores nothing again. The deadline events already published stay
in the event store: they are the record of what was sent, sealed with the destroyed key, and
so unreadable for good.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters.tables import case_events, cases, erased_cases, obligations, timers
from naervaer.contracts.employee import PersonalDataErased

DERIVED = (obligations, timers, case_events, cases)
"""Every table holding something about a case, the case row last."""


async def erase_cases(tx: AsyncConnection, tenant: str, event: PersonalDataErased) -> set[str]:
    """Delete what is held about the event's cases of ``tenant``; returns their employees
    (whose remaining cases, if any, must no longer count the erased sick-pay days)."""
    case_ids = await _of_tenant(tx, tenant, event.case_ids)
    if not case_ids:
        return set()
    employees = await tx.execute(
        select(cases.c.employee_id).where(cases.c.case_id.in_(case_ids)).distinct()
    )
    found = set(employees.scalars())
    for table in DERIVED:
        await tx.execute(delete(table).where(table.c.case_id.in_(case_ids)))
    await _remember(tx, tenant, event, case_ids)
    return found


async def is_erased(tx: AsyncConnection, tenant: str, case_id: str) -> bool:
    """Whether ``tenant`` erased the case (another tenant's erasure naming its id never counts)."""
    statement = select(erased_cases.c.case_id).where(
        erased_cases.c.case_id == case_id, erased_cases.c.tenant == tenant
    )
    return (await tx.execute(statement)).first() is not None


async def _of_tenant(tx: AsyncConnection, tenant: str, case_ids: Sequence[str]) -> list[str]:
    """The case ids not known to belong to another tenant (an event never reaches across)."""
    foreign = await tx.execute(
        select(cases.c.case_id).where(cases.c.case_id.in_(case_ids), cases.c.tenant != tenant)
    )
    excluded = set(foreign.scalars())
    return sorted(set(case_ids) - excluded)


async def _remember(
    tx: AsyncConnection, tenant: str, event: PersonalDataErased, case_ids: Sequence[str]
) -> None:
    rows = [
        {"case_id": case_id, "tenant": tenant, "key_id": event.key_id, "erased_on": event.erased_on}
        for case_id in case_ids
    ]
    dialect = postgresql if tx.dialect.name == "postgresql" else sqlite
    await tx.execute(dialect.insert(erased_cases).values(rows).on_conflict_do_nothing())
