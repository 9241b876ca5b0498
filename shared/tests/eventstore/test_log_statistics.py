"""The log's statistics gathered for a reader about to go through all of it (a rebuild).

A log filled since it was last analysed is planned for as it was: a read of its next events,
believed to match a few rows, scanned every event to the end and sorted them (issue 8,
thirty-fifth round). ``EventStore.refresh_log_statistics`` analyses the columns such a read
filters and orders on, and never waits for another session's lock on the table.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.eventstore import EventStore, NewEvent

POSTGRES_ONLY = pytest.mark.parametrize("target", ["postgresql"], indirect=True)
SQLITE_ONLY = pytest.mark.parametrize("target", ["sqlite"], indirect=True)
EVENTS = 120


async def _without_autovacuum(engine: AsyncEngine) -> None:
    """Nothing analyses the table but the test (autovacuum would, a naptime after 50 rows)."""
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE events SET (autovacuum_enabled = off)"))


async def _fill(store: EventStore) -> None:
    for stream in range(EVENTS // 4):
        events = [NewEvent("case.noted", {"n": n}) for n in range(4)]
        await store.append(f"case-{stream}", events, tenant=f"t{stream % 3}", expected_version=0)


async def _statistics(engine: AsyncEngine) -> tuple[float, set[str]]:
    """The events table's row count as the planner believes it, and its analysed columns."""
    async with engine.connect() as conn:
        # the store's schema is the connections' search_path (``conftest.SCHEMA``)
        rows = await conn.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'events'::regclass")
        )
        columns = await conn.execute(
            text(
                "SELECT attname FROM pg_stats"
                " WHERE schemaname = current_schema() AND tablename = 'events'"
            )
        )
        return float(rows or 0), {name for (name,) in columns}


@POSTGRES_ONLY
async def test_the_columns_a_read_of_the_log_filters_on_are_analysed(
    store: EventStore, engine: AsyncEngine
) -> None:
    await _without_autovacuum(engine)
    await _fill(store)
    assert (await _statistics(engine))[1] == set()  # never analysed: planned as empty

    await store.refresh_log_statistics()

    assert await _statistics(engine) == (EVENTS, {"global_position", "tenant", "stream_type"})


@POSTGRES_ONLY
async def test_a_table_another_session_holds_is_skipped_not_waited_for(
    store: EventStore, engine: AsyncEngine
) -> None:
    await _without_autovacuum(engine)
    await _fill(store)
    async with engine.connect() as other:  # an ANALYZE, a VACUUM or an ALTER of its own
        await other.execute(text("LOCK TABLE events IN SHARE UPDATE EXCLUSIVE MODE"))
        await asyncio.wait_for(store.refresh_log_statistics(), timeout=10)
        await other.rollback()

    assert (await _statistics(engine))[1] == set()


@SQLITE_ONLY
async def test_sqlite_keeps_no_statistics(store: EventStore, engine: AsyncEngine) -> None:
    await _fill(store)

    await store.refresh_log_statistics()

    async with engine.connect() as conn:
        tables = await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        assert "sqlite_stat1" not in {name for (name,) in tables}  # what ANALYZE makes
