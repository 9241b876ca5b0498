"""The hash chain of the audit trail (revisjonsspor): each entry holds its predecessor's hash.

Pure functions, no I/O: the same code writes the chain and verifies it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an entry's content (sorted keys, no spaces)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_hash(*, tenant: str, sequence: int, previous_hash: str, content_digest: str) -> str:
    """The hash that binds an entry to its place in its tenant's chain."""
    material = f"{tenant}\n{sequence}\n{previous_hash}\n{content_digest}"
    return hashlib.sha256(material.encode()).hexdigest()
