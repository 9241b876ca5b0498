"""Canonical JSON: the one byte form that is hashed and signed (sorted keys, no spaces, UTF-8)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any


def canonical_bytes(value: Any) -> bytes:
    """``value`` as canonical JSON bytes; NaN and infinities are refused (not portable JSON)."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64url(data: bytes) -> str:
    """Base64url without padding (as JOSE writes keys and signatures)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    """Inverse of ``b64url``; raises ``ValueError`` on anything that is not base64url."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not base64url: {exc}") from exc
