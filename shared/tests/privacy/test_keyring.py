"""The keyring's one answer to "is this key destroyed?", its cache in front of the vault for
reading, and sealing, which asks the vault every time."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from naervaer.db import DatabaseTarget, create_engine
from naervaer.privacy import KeyNotLoaded, KeyRing, PersonalStr, sealed_key_ids, unseal_data
from naervaer.privacy import keyring as keyring_module
from naervaer.privacy.keyvault import KeyVault
from naervaer.privacy.sealer import Sealer, SubjectErased

TTL_S = 60.0


class Notice(BaseModel):
    case_id: str
    employee_id: PersonalStr


class CountingVault(KeyVault):
    """The real vault, counting the key look-ups it answers (one query each)."""

    queries: int = 0

    async def keys(self, key_ids: Iterable[str]) -> Mapping[str, bytes | None]:
        self.queries += 1
        return await super().keys(key_ids)


class Clock:
    """``time.monotonic`` for the keyring, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["postgresql", "sqlite"])
async def vault(
    request: pytest.FixtureRequest, tmp_path: Path, fresh_database: str
) -> AsyncIterator[CountingVault]:
    if request.param == "postgresql":
        target = DatabaseTarget(fresh_database, "keyvault")
    else:
        target = DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path / 'keyvault.db'}", None)
    vault = CountingVault(create_engine(target), os.urandom(32), schema=target.schema)
    await vault.install()
    yield vault
    await vault.dispose()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(keyring_module, "time", SimpleNamespace(monotonic=clock))
    return clock


async def test_is_destroyed_only_when_the_vault_said_so(vault: CountingVault) -> None:
    live, shredded = [await vault.key_for("acme", e) for e in ("e-1", "e-2")]
    await vault.shred(shredded.key_id)
    ring = KeyRing()
    with pytest.raises(KeyNotLoaded):
        ring.is_destroyed(live.key_id)  # never asked: neither yes nor no
    for key_id, key in (await vault.keys([live.key_id, shredded.key_id])).items():
        ring.remember(key_id, key)
    assert (ring.is_destroyed(live.key_id), ring.is_destroyed(shredded.key_id)) == (False, True)
    ring.forget(live.key_id)  # the erasure event reached this process
    assert ring.is_destroyed(live.key_id) is True


async def test_a_key_shredded_elsewhere_seals_nothing_even_while_cached(
    vault: CountingVault,
) -> None:
    """Sealing asks the vault, never the cache: after the erasure no new value is sealed."""
    ring = KeyRing(ttl_s=TTL_S)
    sealer = Sealer(vault, ring)
    notice = Notice(case_id="c-1", employee_id="Kari")
    (sealed,) = await sealer.for_employee("acme", "e-3", [notice])
    (key_id,) = sealed_key_ids(sealed)
    assert (await sealer.with_key(key_id, [notice]))[0]["employee_id"] != "Kari"
    await vault.shred(key_id)  # by the case service's erasure, in another process
    assert ring.is_destroyed(key_id) is False  # this process has not heard of it yet
    with pytest.raises(SubjectErased):
        await sealer.with_key(key_id, [notice])
    assert vault.queries == 2


async def test_sealing_for_an_employee_fills_the_ring(vault: CountingVault) -> None:
    ring = KeyRing(ttl_s=TTL_S)
    sealer = Sealer(vault, ring)
    (sealed,) = await sealer.for_employee("acme", "e-5", [Notice(case_id="c", employee_id="Ola")])
    (key_id,) = sealed_key_ids(sealed)
    await ring.load_data([sealed], vault)  # reading it back needs no query
    assert (vault.queries, ring.is_destroyed(key_id)) == (0, False)
    assert unseal_data(sealed, ring.lookup)["employee_id"] == "Ola"


async def test_loading_respects_the_expiry(vault: CountingVault, clock: Clock) -> None:
    ring = KeyRing(ttl_s=TTL_S)
    (sealed,) = await Sealer(vault, KeyRing()).for_employee(
        "acme", "e-6", [Notice(case_id="c", employee_id="Per")]
    )
    await ring.load_data([sealed], vault)
    await ring.load_data([sealed], vault)
    assert vault.queries == 1
    clock.now += TTL_S + 1  # expired: another process may have shredded it meanwhile
    await ring.load_data([sealed], vault)
    assert vault.queries == 2


def test_a_long_running_ring_holds_the_keys_told_lately(clock: Clock) -> None:
    """An entry told more than twice the ring's trust ago is dropped: the ring holds the keys
    of the employees read lately, not of every one since the process started."""
    ring = KeyRing(ttl_s=TTL_S)
    for n in range(10_000):  # a key a second, for hours
        ring.remember(f"key-{n}", bytes(32))
        clock.now += 1
    assert len(ring) <= 2 * TTL_S + 1
    assert ring.lookup("key-9999") == bytes(32)
    with pytest.raises(KeyNotLoaded):
        ring.lookup("key-0")


def test_a_key_told_again_stays_and_one_told_twice_its_trust_ago_goes(clock: Clock) -> None:
    """Dropped once it was last told more than twice ``ttl_s`` ago, when another is told."""
    ring = KeyRing(ttl_s=TTL_S)
    ring.remember("again", b"a")
    ring.remember("once", b"o")
    clock.now += TTL_S
    ring.remember("again", b"a")  # told again: a load found it expired and asked
    clock.now += TTL_S  # "once" was told 2 x TTL ago, not more
    ring.remember("other", b"x")
    assert (ring.lookup("again"), ring.lookup("once")) == (b"a", b"o")
    clock.now += 1
    ring.remember("other", b"x")
    assert ring.lookup("again") == b"a"
    with pytest.raises(KeyNotLoaded):
        ring.lookup("once")


async def test_a_key_a_load_trusted_is_kept_for_the_lookup_after_it(
    vault: CountingVault, clock: Clock
) -> None:
    """A load does not ask for a key it still trusts, so the key may be ``ttl_s`` old when
    the load returns; it is kept another ``ttl_s``, for the lookup that follows the load."""
    ring = KeyRing(ttl_s=TTL_S)
    (sealed,) = await Sealer(vault, KeyRing()).for_employee(
        "acme", "e-7", [Notice(case_id="c", employee_id="Eva")]
    )
    await ring.load_data([sealed], vault)  # asked for: told now
    clock.now += TTL_S
    await ring.load_data([sealed], vault)  # still trusted: neither asked for nor told again
    assert vault.queries == 1
    clock.now += TTL_S
    ring.remember("other", b"x")
    assert unseal_data(sealed, ring.lookup)["employee_id"] == "Eva"
    clock.now += 1
    ring.remember("other", b"x")
    with pytest.raises(KeyNotLoaded):
        unseal_data(sealed, ring.lookup)


def test_a_ring_must_trust_a_key_for_some_time() -> None:
    with pytest.raises(ValueError, match="positive"):
        KeyRing(ttl_s=0)
