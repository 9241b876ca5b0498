"""SQL on the consumer tables, for PostgreSQL and SQLite alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningInsert

from naervaer import on_driver
from naervaer.bulk import insert_rows
from naervaer.db import unnested, unnested_params
from naervaer.messaging.tables import ConsumerTables


def _insert(tx: AsyncConnection, table: Table) -> Any:
    # Both dialects spell INSERT … ON CONFLICT the same way, but through their own construct.
    if tx.dialect.name == "postgresql":
        return postgresql.insert(table)
    if tx.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"consumer tables need PostgreSQL or SQLite, not {tx.dialect.name}")


async def claim(tx: AsyncConnection, tables: ConsumerTables, consumer: str, event_id: UUID) -> bool:
    """Insert the inbox row; False when ``consumer`` has already handled ``event_id``.

    On PostgreSQL one statement built once and sent on the driver (``naervaer.on_driver``,
    which sends the transaction's ``BEGIN`` first): the first statement of the transaction of
    a message settled alone (a fetch of one, or each message of a batch that failed; issue 8)."""
    row = {"consumer": consumer, "event_id": event_id, "handled_at": datetime.now(UTC)}
    if tx.dialect.name == "postgresql":
        return bool(await on_driver.fetch(tx, _claim_one(tables.inbox), row))
    statement = _insert(tx, tables.inbox).values(row).on_conflict_do_nothing()
    result = await tx.execute(statement)
    return bool(result.rowcount == 1)


async def claim_many(
    tx: AsyncConnection, tables: ConsumerTables, consumer: str, event_ids: Sequence[UUID]
) -> set[UUID]:
    """Insert the inbox rows of a batch in one statement; the ids ``consumer`` had not handled.

    ``event_ids`` must not repeat an id (the consumer settles repeats within a batch itself).
    ``RETURNING`` names only the rows inserted, on PostgreSQL and on SQLite (3.35 or newer).
    """
    if not event_ids:
        return set()
    now = datetime.now(UTC)
    table = tables.inbox
    if tx.dialect.name == "postgresql":
        ids = unnested_params("claimed", [table.c.event_id], ((id_,) for id_ in event_ids))
        params = {"claim_consumer": consumer, "claim_handled_at": now, **ids}
        claimed = await on_driver.fetch(tx, _claim_unnested(table), params)
        return {row.event_id for row in claimed}
    rows = [{"consumer": consumer, "event_id": id_, "handled_at": now} for id_ in event_ids]
    statement = _insert(tx, table).values(rows).on_conflict_do_nothing().returning(table.c.event_id)
    result = await tx.execute(statement)
    return set(result.scalars().all())


_ROW = ("consumer", "event_id", "handled_at")  # an inbox row's columns, as ``claim`` gives them


@lru_cache(maxsize=64)
def _claim_one(inbox: Table) -> ReturningInsert[UUID]:
    """``claim``'s PostgreSQL INSERT, its row's values as binds; the row if it was new."""
    c = inbox.c
    values = {c[name]: bindparam(name, type_=c[name].type) for name in _ROW}
    statement = postgresql.insert(inbox).values(values).on_conflict_do_nothing()
    return statement.returning(c.event_id)


@lru_cache(maxsize=64)
def _claim_unnested(inbox: Table) -> ReturningInsert[UUID]:
    """``claim_many``'s PostgreSQL INSERT: the ids as one array, so one statement (compiled
    and prepared once) for every batch size; a multi-row VALUES is a new one per size."""
    c = inbox.c
    claimed = unnested("claimed", c.event_id)
    rows = select(
        bindparam("claim_consumer", type_=c.consumer.type),
        claimed.c.event_id,
        bindparam("claim_handled_at", type_=c.handled_at.type),
    )
    statement = postgresql.insert(inbox).from_select(["consumer", "event_id", "handled_at"], rows)
    return statement.on_conflict_do_nothing().returning(c.event_id)


async def claim_all(
    tx: AsyncConnection, tables: ConsumerTables, consumer: str, event_ids: Iterable[UUID]
) -> None:
    """Insert inbox rows for events known to be new (a rebuild after clearing the inbox):
    one ``COPY`` on PostgreSQL once the transaction has begun, else one statement of
    per-column arrays (``naervaer.bulk``)."""
    now = datetime.now(UTC)
    rows = [{"consumer": consumer, "event_id": id_, "handled_at": now} for id_ in event_ids]
    await insert_rows(tx, tables.inbox, rows)


async def save_checkpoint(
    tx: AsyncConnection, tables: ConsumerTables, consumer: str, source: str, position: int
) -> None:
    """Upsert how far ``consumer`` has read the log behind ``source`` (a topic name)."""
    row = {"consumer": consumer, "source": source, "position": position}
    statement = _insert(tx, tables.checkpoints).values(row)
    statement = statement.on_conflict_do_update(
        index_elements=["consumer", "source"], set_={"position": statement.excluded.position}
    )
    await tx.execute(statement)


async def load_checkpoints(
    tx: AsyncConnection, tables: ConsumerTables, consumer: str
) -> dict[str, int]:
    """Every source's checkpoint of ``consumer``; a missing source has read nothing yet."""
    table = tables.checkpoints
    result = await tx.execute(
        select(table.c.source, table.c.position).where(table.c.consumer == consumer)
    )
    return {source: int(position) for source, position in result.all()}


async def forget_consumer(tx: AsyncConnection, tables: ConsumerTables, consumer: str) -> None:
    """Delete the inbox rows and checkpoints of ``consumer`` (before a rebuild)."""
    await tx.execute(delete(tables.inbox).where(tables.inbox.c.consumer == consumer))
    await tx.execute(delete(tables.checkpoints).where(tables.checkpoints.c.consumer == consumer))


async def record_dead_letter(tx: AsyncConnection, tables: ConsumerTables, **row: Any) -> None:
    """Insert one dead-letter row (see ``tables._dead_letters`` for the columns)."""
    await tx.execute(tables.dead_letters.insert().values(failed_at=datetime.now(UTC), **row))
