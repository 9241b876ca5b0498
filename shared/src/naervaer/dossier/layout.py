"""What a case dossier ZIP holds and how its parts are named (written by the document service,
read by ``naervaer verify``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from naervaer.dossier.chain import ChainEntry

FORMAT = "naervaer-dossier/1"
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.sig.json"
EVENTS = "case/events.json"
DOCUMENT_INDEX = "documents/index.json"
SIGNATURES = "signatures.json"
AUDIT_ENTRIES = "audit/entries.json"
AUDIT_KEYS = "audit/keys.json"
PDF = "dossier.pdf"
MANIFEST_CONTEXT = b"naervaer.dossier-manifest.v1\n"

# Kinds of audit entries (the ``kind`` of their content) the dossier's files are checked against.
VERSION_STORED = "document.version_stored"
SIGNED = "document.signed"
SIGNATURE_REFUSED = "document.signature_refused"
ATTACHMENT_ADDED = "document.attachment_added"
ACCESS_RECORDED = "access.recorded"
DECISION_FIELDS = (
    "document_id",
    "version",
    "role",
    "signer_id",
    "decision",
    "document_hash",
    "comment",
    "decided_at",
)


def document_path(document_id: str, version: int) -> str:
    return f"documents/{document_id}/v{version}.json"


def attachment_path(attachment_id: str, filename: str) -> str:
    return f"attachments/{attachment_id}/{filename}"


def event_source_id(event_id: str) -> str:
    """The audit trail's source id of a consumed event (its inbox key, as text)."""
    return f"event:{event_id}"


def manifest_message(manifest: bytes) -> bytes:
    """The bytes the service signs for a dossier's manifest."""
    return MANIFEST_CONTEXT + manifest


def entry_to_json(entry: ChainEntry) -> dict[str, Any]:
    """An audit entry as the dossier writes it; redacted entries keep only their chain fields."""
    written: dict[str, Any] = {
        "tenant": entry.tenant,
        "sequence": entry.sequence,
        "recorded_at": entry.recorded_at.isoformat(),
        "previous_hash": entry.previous_hash,
        "content_hash": entry.content_hash,
        "entry_hash": entry.entry_hash,
        "key_id": entry.key_id,
        "signature": entry.signature,
    }
    if entry.content is not None:
        written["content"] = dict(entry.content)
    return written


def entry_from_json(item: dict[str, Any]) -> ChainEntry:
    """Inverse of ``entry_to_json``; raises ``KeyError``/``ValueError`` on a malformed entry."""
    recorded_at = datetime.fromisoformat(str(item["recorded_at"]))
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at without a time zone")
    content = item.get("content")
    if content is not None and not isinstance(content, dict):
        raise ValueError("content is not an object")
    return ChainEntry(
        tenant=str(item["tenant"]),
        sequence=int(item["sequence"]),
        recorded_at=recorded_at,
        previous_hash=str(item["previous_hash"]),
        content_hash=str(item["content_hash"]),
        entry_hash=str(item["entry_hash"]),
        key_id=str(item["key_id"]),
        signature=str(item["signature"]),
        content=content,
    )
