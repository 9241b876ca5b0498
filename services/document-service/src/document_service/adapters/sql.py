"""SQL both dialects spell alike but build through their own constructs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_or_ignore(tx: AsyncConnection, table: Table, **values: Any) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for PostgreSQL or SQLite."""
    if tx.dialect.name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    if tx.dialect.name == "sqlite":
        return sqlite.insert(table).values(**values).on_conflict_do_nothing()
    raise NotImplementedError(
        f"the document service needs PostgreSQL or SQLite, not {tx.dialect.name}"
    )
