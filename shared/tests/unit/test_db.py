"""Where each service keeps its data: ``resolve_target`` and ``normalise_url``."""

from __future__ import annotations

from pathlib import Path

import pytest

from naervaer.db import DatabaseTarget, normalise_url, resolve_target

PG = "postgresql+asyncpg://naervaer:s3cret@db.internal:5432/naervaer"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://naervaer:s3cret@db.internal:5432/naervaer", PG),
        ("postgresql+psycopg://naervaer:s3cret@db.internal:5432/naervaer", PG),
        (PG, PG),
        ("sqlite:////var/lib/naervaer/case.db", "sqlite+aiosqlite:////var/lib/naervaer/case.db"),
        ("sqlite+aiosqlite:///rel.db", "sqlite+aiosqlite:///rel.db"),
    ],
)
def test_normalise_url_picks_the_async_driver_and_keeps_the_password(
    given: str, expected: str
) -> None:
    assert normalise_url(given) == expected


def test_without_urls_each_service_gets_its_own_sqlite_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet-there"
    target = resolve_target("case-service", service_url=None, platform_url=None, data_dir=data_dir)
    assert target == DatabaseTarget(
        f"sqlite+aiosqlite:///{(data_dir / 'case-service.db').resolve()}", None
    )
    assert data_dir.is_dir()
    assert not target.is_postgres


def test_shared_postgres_url_gives_each_service_its_own_schema(tmp_path: Path) -> None:
    target = resolve_target(
        "deadline-service",
        service_url=None,
        platform_url="postgresql://naervaer:s3cret@db.internal:5432/naervaer",
        data_dir=tmp_path,
    )
    assert target == DatabaseTarget(PG, "deadline_service")
    assert target.is_postgres


def test_service_url_wins_over_the_platform_url(tmp_path: Path) -> None:
    target = resolve_target(
        "document-service",
        service_url="postgresql://docs@archive:5432/docs",
        platform_url=PG,
        data_dir=tmp_path,
    )
    assert target.url == "postgresql+asyncpg://docs@archive:5432/docs"
    assert target.schema == "document_service"


def test_a_sqlite_service_url_has_no_schema(tmp_path: Path) -> None:
    target = resolve_target(
        "notification-service",
        service_url=f"sqlite:///{tmp_path / 'n.db'}",
        platform_url=PG,
        data_dir=tmp_path,
    )
    assert target == DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", None)
