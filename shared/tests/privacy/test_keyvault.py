"""The key vault on PostgreSQL and SQLite: one key per employee, shredding destroys it."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import event, select

from naervaer.db import DatabaseTarget, create_engine
from naervaer.envelope import Envelope
from naervaer.privacy import KeyNotLoaded, KeyRing
from naervaer.privacy import keyvault as keyvault_module
from naervaer.privacy.keyvault import LIVE_KEY_TTL_S, KeyVault, subject_keys
from naervaer.privacy.sealing import seal_value
from naervaer.privacy.vault_setup import MasterKeyMissing, master_key
from naervaer.settings import PlatformSettings

MASTER = os.urandom(32)


@pytest.fixture(params=["postgresql", "sqlite"])
async def vault(
    request: pytest.FixtureRequest, tmp_path: Path, fresh_database: str
) -> AsyncIterator[KeyVault]:
    if request.param == "postgresql":
        target = DatabaseTarget(fresh_database, "keyvault")
    else:
        target = DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'keyvault.db'}", None)
    vault = KeyVault(create_engine(target), MASTER, schema=target.schema)
    await vault.install()
    await vault.install()  # idempotent: every service installs at start
    yield vault
    await vault.dispose()


async def test_one_live_key_per_employee(vault: KeyVault) -> None:
    first = await vault.key_for("acme", "e-1")
    again = await vault.key_for("acme", "e-1")
    other_tenant = await vault.key_for("globex", "e-1")
    assert first == again
    assert other_tenant.key_id != first.key_id
    assert await vault.live_key_id("acme", "e-1") == first.key_id
    assert await vault.keys([first.key_id]) == {first.key_id: first.key}


async def test_live_keys_are_cached_only_while_trusted(
    vault: KeyVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache of live keys holds the employees appended for lately: one cached longer than
    it is trusted is dropped, not kept for as long as the process runs."""
    now = [1000.0]
    monkeypatch.setattr(keyvault_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    for employee in ("e-1", "e-2", "e-3"):
        await vault.key_for("acme", employee)  # made: not cached
        await vault.key_for("acme", employee)  # found: cached
    assert len(vault._live_cache) == 3
    now[0] += LIVE_KEY_TTL_S + 1
    first = await vault.key_for("acme", "e-1")  # no longer trusted: asked for and cached again
    assert list(vault._live_cache) == [vault.subject_ref("acme", "e-1")]
    assert await vault.key_for("acme", "e-1") == first


async def test_concurrent_first_uses_agree_on_one_key(vault: KeyVault) -> None:
    keys = await asyncio.gather(*(vault.key_for("acme", "e-race") for _ in range(8)))
    assert len({key.key_id for key in keys}) == 1


async def test_the_vault_keeps_no_employee_id_and_no_plain_key(vault: KeyVault) -> None:
    subject = await vault.key_for("acme", "employee-4711")
    async with vault._engine.connect() as conn:
        row = (await conn.execute(select(subject_keys))).one()
    assert "employee-4711" not in repr(tuple(row))
    assert subject.key not in bytes(row.wrapped_key)


async def test_shredding_destroys_the_key_and_the_link(vault: KeyVault) -> None:
    subject = await vault.key_for("acme", "e-2")
    await vault.shred(subject.key_id)
    await vault.shred(subject.key_id)  # idempotent
    assert await vault.keys([subject.key_id]) == {subject.key_id: None}
    assert await vault.live_key_id("acme", "e-2") is None
    fresh = await vault.key_for("acme", "e-2")  # a later case gets a new key
    assert fresh.key_id != subject.key_id


async def test_a_vault_with_another_master_key_cannot_unwrap(vault: KeyVault) -> None:
    subject = await vault.key_for("acme", "e-3")
    stranger = KeyVault(vault._engine, os.urandom(32), schema=None)
    with pytest.raises(InvalidTag):
        await stranger.keys([subject.key_id])


async def test_the_keyring_loads_what_envelopes_need_and_forgets_on_erasure(
    vault: KeyVault,
) -> None:
    subject = await vault.key_for("acme", "e-4")
    token = seal_value("Kari", key_id=subject.key_id, key=subject.key, path="/employee_id")
    envelope = Envelope.model_validate(
        {
            "id": "00000000-0000-0000-0000-000000000001",
            "source": "/case-service",
            "type": "case.opened",
            "subject": "c-1",
            "time": "2026-01-01T00:00:00Z",
            "dataschema": "schemas/case.opened/v1.json",
            "data": {"employee_id": token},
            "tenant": "acme",
            "streamid": "c-1",
            "streamversion": 1,
        }
    )
    ring = KeyRing()
    with pytest.raises(KeyNotLoaded):
        ring.lookup(subject.key_id)
    await ring.load([envelope], vault)
    assert ring.lookup(subject.key_id) == subject.key
    ring.forget(subject.key_id)
    assert ring.lookup(subject.key_id) is None


def test_production_refuses_to_run_without_a_master_key(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyMissing):
        master_key(PlatformSettings(data_dir=tmp_path, environment="production"))


def test_development_makes_one_master_key_and_keeps_it(tmp_path: Path) -> None:
    settings = PlatformSettings(data_dir=tmp_path)
    assert master_key(settings) == master_key(settings)
    assert len(master_key(settings)) == 32
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600


def test_a_configured_master_key_file_is_read_raw_or_base64(tmp_path: Path) -> None:
    raw = tmp_path / "raw.key"
    raw.write_bytes(MASTER)
    assert master_key(PlatformSettings(master_key_file=raw, environment="production")) == MASTER
    bad = tmp_path / "bad.key"
    bad.write_text("too short")
    with pytest.raises(ValueError, match="32 bytes"):
        master_key(PlatformSettings(master_key_file=bad))


async def test_each_vault_call_is_one_statement_without_a_transaction_round_trip(
    fresh_database: str,
) -> None:
    """On PostgreSQL the vault sends no BEGIN, COMMIT or ROLLBACK: each call is one statement
    in autocommit (three round trips would be two too many, twice per case opened)."""
    engine = create_engine(DatabaseTarget(fresh_database, "keyvault"))
    sent: list[str] = []

    def log_queries(dbapi_connection: Any, _record: Any) -> None:
        # asyncpg logs the statements it runs unprepared: BEGIN, COMMIT, ROLLBACK among them
        dbapi_connection.driver_connection.add_query_logger(lambda q: sent.append(q.query))

    event.listen(engine.sync_engine, "connect", log_queries)
    vault = KeyVault(engine, MASTER, schema="keyvault")
    try:
        await vault.install()  # in a transaction: the logger sees its BEGIN
        await asyncio.sleep(0)  # the logger is called soon after, not at once
        assert any(query.upper().startswith("BEGIN") for query in sent), sent
        sent.clear()
        key = await vault.key_for("acme", "e-1")
        assert await KeyVault(engine, MASTER, schema="keyvault").key_for("acme", "e-1") == key
        assert await vault.keys([key.key_id]) == {key.key_id: key.key}
        await vault.shred(key.key_id)
        assert await vault.live_key_id("acme", "e-1") is None
        await asyncio.sleep(0)
    finally:
        await vault.dispose()
    assert not [q for q in sent if re.match(r"\s*(BEGIN|COMMIT|ROLLBACK)\b", q, re.IGNORECASE)]
