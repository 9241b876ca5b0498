"""Group commit's lone append (PostgreSQL): with nothing in flight, an append is written in its
caller's own task; whatever arrives meanwhile queues up and goes as the next group.

An open transaction holding the head row lock (an uncommitted append of its own) keeps the
lone append waiting at the server, so the tests can line appends up behind it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.eventstore import AppendResult, ConcurrencyConflict, EventStore, NewEvent
from naervaer.eventstore.group import GroupCommit

pytestmark = pytest.mark.parametrize("target", ["postgresql"], indirect=True)


def event(n: int = 0) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


def group_of(store: EventStore) -> GroupCommit:
    assert store._group is not None
    return store._group


async def until(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 10) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def queued(store: EventStore, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(group_of(store)._queue) == count

    return check


def lock_waited(engine: AsyncEngine) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        async with engine.connect() as conn:
            return bool(await conn.scalar(query))

    return check


def checked_in(engine: AsyncEngine) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined,no-any-return]

    return check


def appending(store: EventStore, stream: str, events: int = 1) -> asyncio.Task[AppendResult]:
    batch = [event(n) for n in range(events)]
    return asyncio.create_task(store.append(stream, batch, tenant="t", expected_version=0))


async def test_appends_arriving_behind_a_lone_append_go_as_one_group(
    store: EventStore, engine: AsyncEngine
) -> None:
    async with engine.begin() as holder:
        await store.append("holder", [event()], tenant="t", expected_version=0, connection=holder)
        lone = appending(store, "lone")
        await until(lock_waited(engine), "the lone append to wait for the head row lock")
        assert group_of(store)._flusher is None  # written in its caller's task, no flusher
        behind = [appending(store, f"behind-{n}") for n in range(5)]
        await until(queued(store, 5), "the appends behind it to queue up")

    outcomes = await asyncio.gather(lone, *behind)

    assert [o.version for o in outcomes] == [1] * 6
    assert group_of(store).appends_grouped == 5  # the five went together
    everything = await store.read_all()
    assert [e.streamid for e in everything] == [
        "holder",
        "lone",
        *(f"behind-{n}" for n in range(5)),
    ]
    assert [e.globalposition for e in everything] == list(range(1, 8))


async def test_a_cancelled_lone_append_writes_all_or_nothing_and_the_queue_still_goes(
    store: EventStore, engine: AsyncEngine
) -> None:
    async with engine.begin() as holder:
        await store.append("holder", [event()], tenant="t", expected_version=0, connection=holder)
        lone = appending(store, "lone", events=3)
        await until(lock_waited(engine), "the lone append to wait for the head row lock")
        assert group_of(store)._flusher is None  # in flight in its caller's task
        behind = [appending(store, f"behind-{n}") for n in range(3)]
        await until(queued(store, 3), "the appends behind it to queue up")
        lone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await lone

    outcomes = await asyncio.wait_for(asyncio.gather(*behind), timeout=10)

    assert all(isinstance(o, AppendResult) and o.version == 1 for o in outcomes)
    written = await store.read_stream("lone")
    assert len(written) in (0, 3)  # one statement: the cancel lands before it or not at all
    everything = await store.read_all()
    assert [e.globalposition for e in everything] == list(range(1, 5 + len(written)))
    await until(checked_in(engine), "every connection back in the pool")


async def test_appends_behind_a_leader_that_conflicted_conflict_without_running(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.append("hot", [event()], tenant="t", expected_version=0)
    appender = group_of(store)._appender
    sent: list[int] = []
    real = appender.append_many

    async def counted(raw: Any, batches: Any) -> Any:
        sent.append(len(batches))
        return await real(raw, batches)

    monkeypatch.setattr(appender, "append_many", counted)
    other, *stale = await asyncio.gather(
        store.append("other", [event()], tenant="t", expected_version=0),
        *(store.append("hot", [event()], tenant="t", expected_version=0) for _ in range(3)),
        return_exceptions=True,
    )

    assert isinstance(other, AppendResult)
    assert all(isinstance(c, ConcurrencyConflict) for c in stale)
    assert {(c.expected_version, c.actual_version) for c in stale} == {(0, 1)}  # type: ignore[union-attr]
    # The lone append, then the stale three's leader alone: the stream is past version 0,
    # and versions only grow, so the other two are answered without a statement each.
    assert sent == [1, 1]
