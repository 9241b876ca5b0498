"""Reading the timeline: stored obligations plus today's date give each one its status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters import repository as repo
from deadline_service.adapters.tables import obligations
from deadline_service.config import Policies
from deadline_service.domain.kinds import ObligationKind, Responsible, Status
from deadline_service.domain.timeline import Obligation, status_on
from naervaer.clock import Clock

KIND_ORDER = {kind: index for index, kind in enumerate(ObligationKind)}


@dataclass(frozen=True)
class Entry:
    """One obligation of one case with its status today."""

    case_id: str
    tenant: str
    manager_id: str
    employee_id: str
    org_unit: str
    obligation: Obligation
    status: Status


@dataclass(frozen=True)
class WorklistFilter:
    status: Status | None = None
    responsible: Responsible | None = None
    manager_id: str | None = None
    org_unit: str | None = None
    due_before: date | None = None


class TimelineQueries:
    def __init__(self, engine: AsyncEngine, policies: Policies, clock: Clock, zone: ZoneInfo):
        self._engine = engine
        self._policies = policies
        self._clock = clock
        self._zone = zone

    def today(self) -> date:
        return self._clock.now().astimezone(self._zone).date()

    async def case(self, case_id: str) -> repo.CaseHeader | None:
        async with self._engine.connect() as conn:
            return await repo.load_case(conn, case_id)

    async def timeline(self, case_id: str) -> list[Entry]:
        """The case's obligations in the order of RULES.md."""
        entries = await self._select(obligations.c.case_id == case_id)
        return sorted(entries, key=lambda e: KIND_ORDER[e.obligation.kind])

    async def worklist(
        self, tenant: str, scope: Sequence[ColumnElement[bool]], wanted: WorklistFilter
    ) -> list[Entry]:
        """Obligations of the tenant within ``scope`` (who may see what), filtered."""
        o = obligations.c
        conditions = [o.tenant == tenant, *scope]
        for column, value in (
            (o.responsible, wanted.responsible),
            (o.manager_id, wanted.manager_id),
            (o.org_unit, wanted.org_unit),
        ):
            if value is not None:
                conditions.append(column == value)
        if wanted.due_before is not None:
            conditions.append(o.due_date < wanted.due_before)
        entries = await self._select(*conditions)
        if wanted.status is not None:
            entries = [e for e in entries if e.status is wanted.status]
        return sorted(entries, key=_worklist_order)

    async def _select(self, *conditions: ColumnElement[bool]) -> list[Entry]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(obligations).where(*conditions))).all()
        today = self.today()
        return [self._entry(row, today) for row in rows]

    def _entry(self, row: Any, today: date) -> Entry:
        obligation = repo.obligation_of(row)
        lead = self._policies.for_tenant(row.tenant).reminder_lead_days
        return Entry(
            case_id=row.case_id,
            tenant=row.tenant,
            manager_id=row.manager_id,
            employee_id=row.employee_id,
            org_unit=row.org_unit,
            obligation=obligation,
            status=status_on(obligation, today, lead),
        )


def _worklist_order(entry: Entry) -> tuple[date, str, int]:
    due = entry.obligation.due_date or date.max
    return due, entry.case_id, KIND_ORDER[entry.obligation.kind]
