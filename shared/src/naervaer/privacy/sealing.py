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
_KEY_ID = slice(len(PREFIX), len(PREFIX) + 32)  # where a token holds its key id

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
    return _open_object(data, lookup, "")


def sealed_tokens(data: Any) -> Iterator[str]:
    """The sealed tokens anywhere in ``data``, in document order."""
    return iter(_found(data))


def sealed_key_ids(data: Any) -> set[str]:
    """The key ids of the sealed tokens anywhere in ``data``."""
    return key_ids_of(_found(data))


def sealed_key_ids_in(payloads: Iterable[Any]) -> set[str]:
    """``sealed_key_ids`` of every payload together (one walk of each, one set)."""
    found: list[str] = []
    _collect(payloads, found)
    return key_ids_of(found)


def key_ids_of(tokens: Iterable[str]) -> set[str]:
    """The key ids of sealed tokens already found (``sealed_tokens``): no second walk."""
    return {token[_KEY_ID] for token in tokens}


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


# Every event a consumer or a rebuild decodes is opened, most of its values plain: a value is
# looked at further (its path built, the pattern tried) only if it is a container or a string
# that starts like a token.


def _open(value: Any, lookup: KeyLookup, path: str) -> Any:
    if isinstance(value, str):
        if match := _TOKEN.match(value):
            return _open_token(match, lookup, path)
        return value
    if isinstance(value, dict):
        return _open_object(value, lookup, path)
    if isinstance(value, list):
        opened = list(value)
        for i, item in enumerate(value):
            if _may_hold_token(item):
                opened[i] = _open(item, lookup, f"{path}/{i}")
        return opened
    return value


def _open_object(data: dict[str, Any], lookup: KeyLookup, path: str) -> dict[str, Any]:
    opened = dict(data)
    for name, item in data.items():
        if _may_hold_token(item):
            opened[name] = _open(item, lookup, f"{path}/{name}")
    return opened


def _may_hold_token(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(PREFIX)
    return isinstance(value, dict | list)


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


def _found(data: Any) -> list[str]:
    found: list[str] = []
    _collect((data,), found)
    return found


def _collect(values: Iterable[Any], found: list[str]) -> None:
    """Append the sealed tokens among ``values`` and in their dicts and lists to ``found``.

    Every event a consumer or a rebuild handles is walked, so this is a plain loop (no
    generator per level) and a string is matched against the pattern only if it starts
    like a token."""
    for value in values:
        if isinstance(value, str):
            if value.startswith(PREFIX) and (match := _TOKEN.match(value)):
                found.append(match.group(0))
        elif isinstance(value, dict):
            _collect(value.values(), found)
        elif isinstance(value, list):
            _collect(value, found)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
