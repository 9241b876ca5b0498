"""Concurrent reads of streams gathered into one round trip (PostgreSQL only).

What ``GroupCommit`` does for appends, for the two reads a command makes before it appends
(the stream's version, or the whole stream). No timer: a read that finds fewer than
``alone_at_once`` (two) in flight and none waiting goes at once, alone, in its caller's task,
as without grouping. Reads that arrive while those are in flight, or while a group is, queue
up, and as soon as one ends they go together, one statement for all of them
(``stream_id = ANY($1)``) in a task of their own; each caller gets its own stream's answer.
So a lone reader pays nothing, a few readers still read side by side (with one lone read at
a time, W1 at 4 writers lost 6 % waiting), and the busier the store the fewer round trips a
read costs (W1 at 16 and 64 writers: a round trip's CPU on both sides, client and server, is
most of what a version read costs).

Freshness is a lone read's: a queued read is sent after it was queued, so it sees every append
committed before its caller asked. A failed group read fails each of its callers (and only
them; reads queued meanwhile go in the next group), a stream whose rows cannot be read fails
only its own callers, and a caller cancelled while queued leaves the others' read alone. Two
callers of one stream in a group get equal answers that share nothing (the second a deep
copy). The price is a lone read's: under load every read waits for the group in flight, so
one slow read (a long stream) delays the reads queued behind it, as one slow append delays
its group's.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg  # type: ignore[import-untyped]

from naervaer.eventstore.driver import DriverConnections

Found = TypeVar("Found")  # what the group's statement found for one stream
Answer = TypeVar("Answer")  # what one caller gets

MAX_GROUP = 256  # streams read in one statement, at most
ALONE_AT_ONCE = 2  # lone reads in flight before the next one queues


@dataclass(frozen=True)
class _Queued(Generic[Answer]):
    stream_id: str
    future: asyncio.Future[Answer]


class ReadGroup(Generic[Found, Answer]):
    """Reads of one kind, alone while few are in flight, otherwise gathered.

    ``alone(raw, stream_id)`` is the read of one stream; ``together(raw, stream_ids)`` what
    one statement finds for several (streams it does not name were not found), and
    ``answer(found)`` turns that into a caller's answer (``found`` None for a stream not
    found): once per stream, deep-copied for a second caller of the same stream.
    """

    def __init__(
        self,
        driver: DriverConnections,
        alone: Callable[[asyncpg.Connection, str], Awaitable[Answer]],
        together: Callable[[asyncpg.Connection, Sequence[str]], Awaitable[Mapping[str, Found]]],
        answer: Callable[[Found | None], Answer],
        *,
        max_group: int = MAX_GROUP,
        alone_at_once: int = ALONE_AT_ONCE,
    ) -> None:
        self._driver = driver
        self._alone = alone
        self._together = together
        self._answer = answer
        self._max_group = max_group
        self._alone_at_once = alone_at_once
        self._queue: list[_Queued[Answer]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._reading_alone = 0  # lone reads in flight
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reads_grouped = 0  # reads answered by a group of two or more, for tests/bench

    async def read(self, stream_id: str) -> Answer:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # The store outlived its event loop (a test client's, say): what was queued there
            # can never be answered. Start afresh.
            self._loop, self._queue, self._flusher, self._reading_alone = loop, [], None, 0
        if self._reading_alone < self._alone_at_once and not self._queue and not self._flushing():
            return await self._read_alone(stream_id, loop)
        queued = _Queued[Answer](stream_id, loop.create_future())
        self._queue.append(queued)  # whoever is in flight starts or is the next flusher
        return await queued.future

    async def _read_alone(self, stream_id: str, loop: asyncio.AbstractEventLoop) -> Answer:
        self._reading_alone += 1
        try:
            return await self._driver.run(lambda raw: self._alone(raw, stream_id))
        finally:
            if self._loop is loop:  # not if the store has moved to another event loop since
                self._reading_alone -= 1
                if self._queue and not self._flushing():
                    # Its own task, in an empty context: a caller cancelled while waiting
                    # cannot stop the others' read, which joins no single caller's trace.
                    self._flusher = asyncio.create_task(
                        self._flush_all(), name="eventstore-reads", context=contextvars.Context()
                    )

    def _flushing(self) -> bool:
        return self._flusher is not None and not self._flusher.done()

    async def _flush_all(self) -> None:
        queue = self._queue  # this event loop's
        while queue:
            group = queue[: self._max_group]
            del queue[: self._max_group]
            try:
                await self._flush(group)
            except asyncio.CancelledError:  # the loop is shutting down: nobody will be answered
                for queued in (*group, *queue):
                    queued.future.cancel()
                queue.clear()
                raise
            except Exception as error:  # e.g. the server was lost: this group's callers hear it
                for queued in group:
                    if not queued.future.done():
                        queued.future.set_exception(error)

    async def _flush(self, group: Sequence[_Queued[Answer]]) -> None:
        stream_ids = list(dict.fromkeys(queued.stream_id for queued in group))
        found = await self._driver.run(lambda raw: self._together(raw, stream_ids))
        if len(group) > 1:
            self.reads_grouped += len(group)
        first: dict[str, Answer] = {}
        for queued in group:
            if queued.future.done():  # its caller was cancelled meanwhile
                continue
            stream_id = queued.stream_id
            try:
                if stream_id in first:  # another caller of the stream: a copy, nothing shared
                    answer = copy.deepcopy(first[stream_id])
                else:
                    answer = first[stream_id] = self._answer(found.get(stream_id))
            except Exception as error:  # this stream's rows could not be read: its callers only
                queued.future.set_exception(error)
            else:
                queued.future.set_result(answer)
