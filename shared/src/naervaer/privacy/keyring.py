"""The process's cache of employee keys, so payloads can be opened synchronously.

``EventRegistry.payload`` is synchronous; the keys live in the key vault (a database). So every
path that decodes events first awaits ``KEYRING.load(envelopes, vault)`` (the consumer does it
for each message, the stores' readers for what they read) and decoding then reads the cache.
Key ids are random UUIDs, unique across vaults, so one cache serves every vault in the process.
Entries expire after ``ttl_s`` and an erasure event makes every service ``forget`` its key at
once: a destroyed key does not live on in a cache. An entry told more than twice ``ttl_s`` ago
is dropped, so a long-running service holds the keys of the employees it read lately, not of
every employee it ever read (issue 8, thirty-eighth round: ~260 bytes an employee, for good).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from naervaer.envelope import Envelope
from naervaer.privacy.aging import tell
from naervaer.privacy.sealing import sealed_key_ids_in


class KeyNotLoaded(LookupError):
    """A sealed value was decoded before its key was loaded (a missing ``KEYRING.load``)."""


class KeySource(Protocol):
    async def keys(self, key_ids: Iterable[str]) -> Mapping[str, bytes | None]:
        """Each key id's key, or None when it was destroyed."""
        ...


class KeyRing:
    """Employee keys by key id, each as the vault last told it: the key, or None (destroyed).

    An entry is trusted for ``ttl_s``, then asked for again: another process may have
    shredded the key meanwhile. One told more than twice ``ttl_s`` ago is dropped when another
    is told: no load trusts it any longer, and a ``lookup`` follows the ``load`` that made sure
    of its key within moments, so the margin of another ``ttl_s`` leaves nothing reading it.
    """

    def __init__(self, ttl_s: float = 300.0) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive: a load's keys must outlive the load")
        self._ttl_s = ttl_s
        # The oldest told first (``naervaer.privacy.aging``).
        self._keys: OrderedDict[str, tuple[bytes | None, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, key_id: str) -> bytes | None:
        """The cached key (None: destroyed); raises ``KeyNotLoaded`` when it is not cached.

        Look a key up soon after the ``load`` that made sure of it (within ``ttl_s``): an entry
        is dropped once it was told twice ``ttl_s`` ago, and a load does not tell one again
        while it is trusted."""
        try:
            return self._keys[key_id][0]
        except KeyError:
            raise KeyNotLoaded(key_id) from None

    def is_destroyed(self, key_id: str) -> bool:
        """Was the key destroyed (the employee erased, slettet)?

        True only when the vault said the key is gone (or an erasure made this process
        ``forget`` it); False when the ring holds the key. Raises ``KeyNotLoaded`` when the
        ring never asked: "not known" is neither answer, so each caller decides what it means.
        """
        return self.lookup(key_id) is None

    def remember(self, key_id: str, key: bytes | None) -> None:
        tell(self._keys, key_id, key, time.monotonic(), 2 * self._ttl_s)

    def forget(self, key_id: str) -> None:
        """The key was destroyed: from now on its values read as erased in this process."""
        self.remember(key_id, None)

    async def load(self, envelopes: Iterable[Envelope], source: KeySource) -> None:
        """Make sure the keys of every sealed value in ``envelopes`` are cached."""
        await self.load_data((envelope.data for envelope in envelopes), source)

    async def load_data(self, payloads: Iterable[Any], source: KeySource) -> None:
        """``load`` for sealed payloads themselves (e.g. read back from a service's tables)."""
        now = time.monotonic()
        # each key asked about once, however many of the payloads name it
        wanted = {key_id for key_id in sealed_key_ids_in(payloads) if not self._fresh(key_id, now)}
        if wanted:
            for key_id, key in (await source.keys(wanted)).items():
                self.remember(key_id, key)

    def _fresh(self, key_id: str, now: float) -> bool:
        entry = self._keys.get(key_id)
        return entry is not None and now - entry[1] <= self._ttl_s


KEYRING = KeyRing()
"""The process-wide cache ``naervaer.contracts.CONTRACTS`` opens sealed payloads with."""
