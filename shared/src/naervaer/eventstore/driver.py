"""The store's asyncpg connections for its hottest round trips, kept between them briefly.

Checking a connection out of SQLAlchemy's pool for a round trip costs a greenlet (the pool
may have to wait or connect), the pool's bookkeeping and its reset on return: about 60-100 µs
of CPU on the benchmark machine against ~70 µs for the statement itself, and a command makes
two (read the version, append). The statements run here go to asyncpg directly, outside any
transaction (asyncpg's autocommit), so nothing of SQLAlchemy's ``Connection`` is needed.

``DriverConnections`` therefore keeps a connection that has just served a round trip for the
next one instead of returning it: a few at most (``keep``), each at most ``hold_s`` after it
was checked out, so the pool gets every connection back within a few tens of milliseconds
even while the store is busy (another user waiting on a small pool waits no longer than
that), and at once when the engine is disposed. A connection is kept only after its work
succeeded: one that failed, or whose caller was cancelled, goes back to the pool (invalidated
when it was lost), as before. Nothing is left on a kept connection: the work ran one
autocommit statement or a transaction that ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

T = TypeVar("T")

KEEP = 4  # connections kept between round trips, at most
HOLD_S = 0.02  # how long after its checkout a kept connection goes back to the pool


@dataclass(frozen=True)
class _Kept:
    pooled: PoolProxiedConnection
    pool: Pool  # the engine's pool it came from (a disposed engine has a new one)
    taken_at: float  # when it was checked out of the pool, on the event loop's clock


class DriverConnections:
    """Runs work on an asyncpg connection of ``engine``'s pool (PostgreSQL only).

    Disposing ``engine``, or the engine it is a view of (``execution_options``), closes the
    kept ones.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        keep: int = KEEP,
        hold_s: float = HOLD_S,
    ) -> None:
        self._engine = engine
        self._keep = keep
        self._hold_s = hold_s
        self._kept: list[_Kept] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        # The sweep's timer and when it is due. The time is kept here, not read back from the
        # handle: only asyncio's handles have ``when()``; uvloop's ``call_at`` hands back a
        # plain ``Handle`` for a time already past.
        self._sweep: asyncio.Handle | None = None
        self._sweep_at = 0.0
        self._returning: set[asyncio.Task[None]] = set()
        event.listen(_root(engine), "engine_disposed", self._disposed)

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Await ``work`` on a connection's asyncpg connection, and keep or return it."""
        kept = self._reuse()
        if kept is None:
            kept = await greenlet_spawn(self._check_out)
        try:
            outcome = await work(kept.pooled.driver_connection)
        except BaseException:
            # Shielded: a caller cancelled again meanwhile still returns the connection.
            await asyncio.shield(greenlet_spawn(self._give_back, kept))
            raise
        if len(self._kept) < self._keep and self._reusable(kept):
            self._kept.append(kept)
            self._sweep_later()
        else:
            await greenlet_spawn(self._give_back, kept)
        return outcome

    @property
    def kept(self) -> int:
        """Connections kept for the next round trip right now (for tests)."""
        return len(self._kept)

    def _reuse(self) -> _Kept | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # asyncpg connections belong to the loop they were made on
            if self._sweep is not None:  # the other loop's timer: it must not touch ours
                self._sweep.cancel()
            self._loop, stale = loop, self._kept
            self._kept, self._sweep = [], None
            for kept in stale:
                kept.pooled.invalidate()  # never used on this loop again; the pool reconnects
        while self._kept:
            kept = self._kept.pop()
            if not self._stale(kept):
                return kept
            kept.pooled.invalidate()  # its server went away, or its engine was disposed
        return None

    def _reusable(self, kept: _Kept) -> bool:
        """Whether ``kept`` may serve the next round trip: within its hold, from the engine's
        current pool (not one disposed while it worked), and with nothing left open on it."""
        raw = kept.pooled.driver_connection
        return (
            self._now() - kept.taken_at < self._hold_s
            and not self._stale(kept)
            and raw is not None  # (``_stale`` says so; for the type checker)
            and not raw.is_in_transaction()
        )

    def _stale(self, kept: _Kept) -> bool:
        """Whether ``kept`` can serve no more: its server side is gone (asyncpg noticed it
        closing), or it comes from a pool disposed since (the engine has a new one)."""
        raw = kept.pooled.driver_connection
        return (
            raw is None or bool(raw.is_closed()) or kept.pool is not self._engine.sync_engine.pool
        )

    def _now(self) -> float:
        """The event loop's clock (``taken_at`` and the sweep's timer go by it)."""
        assert self._loop is not None  # set by ``_reuse``, first thing of every ``run``
        return self._loop.time()

    def _check_out(self) -> _Kept:
        sync = self._engine.sync_engine
        pool = sync.pool
        return _Kept(sync.raw_connection(), pool, self._now())

    def _sweep_later(self) -> None:
        """Have the kept connections given back when the first one's hold ends."""
        if self._loop is None or not self._kept:
            return
        due_at = min(kept.taken_at for kept in self._kept) + self._hold_s
        if self._sweep is not None:
            if self._sweep_at <= due_at:
                return
            self._sweep.cancel()
        self._sweep = self._loop.call_at(due_at, self._give_back_due)
        self._sweep_at = due_at

    def _give_back_due(self) -> None:
        """Return the kept connections held their time (each a task: returning may need I/O)."""
        self._sweep = None
        now = self._now()
        due = [kept for kept in self._kept if now - kept.taken_at >= self._hold_s]
        self._kept = [kept for kept in self._kept if kept not in due]
        for kept in due:
            task = asyncio.ensure_future(greenlet_spawn(self._give_back, kept))
            self._returning.add(task)
            task.add_done_callback(self._returning.discard)
        self._sweep_later()

    def _give_back(self, kept: _Kept) -> None:
        """Return ``kept`` to its pool; close it instead when it was lost, or when its engine
        was disposed meanwhile (it would linger in the old pool, open, for nobody)."""
        if self._stale(kept):
            kept.pooled.invalidate()
        else:
            kept.pooled.close()

    def _disposed(self, _engine: Any) -> None:
        """The engine was disposed (inside ``AsyncEngine.dispose``'s greenlet): close what is
        kept, so no connection outlives its engine."""
        kept, self._kept = self._kept, []
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for connection in kept:
            with contextlib.suppress(Exception):  # closing a lost connection may fail
                connection.pooled.invalidate()


def _root(engine: AsyncEngine) -> Any:
    """The engine whose ``dispose()`` disposes ``engine``'s pool: an engine made by
    ``execution_options()`` shares its parent's pool, and hears of the parent's disposal only
    through a listener on the parent (SQLAlchemy passes events down to such engines, not up)."""
    sync: Any = engine.sync_engine
    while getattr(sync, "_proxied", None) is not None:
        sync = sync._proxied
    return sync
