"""The audit trail (revisjonsspor): what an entry holds, and the hash chain that binds them.

The chain itself (sealing, verification) lives in ``naervaer.dossier.chain`` so the offline
verifier shares it; this module says what the document service records in an entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naervaer.dossier.chain import (
    GENESIS,
    ChainEntry,
    ChainHead,
    ChainProblem,
    ChainVerdict,
    Seal,
    content_hash,
    entry_hash,
    seal,
    verify_chain,
)

__all__ = [
    "GENESIS",
    "ChainEntry",
    "ChainHead",
    "ChainProblem",
    "ChainVerdict",
    "Seal",
    "content_hash",
    "entry_content",
    "entry_hash",
    "seal",
    "verify_chain",
]


def entry_content(
    *, kind: str, source_id: str, case_id: str | None, data: Mapping[str, Any]
) -> dict[str, Any]:
    """An entry's sealed content: what happened (``kind``), its unique source and its data.

    ``source_id`` makes an entry unique per tenant (``event:<id>``, ``document:<id>:v<n>`` …):
    a redelivered event or a retried request finds its entry already there.
    """
    return {"kind": kind, "source_id": source_id, "case_id": case_id, "data": dict(data)}
