"""The store's own appends and reads (autocommit on PostgreSQL) and what an append returns.

On PostgreSQL an append without ``connection=`` is one autocommit statement: a conflict or a
retried command must write nothing although no rollback follows, and two retries of one
command racing each other must still both answer with the first result.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.eventstore import (
    AppendResult,
    ConcurrencyConflict,
    EventStore,
    EventStoreTables,
    NewEvent,
)

POSTGRES_ONLY = pytest.mark.parametrize("target", ["postgresql"], indirect=True)


def event(n: int = 0) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


async def counts(engine: AsyncEngine, tables: EventStoreTables) -> tuple[int, ...]:
    async with engine.connect() as conn:
        return tuple(
            [
                int(await conn.scalar(select(func.count()).select_from(table)) or 0)
                for table in (tables.events, tables.streams, tables.command_log, tables.outbox)
            ]
        )


async def until(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 10) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def lock_waiters(engine: AsyncEngine) -> int:
    """Backends of this database waiting for a lock (the racing append, blocked)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def test_nothing_of_a_conflicting_command_is_written(
    make_store: Callable[..., EventStore], engine: AsyncEngine, tables: EventStoreTables
) -> None:
    store = make_store(outbox_topic="case-events")
    await store.append("s", [event()], tenant="t", expected_version=0)
    before = await counts(engine, tables)

    for expected in (0, 2, None):
        if expected is None:  # a duplicate of a command that wrote to another stream
            await store.append("o", [event()], tenant="t", expected_version=0, command_id="c")
            before = await counts(engine, tables)
            result = await store.append(
                "s", [event()], tenant="t", expected_version=None, command_id="c"
            )
            assert (result.duplicate, result.stream_id) == (True, "o")
        else:
            with pytest.raises(ConcurrencyConflict):
                await store.append(
                    "s", [event()], tenant="t", expected_version=expected, command_id="x"
                )
        assert await counts(engine, tables) == before
    assert await store.head_position() == 2


@POSTGRES_ONLY  # SQLite serialises its writers: no two appends are ever in flight
@pytest.mark.parametrize("expected_version", [0, 1, None])
async def test_retry_racing_the_first_attempt_gets_the_first_result(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables, expected_version: int | None
) -> None:
    stream = f"race-{expected_version}"
    if expected_version:
        await store.append(stream, [event()], tenant="t", expected_version=0)

    def append() -> Coroutine[Any, Any, AppendResult]:  # the same command, twice
        return store.append(
            stream,
            [event(1), event(2)],
            tenant="t",
            expected_version=expected_version,
            command_id="c",
        )

    async with engine.begin() as first_tx:
        first = await store.append(
            stream,
            [event(1), event(2)],
            tenant="t",
            expected_version=expected_version,
            command_id="c",
            connection=first_tx,
        )
        retry = asyncio.create_task(append())
        # The retry must be blocked behind the uncommitted first attempt before it commits.
        await until(lambda: _positive(lock_waiters(engine)), "the retry to wait for a lock")
    retried: AppendResult = await asyncio.wait_for(retry, timeout=10)

    assert retried.duplicate
    assert (retried.version, retried.envelopes) == (first.version, first.envelopes)
    assert await counts(engine, tables) == (first.version, 1, 1, 0)


async def _positive(count: Awaitable[int]) -> bool:
    return await count > 0


class SickNoteReceived(BaseModel):
    """Sykmelding mottatt: a nested payload (periods as tuples become JSON lists)."""

    grade: int
    periods: tuple[tuple[str, str], ...]


async def test_returned_envelopes_equal_a_later_read(store: EventStore) -> None:
    flat = {"case_id": "c-1", "grade": 100, "ratio": 0.5, "confirmed": True, "note": None}
    nested: dict[Any, Any] = {"periods": (("2026-01-01", "2026-01-07"),), 1: "int key"}
    model = SickNoteReceived(grade=60, periods=(("2026-02-01", "2026-02-14"),))
    result = await store.append(
        "s",
        [NewEvent("a", flat), NewEvent("b", nested), NewEvent("c", model)],
        tenant="t",
        expected_version=0,
    )
    flat["grade"] = 20  # the caller's dict is not shared with the stored envelope

    stored = await store.read_stream("s")
    assert result.envelopes == tuple(stored)
    assert [e.data for e in stored] == [
        {"case_id": "c-1", "grade": 100, "ratio": 0.5, "confirmed": True, "note": None},
        {"periods": [["2026-01-01", "2026-01-07"]], "1": "int key"},
        {"grade": 60, "periods": [["2026-02-01", "2026-02-14"]]},
    ]
    assert result == AppendResult("s", 3, tuple(stored), duplicate=False)
    assert "events=3" in repr(result)


@POSTGRES_ONLY
async def test_own_appends_and_reads_send_no_begin(store: EventStore, engine: AsyncEngine) -> None:
    statements: list[str] = []

    def log_queries(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if "query_logger" not in record.info:  # once per pooled connection
            raw = dbapi_connection.driver_connection
            raw.add_query_logger(lambda logged: statements.append(logged.query))
            record.info["query_logger"] = True

    sa_event.listen(engine.sync_engine, "checkout", log_queries)
    try:
        await store.append("s", [event()], tenant="t", expected_version=0, command_id="c")
        await store.append("s", [event()], tenant="t", expected_version=1)
        with pytest.raises(ConcurrencyConflict):
            await store.append("s", [event()], tenant="t", expected_version=1)
        await store.stream_version("s")
        await store.read_stream("s")
        await store.read_all()
        await store.head_position()
        await store.command_result("c")
        assert not [q for q in statements if q.startswith("BEGIN")]

        async with engine.begin() as conn:  # the logger does see a caller's transaction
            await store.append("s", [event()], tenant="t", expected_version=2, connection=conn)
        assert [q for q in statements if q.startswith("BEGIN")]
    finally:
        sa_event.remove(engine.sync_engine, "checkout", log_queries)


@POSTGRES_ONLY
async def test_a_conflict_behind_a_lock_reports_the_version_that_won(
    store: EventStore, engine: AsyncEngine
) -> None:
    await store.append("s", [event()], tenant="t", expected_version=0)
    async with engine.begin() as first_tx:
        await store.append("s", [event()], tenant="t", expected_version=1, connection=first_tx)
        late = asyncio.create_task(store.append("s", [event()], tenant="t", expected_version=1))
        # Blocked on the stream row, its statement saw version 1: it must not report that.
        await until(lambda: _positive(lock_waiters(engine)), "the late append to wait")
    with pytest.raises(ConcurrencyConflict) as caught:
        await asyncio.wait_for(late, timeout=10)
    assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)
