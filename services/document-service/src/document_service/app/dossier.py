"""The case dossier (saksmappe): one signed ZIP with everything that proves the case's record.

manifest.json lists every file with its SHA-256 and is signed (manifest.sig.json) with the audit
key; the audit entries of the case (with the chain fields of other cases' entries between them,
content left out) seal the case events, every document version, decision and attachment; the
public keys that signed travel along. ``naervaer verify`` checks it all offline.

The audit trail holds personal values sealed (crypto-shredding), so what the verifier compares
with it stays sealed too: case/events.json, signatures.json and the attachments' file names in
the archive are as sealed in the trail. The readable parts are opened with the case's key: the
documents themselves, the PDF, and each attachment's real name in documents/index.json.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from document_service.adapters import documents as repo
from document_service.adapters.audit_log import AuditLog, wall_clock
from document_service.adapters.signing_keys import AuditSigner
from document_service.app.sealing import open_sealed
from document_service.domain.dossier import DocumentSummary, DossierView
from document_service.domain.signing import role_statuses
from document_service.domain.timeline import glance
from naervaer.dossier import layout
from naervaer.dossier.canonical import sha256_hex
from naervaer.dossier.chain import ChainEntry
from naervaer.dossier.keys import KeyRing, PublicKey
from naervaer.privacy.keyring import KeySource


@dataclass
class _Material:
    entries: list[ChainEntry]
    keys: KeyRing
    files: dict[str, bytes] = field(default_factory=dict)
    index: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[DocumentSummary] = field(default_factory=list)

    def sealed(self, *kinds: str) -> list[dict[str, Any]]:
        """The data of this case's entries of ``kinds``, as sealed in the trail."""
        return [
            e.content["data"]
            for e in self.entries
            if e.content is not None and e.content.get("kind") in kinds
        ]


class Dossiers:
    def __init__(
        self,
        engine: AsyncEngine,
        audit: AuditLog,
        signer: AuditSigner,
        clock: Callable[[], datetime],
        render_pdf: Callable[[DossierView], bytes],
        keys: KeySource,
    ) -> None:
        self._keys = keys
        self._engine = engine
        self._audit = audit
        self._signer = signer
        self._clock = clock
        self._render_pdf = render_pdf

    async def export(self, tenant: str, case_id: str) -> bytes:
        """The dossier of ``case_id`` as ZIP bytes."""
        async with self._engine.connect() as conn:
            material = await self._gather(conn, tenant, case_id)
        generated_at = wall_clock()
        events = [
            e.content["data"]
            for e in material.entries
            if e.content is not None and str(e.content.get("kind", "")).startswith("case.")
        ]
        files = material.files
        files[layout.EVENTS] = _json(events)
        files[layout.DOCUMENT_INDEX] = _json(material.index)
        files[layout.SIGNATURES] = _json(material.sealed(layout.SIGNED, layout.SIGNATURE_REFUSED))
        readable = await open_sealed(self._keys, [e["data"] for e in events])
        files[layout.AUDIT_ENTRIES] = _json([layout.entry_to_json(e) for e in material.entries])
        files[layout.AUDIT_KEYS] = _json(material.keys.document())
        view = DossierView(
            tenant=tenant,
            glance=glance(
                case_id,
                [(e["type"], data) for e, data in zip(events, readable, strict=True)],
                self._clock().date(),
            ),
            documents=material.summaries,
            events=[(str(e["time"])[:10], str(e["type"])) for e in events],
            entries=sum(1 for e in material.entries if e.content is not None),
            key_ids=sorted(k.key_id for k in material.keys),
            generated_at=generated_at,
        )
        files[layout.PDF] = self._render_pdf(view)
        return self._zip(files, self._manifest(tenant, case_id, files, material, generated_at))

    async def _gather(self, conn: AsyncConnection, tenant: str, case_id: str) -> _Material:
        entries = await self._audit.case_segment(conn, tenant, case_id)
        ring = await self._audit.keys.ring(conn)
        used = {entry.key_id for entry in entries} | {self._signer.key_id}
        keys = [key for key in ring if key.key_id in used]
        if self._signer.key_id not in ring:
            keys.append(PublicKey(self._signer.public_raw))
        material = _Material(entries, KeyRing(keys))
        names = {
            str(data.get("attachment_id")): str(data.get("filename"))
            for data in material.sealed(layout.ATTACHMENT_ADDED)
        }
        for document in await repo.case_documents(conn, tenant, case_id):
            await _add_document(conn, material, document, names)
        return material

    def _manifest(
        self,
        tenant: str,
        case_id: str,
        files: dict[str, bytes],
        material: _Material,
        generated_at: datetime,
    ) -> dict[str, Any]:
        sealed = [e.sequence for e in material.entries]
        return {
            "format": layout.FORMAT,
            "case_id": case_id,
            "tenant": tenant,
            "generated_at": generated_at.isoformat(),
            "generated_by": "/document-service",
            "signing_key_id": self._signer.key_id,
            "key_ids": sorted(key.key_id for key in material.keys),
            "audit": {
                "entries": len(sealed),
                "first_sequence": min(sealed, default=None),
                "last_sequence": max(sealed, default=None),
            },
            "files": [
                {"path": path, "sha256": sha256_hex(data), "size": len(data)}
                for path, data in sorted(files.items())
            ],
        }

    def _zip(self, files: dict[str, bytes], manifest: dict[str, Any]) -> bytes:
        manifest_bytes = _json(manifest)
        signature = {
            "key_id": self._signer.key_id,
            "algorithm": "EdDSA",
            "signed": layout.MANIFEST,
            "signature": self._signer.sign(layout.manifest_message(manifest_bytes)),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            zipped.writestr(layout.MANIFEST, manifest_bytes)
            zipped.writestr(layout.MANIFEST_SIGNATURE, _json(signature))
            for path, data in sorted(files.items()):
                zipped.writestr(path, data)
        return buffer.getvalue()


async def _add_document(
    conn: AsyncConnection, material: _Material, document: Any, sealed_names: dict[str, str]
) -> None:
    decisions = await repo.decisions(conn, document.document_id)
    versions = []
    for stored in await repo.versions(conn, document.document_id):
        path = layout.document_path(stored.document_id, stored.version)
        material.files[path] = await repo.blob(conn, stored.document_hash) or b""
        decided = {d.role: d for d in decisions if d.version == stored.version}
        statuses: dict[str, str] = dict(role_statuses(stored.required_roles, decided).items())
        versions.append(
            {
                "version": stored.version,
                "document_hash": stored.document_hash,
                "path": path,
                "parties": statuses,
            }
        )
        material.summaries.append(
            DocumentSummary(
                stored.title, stored.version, stored.document_hash, stored.stored_at, statuses
            )
        )
    attached = []
    for row in await repo.document_attachments(conn, document.document_id):
        # Named in the archive as the trail seals it, so the verifier finds its entry.
        path = layout.attachment_path(
            row.attachment_id, sealed_names.get(row.attachment_id, row.filename)
        )
        material.files[path] = await repo.blob(conn, row.sha256) or b""
        attached.append(
            {"attachment_id": row.attachment_id, "filename": row.filename, "path": path}
        )
    material.index.append(
        {
            "document_id": document.document_id,
            "kind": document.kind,
            "title": document.title,
            "versions": versions,
            "attachments": attached,
        }
    )


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
