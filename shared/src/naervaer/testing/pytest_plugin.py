"""pytest fixtures for real PostgreSQL and Kafka-protocol broker (see naervaer.testing)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from naervaer.testing.servers import kafka_server, postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the session's PostgreSQL server (postgresql+asyncpg://…)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of the session's Kafka-protocol broker."""
    with kafka_server() as bootstrap:
        yield bootstrap


@pytest.fixture
async def fresh_database(postgres_url: str) -> AsyncIterator[str]:
    """A new, empty database on the session's server for one test; dropped afterwards."""
    async with temporary_database(postgres_url) as url:
        yield url


@contextlib.asynccontextmanager
async def temporary_database(server_url: str) -> AsyncIterator[str]:
    """Create a uniquely named database on ``server_url``; drop it on exit."""
    url = make_url(server_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_plain(url.render_as_string(hide_password=False)))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
