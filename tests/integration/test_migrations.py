"""Every service's migrations build exactly its tables (``alembic check``), on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import DatabaseTarget, create_engine, normalise_url
from naervaer.migrations import alembic_config, check, upgrade
from naervaer.service import ServiceSpec, discover_services

pytestmark = pytest.mark.integration
SPECS = list(discover_services().values())


def test_all_four_services_are_installed() -> None:
    assert [spec.key for spec in SPECS] == ["case", "deadline", "notification", "document"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.key)
async def test_migrations_match_the_tables_on_sqlite(spec: ServiceSpec, tmp_path: Path) -> None:
    target = DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", None)
    await upgrade(spec, target)
    await check(spec, target)
    await assert_primary_keys_match(spec, target)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.key)
async def test_migrations_match_the_tables_on_postgres(
    spec: ServiceSpec, fresh_database: str
) -> None:
    target = DatabaseTarget(normalise_url(fresh_database), spec.name.replace("-", "_"))
    await upgrade(spec, target)
    await check(spec, target)
    await assert_primary_keys_match(spec, target)
    await upgrade(spec, target)  # idempotent: a second run changes nothing


async def assert_primary_keys_match(spec: ServiceSpec, target: DatabaseTarget) -> None:
    """``alembic check`` leaves primary keys out: each table's is compared here."""
    engine = create_engine(target)
    try:
        async with engine.connect() as conn:
            built = await conn.run_sync(
                lambda sync: {
                    name: inspect(sync).get_pk_constraint(name)["constrained_columns"]
                    for name in spec.metadata.tables
                }
            )
    finally:
        await engine.dispose()
    declared = {
        name: [column.name for column in table.primary_key.columns]
        for name, table in spec.metadata.tables.items()
    }
    assert built == declared


PUBLISHING = [spec for spec in SPECS if "outbox" in spec.metadata.tables]
_RANGE = (
    "INSERT INTO outbox (global_position, last_position, topic, message_key, created_at) "
    "VALUES (1, 3, 't', 'k', CURRENT_TIMESTAMP)"
)
_OLD_MARK = "UPDATE outbox SET published_at = CURRENT_TIMESTAMP"  # a relay from before ranges
_NEW_MARK = _OLD_MARK + ", published_through = last_position"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseTarget:
    """An empty database of either kind (PostgreSQL's schema is set per test)."""
    if request.param == "sqlite":
        return DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", None)
    return DatabaseTarget(normalise_url(request.getfixturevalue("fresh_database")), None)


@pytest.mark.parametrize("spec", PUBLISHING, ids=lambda spec: spec.key)
async def test_a_migrated_outbox_marks_ranges_only_whole_and_downgrades_only_drained(
    spec: ServiceSpec, backend: DatabaseTarget
) -> None:
    """The range check holds on a migrated database (on PostgreSQL added NOT VALID: no scan
    of the rows already there), and going back refuses while a range is unpublished."""
    target = _own_place(spec, backend)
    await upgrade(spec, target)
    engine = create_engine(target)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(_RANGE))
        with pytest.raises(IntegrityError, match=r"ck_outbox_range_published_whole|CHECK"):
            async with engine.begin() as conn:
                await conn.execute(text(_OLD_MARK))
        if target.is_postgres:
            async with engine.connect() as conn:
                validated = await conn.scalar(
                    text(
                        "SELECT convalidated FROM pg_constraint "
                        "WHERE conname = 'ck_outbox_range_published_whole'"
                    )
                )
            assert validated is False
        with pytest.raises(RuntimeError, match="1 outbox ranges are unpublished"):
            await downgrade(spec, target, BEFORE_RANGES[spec.key])

        async with engine.begin() as conn:
            await conn.execute(text(_NEW_MARK))
        await downgrade(spec, target, BEFORE_RANGES[spec.key])
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("outbox")}
            )
        assert {"last_position", "published_through"}.isdisjoint(columns)
    finally:
        await engine.dispose()


BEFORE_RANGES = {"case": "case0003", "deadline": "deadline0004", "document": "document0004"}
_OLD_ROWS = (
    "INSERT INTO outbox (global_position, topic, message_key, created_at, published_at) "
    "VALUES (1, 't', 'k', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
    "(2, 't', 'k', CURRENT_TIMESTAMP, NULL)"
)
_UNPUBLISHED_INDEX = {
    "sqlite": "SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_unpublished'",
    "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_unpublished'",
}


@pytest.mark.parametrize("spec", PUBLISHING, ids=lambda spec: spec.key)
async def test_the_range_migration_keeps_the_rows_and_the_unpublished_index(
    spec: ServiceSpec, backend: DatabaseTarget
) -> None:
    """SQLite's batch rebuilds the table: the rows already there and the partial index on the
    unpublished ones must come through it (PostgreSQL alters in place; checked alike)."""
    target = _own_place(spec, backend)
    await upgrade(spec, target, BEFORE_RANGES[spec.key])
    engine = create_engine(target)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(_OLD_ROWS))
        await upgrade(spec, target)
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT global_position, last_position, published_through, "
                    "published_at IS NULL FROM outbox ORDER BY global_position"
                )
            )
            assert [tuple(row) for row in rows] == [(1, None, None, False), (2, None, None, True)]
            index = await conn.scalar(text(_UNPUBLISHED_INDEX[engine.dialect.name]))
        assert index is not None
        assert "published_at IS NULL" in index.replace("(", "").replace(")", "")
    finally:
        await engine.dispose()


BEFORE_KEYED_ERASURES = {"deadline": "deadline0005", "notification": "notification0003"}
_ERASED = (
    "INSERT INTO erased_cases (case_id, tenant, key_id, erased_on{recorded}) "
    "VALUES ('case-1', :tenant, 'k', '2029-01-02'{now})"
)


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if s.key in BEFORE_KEYED_ERASURES], ids=lambda spec: spec.key
)
async def test_erased_cases_keyed_by_tenant_keep_their_rows_and_downgrade_only_if_unique(
    spec: ServiceSpec, backend: DatabaseTarget
) -> None:
    """Two tenants may erase the same case id once migrated; going back refuses (and changes
    nothing) while they do, as the old key cannot hold both."""
    target = _own_place(spec, backend)
    before = BEFORE_KEYED_ERASURES[spec.key]
    await upgrade(spec, target, before)
    engine = create_engine(target)
    tombstones = "SELECT tenant, case_id FROM erased_cases ORDER BY tenant"
    recorded = "recorded_at" in spec.metadata.tables["erased_cases"].c
    erase = text(
        _ERASED.format(
            recorded=", recorded_at" if recorded else "",
            now=", CURRENT_TIMESTAMP" if recorded else "",
        )
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(erase, {"tenant": "acme"})
        await upgrade(spec, target)
        async with engine.begin() as conn:
            await conn.execute(erase, {"tenant": "other"})
            rows = [tuple(row) for row in await conn.execute(text(tombstones))]
        assert rows == [("acme", "case-1"), ("other", "case-1")]

        with pytest.raises(IntegrityError):
            await downgrade(spec, target, before)
        async with engine.begin() as conn:
            assert [tuple(row) for row in await conn.execute(text(tombstones))] == rows
            await conn.execute(text("DELETE FROM erased_cases WHERE tenant = 'other'"))
        await downgrade(spec, target, before)
        with pytest.raises(IntegrityError):  # keyed by case id alone again
            async with engine.begin() as conn:
                await conn.execute(erase, {"tenant": "other"})
    finally:
        await engine.dispose()


async def downgrade(spec: ServiceSpec, target: DatabaseTarget, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(spec, target), revision)


def _own_place(spec: ServiceSpec, backend: DatabaseTarget) -> DatabaseTarget:
    """Where the service keeps its data on the backend: its own schema on PostgreSQL, the
    backend's file on SQLite."""
    if backend.is_postgres:
        return DatabaseTarget(backend.url, spec.name.replace("-", "_"))
    return backend


BEFORE_PARTIAL_COMMAND_IDS = {
    "case": "case0004",
    "deadline": "deadline0006",
    "document": "document0005",
}
_COMMAND_ID_INDEX = {
    "sqlite": "SELECT sql FROM sqlite_master WHERE name = 'ix_events_command_id'",
    "postgresql": (
        "SELECT indexdef FROM pg_indexes "
        "WHERE indexname = 'ix_events_command_id' AND schemaname = current_schema()"
    ),
}
_BY_COMMAND = "SELECT global_position FROM events WHERE command_id = :command_id"  # bound
_PLAN = {"sqlite": "EXPLAIN QUERY PLAN " + _BY_COMMAND, "postgresql": "EXPLAIN " + _BY_COMMAND}


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if s.key in BEFORE_PARTIAL_COMMAND_IDS], ids=lambda spec: spec.key
)
async def test_the_command_id_index_holds_only_events_with_one_and_still_serves_lookups(
    spec: ServiceSpec, backend: DatabaseTarget
) -> None:
    """Migrated, the index is partial and a lookup by command id still uses it; going back
    builds the whole index again."""
    target = _own_place(spec, backend)
    await upgrade(spec, target)
    engine = create_engine(target)
    try:
        assert "command_id IS NOT NULL" in await _command_id_index(engine)
        async with engine.connect() as conn:
            if target.is_postgres:  # a tiny table: only a plan without scans shows the index
                await conn.execute(text("SET enable_seqscan = off"))
            explained = text(_PLAN[engine.dialect.name])
            rows = await conn.execute(explained, {"command_id": "command-1"})
            plan = " ".join(str(row[-1]) for row in rows)
        assert "ix_events_command_id" in plan
        await downgrade(spec, target, BEFORE_PARTIAL_COMMAND_IDS[spec.key])
        assert "WHERE" not in (await _command_id_index(engine)).upper()
    finally:
        await engine.dispose()


async def _command_id_index(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        index = await conn.scalar(text(_COMMAND_ID_INDEX[engine.dialect.name]))
    assert index is not None
    return str(index).replace("(", "").replace(")", "")
