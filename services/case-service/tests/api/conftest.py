"""One case service on embedded SQLite for the API tests; each test opens its own cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .hosting import CaseApi, hosted_case_service


@pytest.fixture(scope="session")
async def hosted(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CaseApi]:
    async with hosted_case_service(tmp_path_factory.mktemp("case-api")) as api:
        yield api


@pytest.fixture
def api(hosted: CaseApi) -> CaseApi:
    hosted.access.clear()
    return hosted
