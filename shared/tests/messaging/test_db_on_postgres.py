"""``naervaer.db`` on PostgreSQL: GrowingTables' analysis against another session's locks, and
the settings an engine starts its connections with."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

import naervaer.db
from naervaer.db import DatabaseTarget, GrowingTables, create_engine

if TYPE_CHECKING:
    from shared.tests.messaging.kits import Db

pytestmark = pytest.mark.integration


async def analyses_of(db: Db) -> dict[str, int]:
    """How often each table of the schema has been analysed by hand (not by autovacuum)."""
    query = text(
        "SELECT relname, analyze_count FROM pg_stat_user_tables WHERE schemaname = current_schema()"
    )
    async with db.engine.connect() as connection:
        return {name: int(count) for name, count in (await connection.execute(query)).all()}


async def test_an_analysis_skips_a_table_another_session_holds_rather_than_wait_for_it(
    pg_db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A VACUUM, an ALTER TABLE or a CREATE INDEX CONCURRENTLY elsewhere holds a lock an
    ANALYZE waits for, as long as it runs; a consumer's stop and a rebuild's end wait for
    the analysis. So a locked table is skipped (autovacuum and the next threshold catch up)
    and the schema's other tables are analysed."""
    monkeypatch.setattr(naervaer.db, "ANALYSE_FIRST_AT", 1)
    growing = GrowingTables(pg_db.engine)
    effects, inbox = pg_db.effects.name, pg_db.tables.inbox.name
    async with pg_db.engine.connect() as holder:
        await holder.execute(text(f"LOCK TABLE {effects} IN SHARE UPDATE EXCLUSIVE MODE"))
        growing.wrote(1)
        # a guard, not a timing: waiting for the lock would never end while it is held
        await asyncio.wait_for(growing.settled(), timeout=30)
        analysed = await analyses_of(pg_db)
        await holder.rollback()

    assert analysed[effects] == 0
    assert analysed[inbox] == 1


async def test_an_engine_starts_each_connection_with_the_settings_given(
    fresh_database: str,
) -> None:
    """``create_engine``'s ``settings`` (a rebuild's log reads plan each batch for its
    tenants: ``naervaer.rebuilding``), beside the schema's ``search_path``."""
    target = DatabaseTarget(fresh_database, "some_schema")
    engine = create_engine(target, settings={"plan_cache_mode": "force_custom_plan"})
    try:
        async with engine.connect() as connection:
            mode = await connection.scalar(text("SHOW plan_cache_mode"))
            path = await connection.scalar(text("SHOW search_path"))
    finally:
        await engine.dispose()

    assert (mode, path) == ("force_custom_plan", "some_schema")
