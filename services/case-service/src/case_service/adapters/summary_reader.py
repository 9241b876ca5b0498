"""Queries on the case summaries: one case, or a page of the cases a caller may see.

What a caller may see is applied in SQL (``Visibility``): the tenant always, then the caller's
own cases and the cases they currently manage, unless a role lets them read the whole tenant.
Pages are keyset-paginated, newest case start first, so a cursor stays valid while rows change.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import ColumnElement, RowMapping, Table, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from case_service.adapters.read_tables import ReadTables


class InvalidCursor(ValueError):
    """A page cursor this service did not hand out (or one that was altered)."""


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this (case start, case id)."""

    case_start: date
    case_id: str

    def encode(self) -> str:
        raw = json.dumps([self.case_start.isoformat(), self.case_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            start, case_id = json.loads(raw)
            return cls(date.fromisoformat(start), str(case_id))
        except (binascii.Error, ValueError, TypeError) as error:
            raise InvalidCursor("the cursor is not one this service handed out") from error


@dataclass(frozen=True)
class Visibility:
    """Which cases of ``tenant`` a caller may list: all, or their own and those they manage."""

    tenant: str
    all_cases: bool = False
    employee_id: str | None = None
    manager_id: str | None = None

    @property
    def nothing(self) -> bool:
        return not (self.all_cases or self.employee_id or self.manager_id)


@dataclass(frozen=True)
class SummaryFilters:
    """The listing's optional filters; each narrows what the caller may see anyway."""

    manager_id: str | None = None
    org_unit: str | None = None
    status: Literal["open", "closed"] | None = None


class SummaryReader:
    def __init__(self, engine: AsyncEngine, tables: ReadTables) -> None:
        self._engine = engine
        self._table = tables.case_summaries

    async def get(self, case_id: str) -> RowMapping | None:
        """The row of ``case_id`` in whatever tenant: the caller's access check decides."""
        table = self._table
        async with self._engine.connect() as connection:
            result = await connection.execute(select(table).where(table.c.case_id == case_id))
            row = result.first()
        return row._mapping if row is not None else None

    async def page(
        self,
        visibility: Visibility,
        filters: SummaryFilters,
        *,
        limit: int,
        after: Cursor | None = None,
    ) -> tuple[list[RowMapping], Cursor | None]:
        """Up to ``limit`` rows the caller may see, and the cursor of the next page."""
        table = self._table
        statement = (
            select(table)
            .where(visible_to(table, visibility), _filtered(table, filters), _after(table, after))
            .order_by(table.c.case_start.desc(), table.c.case_id.desc())
            .limit(limit + 1)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        page = [row._mapping for row in rows[:limit]]
        if len(rows) <= limit:
            return page, None
        return page, Cursor(page[-1]["case_start"], page[-1]["case_id"])


def visible_to(table: Table, visibility: Visibility) -> ColumnElement[bool]:
    """The SQL form of ``Visibility``: never a row of another tenant."""
    same_tenant = table.c.tenant == visibility.tenant
    if visibility.all_cases:
        return same_tenant
    own: list[ColumnElement[bool]] = []
    if visibility.employee_id is not None:
        own.append(table.c.employee_id == visibility.employee_id)
    if visibility.manager_id is not None:
        own.append(table.c.manager_id == visibility.manager_id)
    return and_(same_tenant, or_(*own) if own else false())


def _filtered(table: Table, filters: SummaryFilters) -> ColumnElement[bool]:
    conditions = [
        column == value
        for column, value in (
            (table.c.manager_id, filters.manager_id),
            (table.c.org_unit, filters.org_unit),
            (table.c.status, filters.status),
        )
        if value is not None
    ]
    return and_(true(), *conditions)


def _after(table: Table, cursor: Cursor | None) -> ColumnElement[bool]:
    if cursor is None:
        return true()
    start, case_id = table.c.case_start, table.c.case_id
    return or_(
        start < cursor.case_start, and_(start == cursor.case_start, case_id < cursor.case_id)
    )
