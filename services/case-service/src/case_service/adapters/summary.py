"""Rows of ``case_summaries`` as the projection writes them: SQL only, no case rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BindParameter, RowMapping, Text, bindparam, cast, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from case_service.adapters.read_tables import ReadTables
from naervaer import on_driver
from naervaer.bulk import insert_rows, update_rows
from naervaer.db import among


class SummaryRows:
    """Load, save and clear summary rows inside the consumer's transaction.

    The per-event statements are built once, their values bound at execution: building an
    ``insert().values(**row)`` per event cost more than running it (the consumer's hot path).
    A row is loaded as far as the projection folds on from it (case, tenant, version, and its
    fold state as JSON text, for pydantic to parse: issue 8, sixteenth round, decoded by
    ``json.loads`` and then validated it cost 2.7 times as much); a saved fold state may be
    given as text too (``naervaer.bulk.JsonText``).
    """

    def __init__(self, tables: ReadTables) -> None:
        table = self._table = tables.case_summaries
        # Not named "case_id": an update's SET clause takes that name from the parameters.
        key: BindParameter[str] = bindparam("summary_case_id")
        c = table.c
        columns = (c.case_id, c.tenant, c.version, cast(c.state, Text).label("state"))
        self._load = select(*columns).where(c.case_id == key)
        self._load_many = {  # per dialect: one statement for any number of ids (``among``)
            dialect: select(*columns).where(among(c.case_id, "summary_case_ids", dialect))
            for dialect in ("postgresql", "sqlite")
        }

    async def load(self, tx: AsyncConnection, case_id: str) -> RowMapping | None:
        row = (await tx.execute(self._load, {"summary_case_id": case_id})).first()
        return row._mapping if row is not None else None

    async def save(
        self, tx: AsyncConnection, case_id: str, values: Mapping[str, Any], *, exists: bool
    ) -> None:
        await self.save_many(tx, [(case_id, values, exists)])

    async def load_many(
        self, tx: AsyncConnection, case_ids: Iterable[str]
    ) -> dict[str, Mapping[str, Any]]:
        """The rows of those of ``case_ids`` that have one, by case id (one statement)."""
        params = {"summary_case_ids": sorted(case_ids)}
        rows = await on_driver.fetch(tx, self._load_many[tx.dialect.name], params)
        return {row.case_id: row._asdict() for row in rows}

    async def save_many(
        self, tx: AsyncConnection, rows: Sequence[tuple[str, Mapping[str, Any], bool]]
    ) -> None:
        """``save`` of each (case id, values, exists): the updates in one statement and the
        inserts in another (per-column arrays on PostgreSQL, the inserts a ``COPY`` once the
        transaction has begun: ``naervaer.bulk``)."""
        updates = [{"case_id": c, **values} for c, values, exists in rows if exists]
        inserts = [{"case_id": c, **values} for c, values, exists in rows if not exists]
        await update_rows(tx, self._table, "case_id", updates)
        await insert_rows(tx, self._table, inserts)

    async def delete(self, tx: AsyncConnection, tenant: str, case_ids: Sequence[str]) -> int:
        """Delete the rows of ``case_ids`` (of ``tenant`` only); returns how many there were."""
        table = self._table
        result = await tx.execute(
            delete(table).where(table.c.tenant == tenant, table.c.case_id.in_(list(case_ids)))
        )
        return int(result.rowcount or 0)

    async def clear(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(self._table))
