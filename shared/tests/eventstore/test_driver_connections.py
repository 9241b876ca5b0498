"""The store's asyncpg connections between round trips (PostgreSQL): kept briefly, given back.

A connection that has just served a round trip serves the next one without going through the
pool, but goes back to the pool at most ``hold_s`` after its checkout, busy or not, at once
when its work failed, and is closed when the engine is disposed or its server side is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore.driver import DriverConnections

pytestmark = pytest.mark.parametrize("target", ["postgresql"], indirect=True)

LONG = 600.0  # a hold no test outlives: whatever is kept stays kept


async def until(check: Callable[[], bool], deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached before the deadline")


def checkouts(engine: AsyncEngine) -> list[object]:
    """Every checkout from ``engine``'s pool, recorded from now on."""
    seen: list[object] = []
    event.listen(engine.sync_engine.pool, "checkout", lambda *args: seen.append(args[0]))
    return seen


def checked_out(engine: AsyncEngine) -> int:
    return int(engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def backend_pid(raw: asyncpg.Connection) -> int:
    return int(await raw.fetchval("SELECT pg_backend_pid()"))


class Remembered:
    """Work that answers its connection's backend pid and remembers the connection."""

    def __init__(self) -> None:
        self.raws: list[asyncpg.Connection] = []

    async def __call__(self, raw: asyncpg.Connection) -> int:
        self.raws.append(raw)
        return await backend_pid(raw)


async def test_round_trips_in_a_row_share_one_checkout(engine: AsyncEngine) -> None:
    connections = DriverConnections(engine, hold_s=LONG)
    seen = checkouts(engine)
    pids = {await connections.run(backend_pid) for _ in range(20)}
    assert len(pids) == 1
    assert len(seen) == 1
    assert connections.kept == 1
    assert checked_out(engine) == 1


async def test_concurrent_round_trips_keep_a_few_connections_at_most(engine: AsyncEngine) -> None:
    connections = DriverConnections(engine, keep=2, hold_s=LONG)

    async def slow(raw: asyncpg.Connection) -> int:
        return int(await raw.fetchval("SELECT 1 FROM pg_sleep(0.05)"))

    assert await asyncio.gather(*(connections.run(slow) for _ in range(5))) == [1] * 5
    assert connections.kept == 2
    assert checked_out(engine) == 2


async def test_a_kept_connection_goes_back_when_the_store_is_quiet(engine: AsyncEngine) -> None:
    connections = DriverConnections(engine, hold_s=0.5)
    await connections.run(backend_pid)
    assert checked_out(engine) == 1
    await until(lambda: checked_out(engine) == 0)
    assert connections.kept == 0


async def test_a_busy_store_gives_its_connection_back_too(engine: AsyncEngine) -> None:
    """However busy, a connection is kept at most ``hold_s`` after its checkout: another user
    of a small pool waits no longer than that."""
    hold_s = 0.05
    connections = DriverConnections(engine, hold_s=hold_s)
    seen = checkouts(engine)
    began = time.monotonic()
    while time.monotonic() - began < 4 * hold_s:
        await connections.run(backend_pid)
    assert len(seen) >= 2


async def test_a_small_pool_is_shared_with_others(target: DatabaseTarget) -> None:
    engine = create_engine(target, pool_size=1, max_overflow=0, pool_timeout=5)
    try:
        connections = DriverConnections(engine, hold_s=0.05)
        await connections.run(backend_pid)  # kept: the pool's only connection
        async with engine.connect() as conn:  # waits for it to come back, then has it
            assert connections.kept == 0
            assert await conn.exec_driver_sql("SELECT 1") is not None
    finally:
        await engine.dispose()


async def test_failed_or_cancelled_work_gives_the_connection_back(engine: AsyncEngine) -> None:
    connections = DriverConnections(engine, hold_s=LONG)

    async def failing(raw: asyncpg.Connection) -> None:
        await raw.fetchval("SELECT 1 / 0")

    with pytest.raises(asyncpg.DivisionByZeroError):
        await connections.run(failing)
    assert connections.kept == 0
    assert checked_out(engine) == 0

    entered = asyncio.Event()

    async def held(raw: asyncpg.Connection) -> None:
        entered.set()
        await raw.fetchval("SELECT pg_sleep(30)")  # cancelled here, mid-statement

    task = asyncio.create_task(connections.run(held))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: checked_out(engine) == 0)
    assert connections.kept == 0
    assert await connections.run(backend_pid) > 0  # the server cancelled the statement


@pytest.mark.parametrize("through_a_view", [False, True])
async def test_disposing_the_engine_closes_kept_connections(
    target: DatabaseTarget, through_a_view: bool
) -> None:
    """Also when the connections come from a view of the engine (``execution_options``, as
    the store's autocommit one): disposing the engine disposes the pool they share."""
    engine = create_engine(target)
    source = engine.execution_options(isolation_level="AUTOCOMMIT") if through_a_view else engine
    connections = DriverConnections(source, hold_s=LONG)
    remember = Remembered()
    raws = remember.raws

    await connections.run(remember)
    assert connections.kept == 1
    await engine.dispose()
    assert connections.kept == 0
    assert raws[0].is_closed()


async def test_a_connection_at_work_while_the_engine_is_disposed_is_not_kept(
    target: DatabaseTarget,
) -> None:
    engine = create_engine(target)
    connections = DriverConnections(engine, hold_s=LONG)
    entered, go = asyncio.Event(), asyncio.Event()
    raws: list[asyncpg.Connection] = []

    async def slow(raw: asyncpg.Connection) -> int:
        raws.append(raw)
        entered.set()
        await go.wait()
        return await backend_pid(raw)

    task = asyncio.create_task(connections.run(slow))
    await entered.wait()
    await engine.dispose()
    go.set()
    await task
    assert connections.kept == 0
    assert raws[0].is_closed()  # closed, not left in the disposed pool


async def test_a_kept_connection_whose_server_side_is_lost_is_not_used_again(
    engine: AsyncEngine,
) -> None:
    connections = DriverConnections(engine, hold_s=LONG)
    remember = Remembered()
    raws = remember.raws

    lost = await connections.run(remember)
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f"SELECT pg_terminate_backend({lost})")
    await until(lambda: raws[0].is_closed())
    assert await connections.run(remember) != lost
    assert checked_out(engine) == 1  # the new one, kept
    # The lost one was closed, not pooled: whatever the pool hands out works.
    async with engine.connect() as one, engine.connect() as two:
        for conn in (one, two):
            assert (await conn.exec_driver_sql("SELECT 1")).scalar() == 1


async def test_a_kept_connection_stays_on_its_event_loop(engine: AsyncEngine) -> None:
    """asyncpg connections belong to the loop that made them: a store used from another loop
    (a test client's, say) never hands it one made on the first."""
    connections = DriverConnections(engine, hold_s=LONG)
    remember = Remembered()
    raws = remember.raws

    await connections.run(remember)

    def elsewhere() -> int:
        return asyncio.run(connections.run(remember))

    await asyncio.to_thread(elsewhere)
    assert raws[1] is not raws[0]
    assert raws[0].is_closed()  # let go of when the other loop came: never used there
    await connections.run(remember)  # back here, the other loop's is let go of in turn
    assert raws[2] is not raws[1]
    assert raws[1].is_closed()
