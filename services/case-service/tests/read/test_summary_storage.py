"""Case summary rows are rewritten at every event: on PostgreSQL their pages keep room for the
next version (fillfactor 70), so an update leaves the indexes alone (issue 8, sixteenth
round), whether the table came from the migrations or from the metadata."""

from __future__ import annotations

from sqlalchemy import text

from case_service.bootstrap import SERVICE
from naervaer.db import DatabaseTarget, create_engine
from naervaer.migrations import upgrade
from naervaer.testing.pytest_plugin import temporary_database

from .conftest import case_database

OPTIONS = "SELECT reloptions FROM pg_class WHERE oid = 'case_summaries'::regclass"


async def test_the_migrated_table_leaves_room_on_its_pages(postgres_url: str) -> None:
    async with temporary_database(postgres_url) as url:
        target = DatabaseTarget(url, "case_service")
        await upgrade(SERVICE, target)
        engine = create_engine(target)
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text(OPTIONS))).scalar_one() == ["fillfactor=70"]
        finally:
            await engine.dispose()


async def test_the_table_from_the_metadata_leaves_the_same_room(postgres_url: str) -> None:
    async with (
        temporary_database(postgres_url) as url,
        case_database(url) as engine,
        engine.connect() as conn,
    ):
        assert (await conn.execute(text(OPTIONS))).scalar_one() == ["fillfactor=70"]
