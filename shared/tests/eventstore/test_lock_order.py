"""PostgreSQL: an append takes the head row lock before its stream row.

With one lock order for every append, a transaction of appends holding the head (a group
being written, or a caller's transaction) can never wait for a stream row that another append
holds while it waits for the head: no deadlock (with the stream row taken first, two such
transactions in different processes deadlocked, and PostgreSQL broke the tie after a second).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.eventstore import EventStore, NewEvent

pytestmark = pytest.mark.parametrize("target", ["postgresql"], indirect=True)


def event(n: int = 0) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


async def wait_for_lock_wait(conn: AsyncConnection, deadline_s: float = 10.0) -> None:
    """Poll until some other session waits for a lock (the append behind the head)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if await conn.scalar(query):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the append never waited for the head row lock")


@pytest.mark.parametrize("group_commit", [True, False])
async def test_an_append_waiting_for_the_head_holds_no_stream_row(
    make_store: object, engine: AsyncEngine, group_commit: bool
) -> None:
    store: EventStore = make_store(group_commit=group_commit)  # type: ignore[operator]
    await store.append("s", [event()], tenant="t", expected_version=0)
    auto = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as holder, auto.connect() as watcher:
        await holder.execute(text("SELECT 1 FROM event_log_head WHERE id = 1 FOR UPDATE"))
        waiting = asyncio.create_task(store.append("s", [event(1)], tenant="t", expected_version=1))
        await wait_for_lock_wait(watcher)
        # The waiting append must not hold the stream's row: NOWAIT fails at once if it did.
        row = await holder.scalar(
            text("SELECT version FROM streams WHERE stream_id = 's' FOR UPDATE NOWAIT")
        )
        assert row == 1
        assert not waiting.done()
        await holder.rollback()
    result = await asyncio.wait_for(waiting, 10)
    assert result.version == 2


async def test_two_transactions_of_appends_to_the_same_streams_do_not_deadlock(
    make_store: object, engine: AsyncEngine
) -> None:
    """Two caller transactions append to two streams in opposite orders, the second starting
    while the first holds the head: it waits there holding nothing, so both commit."""
    store: EventStore = make_store()  # type: ignore[operator]
    for stream in ("a", "b"):
        await store.append(stream, [event()], tenant="t", expected_version=0)
    auto = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as first, auto.connect() as watcher:
        await first.begin()
        await store.append("a", [event()], tenant="t", expected_version=None, connection=first)

        async def second() -> None:
            async with engine.begin() as conn:
                for stream in ("b", "a"):
                    await store.append(
                        stream, [event()], tenant="t", expected_version=None, connection=conn
                    )

        other = asyncio.create_task(second())
        await wait_for_lock_wait(watcher)  # the second waits for the head
        await store.append("b", [event()], tenant="t", expected_version=None, connection=first)
        await first.commit()
    await asyncio.wait_for(other, 10)
    positions = [e.globalposition for e in await store.read_all()]
    assert positions == list(range(1, 7))
    assert await store.stream_version("a") == 3
    assert await store.stream_version("b") == 3
