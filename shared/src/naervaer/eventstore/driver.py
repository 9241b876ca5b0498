"""A pooled connection's asyncpg connection, for the store's hottest round trips.

Checking a connection out through ``AsyncEngine.connect()`` builds a SQLAlchemy
``Connection`` with its execution options, and hands the driver connection over in a second
greenlet switch: about 60 µs a checkout on the benchmark machine, against 25 µs for the pool
alone — and a command checks out twice (read the version, append). The statements run here go
to asyncpg directly anyway, outside any transaction (asyncpg's autocommit), so nothing of the
``Connection`` is needed.

Checkout, statement and return go in one greenlet: starting a greenlet costs about 8 µs on
the benchmark machine, and a shielded return (a task of its own, two more turns of the event
loop) another 10 µs or so, per round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import await_only, greenlet_spawn

T = TypeVar("T")


async def on_driver_connection(
    engine: AsyncEngine, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Check out a connection of ``engine``'s pool and await ``work`` on its asyncpg
    connection; the connection goes back to the pool, whatever happens to ``work``.

    It goes back reset as after any other use (SQLAlchemy has no transaction of its own open
    on it, so the reset sends nothing). When ``work`` fails or its caller is cancelled, the
    connection goes back shielded, as ``AsyncConnection`` does it: a caller cancelled again
    meanwhile still returns it. After ``work`` succeeded it goes back at once, in the same
    greenlet: that needs no I/O unless the pool closes the connection (an overflow
    connection), and only while it waits for I/O can a cancellation reach it.
    """
    failed: list[PoolProxiedConnection] = []

    def checked_out() -> T:
        pooled = engine.sync_engine.raw_connection()
        try:
            outcome = await_only(work(pooled.driver_connection))
        except BaseException:
            failed.append(pooled)
            raise
        pooled.close()
        return outcome

    try:
        return await greenlet_spawn(checked_out)
    except BaseException:
        if failed:
            await asyncio.shield(greenlet_spawn(failed[0].close))
        raise
