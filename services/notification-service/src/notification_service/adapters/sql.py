"""INSERT … ON CONFLICT for PostgreSQL and SQLite alike (both spell it the same way)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert(tx: AsyncConnection, table: Table) -> Any:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_nothing/update``."""
    if tx.dialect.name == "postgresql":
        return postgresql.insert(table)
    if tx.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"needs PostgreSQL or SQLite, not {tx.dialect.name}")


async def upsert(tx: AsyncConnection, table: Table, row: dict[str, Any], keys: list[str]) -> None:
    """Insert ``row`` or, when its ``keys`` exist, overwrite the other columns."""
    statement = insert(tx, table).values(row)
    others = {name: statement.excluded[name] for name in row if name not in keys}
    await tx.execute(statement.on_conflict_do_update(index_elements=keys, set_=others))
