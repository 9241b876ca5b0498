"""The employee keys behind the case events (crypto-shredding, kryptografisk sletting).

The case service seals the personal fields of a case's events with the employee's key; the
key id travels in every sealed value (``pd1.<key id>.…``). The deadline service remembers it per
case, seals its own notices with it and treats an event whose key is destroyed as erased.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, KeyNotLoaded, KeySource, sealed_key_ids


def case_key(envelope: Envelope) -> str | None:
    """The key the event's sealed values use (one per employee, so one per case)."""
    key_ids = sealed_key_ids(envelope.data)
    return min(key_ids) if key_ids else None


def key_destroyed(envelope: Envelope) -> bool:
    """A sealed value of the event can no longer be opened: its employee was erased.

    The keys must be loaded (the consumer and the rebuild load them before each handler).
    """
    return any(KEYRING.lookup(key_id) is None for key_id in sealed_key_ids(envelope.data))


async def load_keys(payloads: Iterable[Mapping[str, Any]], source: KeySource) -> None:
    """``KEYRING.load`` for payloads read back from this service's own tables."""
    wanted = {
        key_id for payload in payloads for key_id in sealed_key_ids(payload) if not _cached(key_id)
    }
    if wanted:
        for key_id, key in (await source.keys(wanted)).items():
            KEYRING.remember(key_id, key)


def _cached(key_id: str) -> bool:
    try:
        KEYRING.lookup(key_id)
    except KeyNotLoaded:
        return False
    return True
