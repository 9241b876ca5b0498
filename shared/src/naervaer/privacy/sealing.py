"""Sealing personal fields with the employee's key (crypto-shredding, kryptografisk sletting).

A sealed value is one string, ``pd1.<key id>.<base64url(nonce ‖ AES-256-GCM ciphertext)>``, so a
payload keeps its shape and every other field stays readable: consumers route, count and plan on
the structure while the personal part is readable only with the key. The key id in the token
tells a reader which key to fetch; once the key is destroyed (erasure after the retention
period) the token is noise everywhere it was copied: event store, outbox, Kafka topics, audit
trail. The field's path is authenticated with it (AAD), so a token cannot be moved to another
field unnoticed.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from naervaer.privacy.personal import SealPlan

PREFIX = "pd1."
ERASED = "[erased]"
"""What a sealed value reads as once its key is destroyed."""

_TOKEN = re.compile(r"^pd1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{38,})$")
_NONCE_BYTES = 12

KeyLookup = Callable[[str], bytes | None]
"""key id → the key, or None when it was destroyed (shredded)."""


def seal_value(text: str, *, key_id: str, key: bytes, path: str) -> str:
    """One personal string as a sealed token."""
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, text.encode(), path.encode())
    return f"{PREFIX}{key_id}.{_b64(nonce + ciphertext)}"


def seal_data(data: dict[str, Any], plan: SealPlan, *, key_id: str, key: bytes) -> dict[str, Any]:
    """A copy of the JSON payload ``data`` with the fields ``plan`` names sealed."""
    return _seal_object(data, plan, key_id, key, "")


def unseal_data(data: dict[str, Any], lookup: KeyLookup) -> dict[str, Any]:
    """A copy of ``data`` with every sealed token opened (``ERASED`` where the key is gone)."""
    return _open(data, lookup, "")  # type: ignore[no-any-return]


def sealed_tokens(data: Any) -> Iterator[str]:
    """The sealed tokens anywhere in ``data``, in document order."""
    return (match.group(0) for match in _tokens(data))


def sealed_key_ids(data: Any) -> set[str]:
    """The key ids of the sealed tokens anywhere in ``data``."""
    return {match.group(1) for match in _tokens(data)}


def sealing_key_id(data: Any) -> str | None:
    """The key ``data`` is sealed with (one employee, one key), or None when nothing is sealed."""
    return sealing_key_among(sealed_key_ids(data))


def sealing_key_among(key_ids: Iterable[str]) -> str | None:
    """``sealing_key_id`` for key ids already found in the data: the rule in one place."""
    return min(key_ids, default=None)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and _TOKEN.match(value) is not None


def _seal_object(
    data: dict[str, Any], plan: SealPlan, key_id: str, key: bytes, prefix: str
) -> dict[str, Any]:
    sealed = dict(data)
    for name, rule in plan.items():
        if name in sealed and sealed[name] is not None:
            sealed[name] = _seal_field(sealed[name], rule, key_id, key, f"{prefix}/{name}")
    return sealed


def _seal_field(value: Any, rule: Any, key_id: str, key: bytes, path: str) -> Any:
    if isinstance(value, list):
        return [_seal_field(item, rule, key_id, key, f"{path}/{i}") for i, item in enumerate(value)]
    if rule is True and isinstance(value, str) and not is_sealed(value):
        return seal_value(value, key_id=key_id, key=key, path=path)
    if isinstance(rule, dict) and isinstance(value, dict):
        return _seal_object(value, rule, key_id, key, path)
    return value


def _open(value: Any, lookup: KeyLookup, path: str) -> Any:
    if isinstance(value, dict):
        return {name: _open(item, lookup, f"{path}/{name}") for name, item in value.items()}
    if isinstance(value, list):
        return [_open(item, lookup, f"{path}/{i}") for i, item in enumerate(value)]
    if isinstance(value, str) and (match := _TOKEN.match(value)):
        return _open_token(match, lookup, path)
    return value


def _open_token(match: re.Match[str], lookup: KeyLookup, path: str) -> str:
    key = lookup(match.group(1))
    if key is None:
        return ERASED
    blob = base64.urlsafe_b64decode(match.group(2) + "=" * (-len(match.group(2)) % 4))
    try:
        plain = AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], path.encode())
    except InvalidTag as error:
        raise ValueError(f"sealed value at {path or '/'} fails authentication") from error
    return plain.decode()


def _tokens(value: Any) -> Iterator[re.Match[str]]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _tokens(item)
    elif isinstance(value, list):
        for item in value:
            yield from _tokens(item)
    elif isinstance(value, str) and (match := _TOKEN.match(value)):
        yield match


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
