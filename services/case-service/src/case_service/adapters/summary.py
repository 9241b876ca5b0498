"""Rows of ``case_summaries`` as the projection writes them: SQL only, no case rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from case_service.adapters.read_tables import ReadTables


class SummaryRows:
    """Load, save and clear summary rows inside the consumer's transaction."""

    def __init__(self, tables: ReadTables) -> None:
        self._table = tables.case_summaries

    async def load(self, tx: AsyncConnection, case_id: str) -> RowMapping | None:
        table = self._table
        row = (await tx.execute(select(table).where(table.c.case_id == case_id))).first()
        return row._mapping if row is not None else None

    async def save(
        self, tx: AsyncConnection, case_id: str, values: Mapping[str, Any], *, exists: bool
    ) -> None:
        table = self._table
        if exists:
            await tx.execute(update(table).where(table.c.case_id == case_id).values(**values))
        else:
            await tx.execute(insert(table).values(case_id=case_id, **values))

    async def delete(self, tx: AsyncConnection, tenant: str, case_ids: Sequence[str]) -> int:
        """Delete the rows of ``case_ids`` (of ``tenant`` only); returns how many there were."""
        table = self._table
        result = await tx.execute(
            delete(table).where(table.c.tenant == tenant, table.c.case_id.in_(list(case_ids)))
        )
        return int(result.rowcount or 0)

    async def clear(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(self._table))
