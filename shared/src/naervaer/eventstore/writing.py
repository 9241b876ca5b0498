"""Writing a prepared batch: in the store's own transaction or in the caller's savepoint.

Turns what the backend reports (written, duplicate, conflict, a unique-key violation) into the
store's answer: an ``AppendResult``, ``ConcurrencyConflict`` or ``IdempotencyKeyReused``.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractAsyncContextManager
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.eventstore.backend import Appended, Appender, Duplicate
from naervaer.eventstore.errors import ConcurrencyConflict, IdempotencyKeyReused
from naervaer.eventstore.model import AppendBatch, AppendResult
from naervaer.eventstore.reading import EventReader
from naervaer.eventstore.tables import STREAM_VERSION_CONSTRAINT


class BatchWriter:
    """Writes batches through one backend and answers like ``EventStore.append``.

    ``own`` is the engine for the store's own work: on PostgreSQL an autocommit view of
    ``engine`` (the append is one statement, its own transaction); on SQLite ``engine`` itself,
    whose ``BEGIN IMMEDIATE`` transaction holds the append's several statements together.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        own: AsyncEngine,
        appender: Appender,
        reader: EventReader,
        source: str,
    ) -> None:
        self._engine = engine
        self._source = source
        self._own = own
        self._appender = appender
        self._reader = reader

    async def write(self, batch: AppendBatch, connection: AsyncConnection | None) -> AppendResult:
        try:
            if connection is not None:
                async with connection.begin_nested():
                    return await self.write_on(connection, batch)
            async with self._own_transaction() as conn:
                return await self.write_on(conn, batch)
        except IntegrityError as error:
            return await self._after_violation(batch, connection, error)

    def _own_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        if self._own is self._engine:
            return self._engine.begin()
        return self._own.connect()

    async def write_on(self, conn: AsyncConnection, batch: AppendBatch) -> AppendResult:
        """Write ``batch`` on ``conn`` in the transaction it is in (no savepoint of its own)."""
        outcome = await self._appender.append(conn, batch)
        if isinstance(outcome, Duplicate):
            return await self.duplicate(conn, batch)
        return self.written(batch, outcome)

    def written(self, batch: AppendBatch, outcome: Appended) -> AppendResult:
        """The answer to a written batch; its envelopes are built from what the store holds,
        and only if the caller reads them."""
        first_version = outcome.version - batch.count + 1
        build = partial(batch.envelopes, outcome.first_position, first_version, self._source)
        return AppendResult(batch.stream_id, outcome.version, build, duplicate=False)

    async def first_result(
        self, conn: AsyncConnection, command_id: str, stream_id: str
    ) -> AppendResult:
        """What the first append of a retried command returned (idempotent append)."""
        envelopes = await self._reader.by_command(conn, command_id)
        if not envelopes:  # pragma: no cover - the command log and events are written together
            version = await self._reader.version(conn, stream_id)
            return AppendResult(stream_id, version, (), duplicate=True)
        last = envelopes[-1]
        return AppendResult(last.streamid, last.streamversion, tuple(envelopes), duplicate=True)

    async def duplicate(self, conn: AsyncConnection, batch: AppendBatch) -> AppendResult:
        """The answer to a retried command: the first result, or ``IdempotencyKeyReused``."""
        assert batch.command_id is not None
        logged = await self._reader.logged_command(conn, batch.command_id)
        if logged is not None:
            same_request(batch.command_id, logged.fingerprint, batch.command_fingerprint)
        return await self.first_result(conn, batch.command_id, batch.stream_id)

    async def _after_violation(
        self, batch: AppendBatch, connection: AsyncConnection | None, error: IntegrityError
    ) -> AppendResult:
        """A unique key stopped the append (nothing of it was written): a lost race for a
        stream version, or for the command log's key against a retry of the same command."""
        async with self._reading(connection) as conn:
            if is_version_clash(error):
                actual = await self._reader.version(conn, batch.stream_id)
                raise ConcurrencyConflict(
                    batch.stream_id, batch.expected_version, actual
                ) from error
            if batch.command_id is not None and await self._reader.logged_command(
                conn, batch.command_id
            ):
                return await self.duplicate(conn, batch)
        raise error

    def _reading(
        self, connection: AsyncConnection | None
    ) -> AbstractAsyncContextManager[AsyncConnection]:
        if connection is not None:  # its savepoint was rolled back: the caller's tx is usable
            return contextlib.nullcontext(connection)
        return self._own.connect()


def same_request(command_id: str, logged: str | None, offered: str | None) -> None:
    """Refuse a reused idempotency key: same command id, another request fingerprint.

    Only two known fingerprints can differ: an append without one cannot be told apart.
    """
    if logged is not None and offered is not None and logged != offered:
        raise IdempotencyKeyReused(command_id)


def is_version_clash(error: IntegrityError) -> bool:
    """A unique violation on (stream_id, stream_version): a lost race for a version."""
    message = str(error.orig)
    return STREAM_VERSION_CONSTRAINT in message or (
        "events.stream_id, events.stream_version" in message
    )
