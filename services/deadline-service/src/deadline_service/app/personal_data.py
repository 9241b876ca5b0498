"""Everything the deadline service holds about one employee (innsyn, GDPR art. 15).

Per case: who manages it, its start and sick-pay days, its timeline with each obligation's
status today, and every deadline notice (fristvarsel) pending or already sent. All of it is
read from the projection's tables, where it is held in clear; the published notices in the
event store say nothing more (they are the sent timers, sealed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from deadline_service.adapters import repository as repo
from deadline_service.adapters.scheduler import STAGE_ORDER
from deadline_service.adapters.tables import timers
from deadline_service.app.queries import Entry, TimelineQueries
from deadline_service.domain.kinds import ObligationKind, Stage
from naervaer.clock import Clock

NoticeStatus = Literal["pending", "sent", "withheld"]


@dataclass(frozen=True)
class Notice:
    """One stage of one obligation's reminders: to be sent on ``fire_on``, or sent."""

    kind: ObligationKind
    stage: Stage
    due_date: date
    fire_on: date
    fired_at: datetime | None
    event_id: UUID | None

    @property
    def status(self) -> NoticeStatus:
        if self.fired_at is None:
            return "pending"
        # settled without an event: the employee's key was destroyed before it was due
        return "withheld" if self.event_id is None else "sent"


@dataclass(frozen=True)
class CaseData:
    case: repo.CaseHeader
    timeline: list[Entry]
    notices: list[Notice]


@dataclass(frozen=True)
class EmployeeData:
    tenant: str
    employee_id: str
    generated_at: datetime
    today: date
    cases: list[CaseData]


class PersonalData:
    def __init__(self, engine: AsyncEngine, queries: TimelineQueries, clock: Clock) -> None:
        self._engine = engine
        self._queries = queries
        self._clock = clock

    async def of_employee(self, tenant: str, employee_id: str) -> EmployeeData:
        """What is held about the employee in ``tenant`` (nothing: no cases)."""
        async with self._engine.connect() as conn:
            headers = await repo.cases_of(conn, tenant, employee_id)
            notices = await _notices(conn, [case.case_id for case in headers])
        found = [
            CaseData(
                case, await self._queries.timeline(case.case_id), notices.get(case.case_id, [])
            )
            for case in headers
        ]
        return EmployeeData(tenant, employee_id, self._clock.now(), self._queries.today(), found)


async def _notices(conn: AsyncConnection, case_ids: list[str]) -> dict[str, list[Notice]]:
    if not case_ids:
        return {}
    rows = await conn.execute(select(timers).where(timers.c.case_id.in_(case_ids)))
    found: dict[str, list[Notice]] = {}
    for row in sorted(rows, key=lambda r: (r.fire_on, r.due_date, STAGE_ORDER[r.stage], r.kind)):
        notice = Notice(
            ObligationKind(row.kind),
            Stage(row.stage),
            row.due_date,
            row.fire_on,
            row.fired_at,
            row.event_id,
        )
        found.setdefault(row.case_id, []).append(notice)
    return found
