"""The document service on SQLite (embedded default) and on PostgreSQL, one of each per session.

Tests share a hosted service: each tells its own case (and, where it tampers, its own tenant).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from naervaer.testing.pytest_plugin import temporary_database

from .harness import DocumentApi, hosted_document_service


@pytest.fixture(scope="session")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DocumentApi]:
    async with hosted_document_service(tmp_path_factory.mktemp("documents")) as hosted:
        yield hosted


@pytest.fixture(scope="session")
async def pg_api(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> AsyncIterator[DocumentApi]:
    async with (
        temporary_database(postgres_url) as url,
        hosted_document_service(
            tmp_path_factory.mktemp("documents-pg"), database_url=url
        ) as hosted,
    ):
        yield hosted


@pytest.fixture(params=["sqlite", "postgres"])
def any_api(request: pytest.FixtureRequest) -> DocumentApi:
    """Both backends: the record must behave the same on each."""
    fixture = "api" if request.param == "sqlite" else "pg_api"
    hosted: DocumentApi = request.getfixturevalue(fixture)
    return hosted
