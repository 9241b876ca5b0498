"""Group commit (gruppecommit): concurrent appends of one process share one transaction.

Every PostgreSQL append takes the ``event_log_head`` row lock and keeps it until its commit,
so appends commit one after another, each waiting for its own WAL flush: under many writers
the store runs at one flush per append, while PostgreSQL's own group commit would have let
independent inserts share flushes. Writing the appends that queue up meanwhile in one
transaction pays the flush and the lock once per group.

A group is the appends' own statements, pipelined: asyncpg's ``fetchmany`` sends them all
before one Sync, so the group costs one round trip, one transaction and one WAL flush (every
append of a store has the same statement, whatever its expected version or command id; see
``postgres.py``). Each statement sees the ones before it.

Nothing of the store's contract changes. Each append is still its own unit: a conflict or a
retried command writes nothing and answers only its caller (the PostgreSQL statement writes
nothing in those cases and raises no database error, so the group goes on without a
savepoint). Positions stay gap-free and in commit order (the group's appends take them in
turn, and the group commits at once). Should a statement fail with a database error, the
whole group is rolled back, nothing of it written, and every append of the group is written
again alone, so one bad append cannot fail the others. A group lost with its connection may
or may not have committed: every caller gets the error, as a lone append would, and nothing
is written again.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.eventstore.backend import Duplicate
from naervaer.eventstore.driver import DriverConnections
from naervaer.eventstore.errors import ConcurrencyConflict, StreamOfAnotherTenant
from naervaer.eventstore.model import AppendBatch, AppendResult
from naervaer.eventstore.postgres import PostgresAppender
from naervaer.eventstore.writing import BatchWriter


@dataclass
class _Pending:
    batch: AppendBatch
    future: asyncio.Future[AppendResult] = field(repr=False)

    def settle(self, outcome: AppendResult | BaseException) -> None:
        if self.future.done():  # its caller was cancelled meanwhile
            return
        if isinstance(outcome, asyncio.CancelledError):
            self.future.cancel()
        elif isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)


class GroupCommit:
    """Writes the appends of one process in groups, one group at a time (PostgreSQL only).

    No timer: an append that finds nothing in flight is written at once, alone, in one round
    trip, in its caller's own task (no flusher task, no future: as without grouping). Appends
    that arrive while anything is being written queue up and then go together, up to
    ``max_group`` in one transaction, in a flusher task of their own. So a lone writer pays
    nothing, and the busier the store the bigger the groups.
    """

    def __init__(
        self,
        own: AsyncEngine,
        driver: DriverConnections,
        appender: PostgresAppender,
        writer: BatchWriter,
        *,
        max_group: int = 64,
    ) -> None:
        self._own = own
        self._driver = driver
        self._appender = appender
        self._writer = writer
        self._max_group = max_group
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._lone: object | None = None  # marks an append written in its caller's task
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsent = False  # a flusher was created and has not taken its first group yet
        self.appends_grouped = 0  # appends written in a group of two or more, for tests/bench

    async def write(self, batch: AppendBatch) -> AppendResult:
        """Write ``batch`` in the next group; the answer is the same as a lone append's."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A store outlived its event loop (a test client's, say): whatever was queued
            # there can never be answered, and its flusher never finish. Start afresh.
            self._loop, self._queue, self._flusher, self._unsent = loop, [], None, False
            self._lone = None
        flushing = self._flusher is not None and not self._flusher.done()
        if self._lone is None and not flushing:  # then the queue is empty too
            return await self._write_lone(batch)
        pending = _Pending(batch, loop.create_future())
        self._queue.append(pending)  # whoever is in flight starts or is the next flusher
        return await pending.future

    async def _write_lone(self, batch: AppendBatch) -> AppendResult:
        """Write ``batch`` alone in the caller's task; appends arriving meanwhile queue up.

        A cancelled caller stops only its own append (one statement: written whole or not at
        all), and the connection goes back to the pool (``DriverConnections``); whatever
        queued up behind it is flushed all the same.
        """
        self._lone = lone = object()
        try:
            [outcome] = await self._outcomes([batch])
        finally:
            if self._lone is lone:  # not if the store has moved to another event loop since
                self._lone = None
                if self._queue:
                    self._start_flusher()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _start_flusher(self) -> None:
        # Its own task, so a caller cancelled while waiting cannot abort the others' group,
        # and in an empty context, so the group's work joins no single caller's trace.
        self._flusher = asyncio.create_task(
            self._flush_all(), name="eventstore-group", context=contextvars.Context()
        )
        self._unsent = True

    async def make_way(self) -> None:
        """Let a group that has just formed go out before the caller's own CPU-heavy work.

        Writers answered by one group resume together, each preparing its next append before
        the next group's flusher gets to run: with large batches the server then idles
        through all of their preparation. A writer about to prepare a large batch calls this
        first; if a flusher is waiting to start, the writer steps back one turn of the event
        loop, so that group is sent and written while the writer prepares.
        """
        if self._unsent and self._loop is asyncio.get_running_loop():
            await asyncio.sleep(0)

    async def _flush_all(self) -> None:
        queue = self._queue  # this event loop's (a store moved to another loop gets a new one)
        self._unsent = False
        while queue:
            group = queue[: self._max_group]
            del queue[: self._max_group]
            try:
                queue[:0] = await self._flush(group)
            except (Exception, asyncio.CancelledError) as error:  # shutdown, or a bug
                for pending in (*group, *queue):
                    pending.settle(error)
                queue.clear()
                raise

    async def _flush(self, group: Sequence[_Pending]) -> list[_Pending]:
        """Write ``group``; return the appends that must wait for the next one."""
        run, doomed = _split(group)
        outcomes = await self._outcomes([pending.batch for pending in run])
        for pending, outcome in zip(run, outcomes, strict=True):
            pending.settle(outcome)
        again: list[_Pending] = []
        for pending, leader in doomed:
            conflict = _behind(outcomes[leader], pending.batch)
            if conflict is None:
                again.append(pending)  # its leader wrote nothing: it must run after all
            else:
                pending.settle(conflict)
        return again

    async def _outcomes(self, batches: Sequence[AppendBatch]) -> list[AppendResult | Exception]:
        # A lone append takes the same way: on asyncpg directly it costs less Python than
        # through SQLAlchemy (measured: a sixth of a command's CPU).
        try:
            together = await self._together(batches)
        except Exception as error:  # e.g. no connection to be had: nothing was sent
            return [error] * len(batches)
        if together is None:  # a database error broke the transaction: nothing was written
            return [await self._alone(batch) for batch in batches]
        if len(batches) > 1:
            self.appends_grouped += len(batches)
        return list(together)

    async def _alone(self, batch: AppendBatch) -> AppendResult | Exception:
        try:
            return await self._writer.write(batch, None)
        except Exception as error:
            return error

    async def _together(
        self, batches: Sequence[AppendBatch]
    ) -> Sequence[AppendResult | Exception] | None:
        """Each batch's answer, all committed together; None when nothing was written."""
        try:  # autocommit: asyncpg's rules
            rows = await self._driver.run(partial(self._rows, batches))
        except Exception as error:  # no connection to be had, or it was lost: maybe committed
            return [error] * len(batches)
        if rows is None:
            return None
        pairs = list(zip(batches, rows, strict=True))
        answers = [self._unread_answer(batch, row) for batch, row in pairs]
        if None not in answers:  # the usual case: every answer is in the rows, no read needed
            return [answer for answer in answers if answer is not None]
        # Retried commands (and a rare conflict) read the store: the group is committed by
        # now, so on a connection of their own.
        async with self._own.connect() as conn:
            return [await self._answer(conn, batch, row) for batch, row in pairs]

    def _unread_answer(
        self, batch: AppendBatch, row: Mapping[str, Any]
    ) -> AppendResult | ConcurrencyConflict | StreamOfAnotherTenant | None:
        """``batch``'s answer when its row tells it without a read: what it wrote, or why it
        wrote nothing (a version conflict, another tenant's stream); None when only a read
        can tell."""
        written = self._appender.written(batch, row)
        if written is not None:
            return self._writer.written(batch, written)
        return self._appender.plain_conflict(batch, row)

    async def _rows(
        self, batches: Sequence[AppendBatch], raw: asyncpg.Connection
    ) -> list[Mapping[str, Any]] | None:
        try:
            return await self._appender.append_many(raw, batches)
        except asyncpg.PostgresError:
            return None  # the server refused a statement and rolled the group back

    async def _answer(
        self, conn: AsyncConnection, batch: AppendBatch, row: Mapping[str, Any]
    ) -> AppendResult | Exception:
        try:
            outcome = await self._appender.settle(conn, batch, row)
            if isinstance(outcome, Duplicate):
                return await self._writer.duplicate(conn, batch)
            return self._writer.written(batch, outcome)
        except Exception as answer:  # a conflict, a reused key or a failed read: its own
            return answer


def _behind(lead: AppendResult | Exception, batch: AppendBatch) -> ConcurrencyConflict | None:
    """The conflict that ``batch``, run serially right after its leader's ``lead``, would
    meet; None when only running it can tell."""
    if isinstance(lead, AppendResult) and not lead.duplicate:
        return ConcurrencyConflict(batch.stream_id, batch.expected_version, lead.version)
    # Versions only grow: a stream already past the version expected stays past it (one
    # still short of it may yet reach it, so that append must run).
    expected = batch.expected_version
    if (
        isinstance(lead, ConcurrencyConflict)
        and expected is not None
        and lead.actual_version > expected
    ):
        return ConcurrencyConflict(batch.stream_id, expected, lead.actual_version)
    return None


def _split(group: Sequence[_Pending]) -> tuple[list[_Pending], list[tuple[_Pending, int]]]:
    """The appends to run, and those bound to conflict if an earlier one succeeds.

    Under contention many writers read the same version of a hot stream and append expecting
    it: in one group only the first can win. The others (no command id, whose retry could
    make them duplicates instead) are not run: each waits for the first with the same stream
    and expected version (its leader, an index into the run) and conflicts if that wrote, or
    if that found the stream past the version (as when the winner went just before, alone).
    """
    run: list[_Pending] = []
    doomed: list[tuple[_Pending, int]] = []
    leaders: dict[tuple[str, int], int] = {}
    for pending in group:
        batch = pending.batch
        if batch.expected_version is None:
            run.append(pending)
            continue
        key = (batch.stream_id, batch.expected_version)
        if key in leaders and batch.command_id is None:
            doomed.append((pending, leaders[key]))
            continue
        leaders.setdefault(key, len(run))
        run.append(pending)
    return run, doomed
