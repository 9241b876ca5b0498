"""Fetches what the absence statistics are computed from: one unit's cases in a time window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from case_service.adapters.read_tables import ReadTables


@dataclass(frozen=True)
class UnitCaseRow:
    """Only what the statistics need of a case: whose it is and its absence segments."""

    case_id: str
    employee_id: str
    absence: list[dict[str, Any]]


class StatisticsReader:
    def __init__(self, engine: AsyncEngine, tables: ReadTables) -> None:
        self._engine = engine
        self._table = tables.case_summaries

    async def unit_cases(
        self, tenant: str, org_unit: str, *, since: date, until: date
    ) -> list[UnitCaseRow]:
        """Cases of ``org_unit`` in ``tenant`` with absence from ``since`` to ``until``."""
        table = self._table
        statement = (
            select(table.c.case_id, table.c.employee_id, table.c.absence)
            .where(
                table.c.tenant == tenant,
                table.c.org_unit == org_unit,
                table.c.case_start <= until,
                table.c.last_absence_day >= since,
            )
            .order_by(table.c.case_id)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [UnitCaseRow(row.case_id, row.employee_id, list(row.absence)) for row in rows]
