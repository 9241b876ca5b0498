"""A case-service database with every table, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from case_service.adapters.tables import metadata
from naervaer.db import DatabaseTarget, create_engine
from naervaer.testing.pytest_plugin import temporary_database


@asynccontextmanager
async def case_database(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseTarget(url, None))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The case service's tables (metadata.create_all) in a new database of either backend."""
    if request.param == "sqlite":
        async with case_database(f"sqlite+aiosqlite:///{tmp_path / 'case.db'}") as engine:
            yield engine
        return
    server: str = request.getfixturevalue("postgres_url")
    async with temporary_database(server) as url, case_database(url) as engine:
        yield engine
