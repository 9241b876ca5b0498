"""Every service's migrations build exactly its tables (``alembic check``), on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from naervaer.db import DatabaseTarget, normalise_url
from naervaer.migrations import check, upgrade
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


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.key)
async def test_migrations_match_the_tables_on_postgres(
    spec: ServiceSpec, fresh_database: str
) -> None:
    target = DatabaseTarget(normalise_url(fresh_database), spec.name.replace("-", "_"))
    await upgrade(spec, target)
    await check(spec, target)
    await upgrade(spec, target)  # idempotent: a second run changes nothing
