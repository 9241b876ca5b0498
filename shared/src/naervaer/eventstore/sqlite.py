"""SQLite write path: the same steps as on PostgreSQL, as separate statements.

``naervaer.db.create_engine`` opens every SQLite transaction with BEGIN IMMEDIATE, so the
write lock is held from the first statement: the read-check-write of the stream version and
of the global head cannot interleave with another writer.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.eventstore.backend import Appended, Duplicate
from naervaer.eventstore.errors import ConcurrencyConflict, StreamOfAnotherTenant
from naervaer.eventstore.model import AppendBatch
from naervaer.eventstore.tables import HEAD_ID, EventStoreTables


class SqliteAppender:
    """Appends on the embedded SQLite store (one process, serialised writers)."""

    def __init__(self, tables: EventStoreTables) -> None:
        self._tables = tables

    async def append(self, conn: AsyncConnection, batch: AppendBatch) -> Appended | Duplicate:
        if batch.command_id is not None and not await self._log_command(conn, batch):
            return Duplicate()
        version = await self._advance_stream(conn, batch)
        last_position = await self._advance_head(conn, batch.count)
        first_position = last_position - batch.count + 1
        rows = batch.event_rows(first_position, version - batch.count + 1)
        await conn.execute(insert(self._tables.events), rows)
        if batch.outbox is not None:
            await conn.execute(insert(self._tables.outbox), batch.outbox_rows(first_position))
        return Appended(version=version, first_position=first_position)

    async def _log_command(self, conn: AsyncConnection, batch: AppendBatch) -> bool:
        """Record the command id; False when it was recorded before (a retried command)."""
        statement = (
            sqlite_insert(self._tables.command_log)
            .values(
                command_id=batch.command_id,
                stream_id=batch.stream_id,
                recorded_at=batch.recorded_at,
                fingerprint=batch.command_fingerprint,
            )
            .on_conflict_do_nothing(index_elements=["command_id"])
        )
        return (await conn.execute(statement)).rowcount == 1

    async def _advance_stream(self, conn: AsyncConnection, batch: AppendBatch) -> int:
        """Check the expected version and move the stream forward; return its new version."""
        streams = self._tables.streams
        found = (
            await conn.execute(
                select(streams.c.version, streams.c.tenant).where(
                    streams.c.stream_id == batch.stream_id
                )
            )
        ).one_or_none()
        if found is not None and found.tenant != batch.tenant:
            raise StreamOfAnotherTenant(batch.stream_id, batch.tenant)
        current = found.version if found is not None else 0
        expected = batch.expected_version
        if expected is not None and expected != current:
            raise ConcurrencyConflict(batch.stream_id, expected, current)
        new_version = current + batch.count
        if current == 0:
            await conn.execute(
                insert(streams).values(
                    stream_id=batch.stream_id,
                    stream_type=batch.stream_type,
                    tenant=batch.tenant,
                    version=new_version,
                    created_at=batch.recorded_at,
                    updated_at=batch.recorded_at,
                )
            )
        else:
            await conn.execute(
                update(streams)
                .where(streams.c.stream_id == batch.stream_id)
                .values(version=new_version, updated_at=batch.recorded_at)
            )
        return new_version

    async def _advance_head(self, conn: AsyncConnection, count: int) -> int:
        """Move the global head by ``count``, creating its row on first use; return it."""
        head = self._tables.event_log_head
        seed = sqlite_insert(head).values(id=HEAD_ID, position=count)
        upsert = seed.on_conflict_do_update(
            index_elements=["id"], set_={"position": head.c.position + seed.excluded.position}
        ).returning(head.c.position)
        return int((await conn.execute(upsert)).scalar_one())
