"""An employee's cases as the case summaries know them: what retention, erasure and the
export (innsyn) ask about. The summaries carry the employee id of each case in clear."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import RowMapping, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from case_service.adapters.read_tables import ReadTables
from case_service.domain.retention import CaseClosure


class EmployeeCases:
    def __init__(self, engine: AsyncEngine, tables: ReadTables) -> None:
        self._engine = engine
        self._table = tables.case_summaries

    async def closures(self, tenant: str, employee_id: str) -> list[CaseClosure]:
        """Each of the employee's cases, open or with its close date."""
        t = self._table
        statement = select(t.c.case_id, t.c.status, t.c.closed_on).where(
            t.c.tenant == tenant, t.c.employee_id == employee_id
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [
            CaseClosure(row.case_id, row.closed_on if row.status == "closed" else None)
            for row in rows
        ]

    async def summaries(self, tenant: str, employee_id: str) -> Sequence[RowMapping]:
        """The employee's summary rows, oldest case first (the export shows them)."""
        t = self._table
        statement = (
            select(t)
            .where(t.c.tenant == tenant, t.c.employee_id == employee_id)
            .order_by(t.c.case_start, t.c.case_id)
        )
        async with self._engine.connect() as connection:
            return [row._mapping for row in (await connection.execute(statement)).all()]

    async def without_open_cases(self, tenant: str) -> list[str]:
        """Employees of ``tenant`` whose every case is closed: the sweep's candidates."""
        t = self._table
        open_count = func.sum(case((t.c.status == "open", 1), else_=0))
        statement = (
            select(t.c.employee_id)
            .where(t.c.tenant == tenant)
            .group_by(t.c.employee_id)
            .having(open_count == 0)
            .order_by(t.c.employee_id)
        )
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).scalars())

    async def tenants(self) -> list[str]:
        """Every tenant with a case (the periodic sweep visits each)."""
        tenant = self._table.c.tenant
        statement = select(tenant).distinct().order_by(tenant)
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).scalars())
