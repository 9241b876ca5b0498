"""Documents, their versions, decisions and attachments, with the blobs they point to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.sql import insert_or_ignore
from document_service.adapters.tables import (
    attachments,
    blobs,
    document_versions,
    documents,
    signatures,
)
from document_service.domain.documents import RenderedVersion, SourceEvent
from document_service.domain.signing import SignatureDecision
from naervaer.contracts.document import PartyRole


@dataclass(frozen=True)
class StoredVersion:
    document_id: str
    version: int
    document_hash: str
    title: str
    required_roles: tuple[PartyRole, ...]
    source_event_id: str
    source_event_type: str
    stored_at: datetime


async def put_blob(
    tx: AsyncConnection, sha256: str, content: bytes, media_type: str, now: datetime
) -> None:
    """Store ``content`` under its hash; the same bytes twice are one blob."""
    await tx.execute(
        insert_or_ignore(
            tx,
            blobs,
            sha256=sha256,
            size=len(content),
            media_type=media_type,
            content=content,
            stored_at=now,
        )
    )
    # Bytes erased with another case come back for a case that is not erased (a new upload).
    await tx.execute(
        update(blobs)
        .where(blobs.c.sha256 == sha256, blobs.c.content.is_(None))
        .values(content=content)
    )


async def blob(conn: AsyncConnection, sha256: str) -> bytes | None:
    """The stored bytes; None when unknown or erased."""
    found = await conn.execute(select(blobs.c.content).where(blobs.c.sha256 == sha256))
    content = found.scalar_one_or_none()
    return None if content is None else bytes(content)


async def document(conn: AsyncConnection, document_id: str) -> Row[Any] | None:
    found = await conn.execute(select(documents).where(documents.c.document_id == document_id))
    return found.first()


async def case_documents(conn: AsyncConnection, tenant: str, case_id: str) -> list[Row[Any]]:
    rows = await conn.execute(
        select(documents)
        .where(documents.c.tenant == tenant, documents.c.case_id == case_id)
        .order_by(documents.c.created_at, documents.c.document_id)
    )
    return list(rows)


async def versions(conn: AsyncConnection, document_id: str) -> list[StoredVersion]:
    rows = await conn.execute(
        select(document_versions)
        .where(document_versions.c.document_id == document_id)
        .order_by(document_versions.c.version)
    )
    return [_version(row) for row in rows]


async def version(conn: AsyncConnection, document_id: str, number: int) -> StoredVersion | None:
    found = await conn.execute(
        select(document_versions).where(
            document_versions.c.document_id == document_id,
            document_versions.c.version == number,
        )
    )
    row = found.first()
    return None if row is None else _version(row)


async def made_from(tx: AsyncConnection, document_id: str, event_id: str) -> bool:
    """Has ``event_id`` already made a version of the document (a redelivery)?"""
    found = await tx.execute(
        select(document_versions.c.version).where(
            document_versions.c.document_id == document_id,
            document_versions.c.source_event_id == event_id,
        )
    )
    return found.first() is not None


async def latest_body(conn: AsyncConnection, document_id: str) -> tuple[int, dict[str, Any]]:
    """The latest version number and its body; (0, {}) for a document not yet stored."""
    stored = await versions(conn, document_id)
    if not stored:
        return 0, {}
    latest = stored[-1]
    content = await blob(conn, latest.document_hash)
    body = json.loads(content or b"{}").get("body", {})
    return latest.version, cast(dict[str, Any], body)


async def store_version(
    tx: AsyncConnection, rendered: RenderedVersion, event: SourceEvent, now: datetime
) -> None:
    """Store a new version (its blob, its row) and move the document's latest version."""
    await put_blob(tx, rendered.document_hash, rendered.content, "application/json", now)
    created = await tx.execute(
        insert_or_ignore(
            tx,
            documents,
            document_id=rendered.document_id,
            tenant=event.tenant,
            case_id=event.case_id,
            kind=rendered.kind,
            title=rendered.title,
            latest_version=rendered.version,
            created_at=now,
            updated_at=now,
        )
    )
    if created.rowcount != 1:
        await tx.execute(
            update(documents)
            .where(documents.c.document_id == rendered.document_id)
            .values(latest_version=rendered.version, title=rendered.title, updated_at=now)
        )
    await tx.execute(
        document_versions.insert().values(
            document_id=rendered.document_id,
            version=rendered.version,
            document_hash=rendered.document_hash,
            title=rendered.title,
            required_roles=list(rendered.required_roles),
            source_event_id=event.event_id,
            source_event_type=event.event_type,
            stored_at=now,
        )
    )


async def decisions(
    conn: AsyncConnection, document_id: str, number: int | None = None
) -> list[SignatureDecision]:
    query = select(signatures).where(signatures.c.document_id == document_id)
    if number is not None:
        query = query.where(signatures.c.version == number)
    rows = await conn.execute(query.order_by(signatures.c.version, signatures.c.decided_at))
    return [
        SignatureDecision(
            document_id=row.document_id,
            version=row.version,
            role=row.role,
            signer_id=row.signer_id,
            decision=row.decision,
            document_hash=row.document_hash,
            decided_at=row.decided_at,
            comment=row.comment,
        )
        for row in rows
    ]


async def add_decision(tx: AsyncConnection, decision: SignatureDecision) -> None:
    await tx.execute(
        signatures.insert().values(
            document_id=decision.document_id,
            version=decision.version,
            role=decision.role,
            signer_id=decision.signer_id,
            decision=decision.decision,
            document_hash=decision.document_hash,
            comment=decision.comment,
            decided_at=decision.decided_at,
        )
    )


async def add_attachment(tx: AsyncConnection, **values: Any) -> None:
    await tx.execute(attachments.insert().values(**values))


async def document_attachments(conn: AsyncConnection, document_id: str) -> list[Row[Any]]:
    rows = await conn.execute(
        select(attachments)
        .where(attachments.c.document_id == document_id)
        .order_by(attachments.c.uploaded_at)
    )
    return list(rows)


async def attachment(conn: AsyncConnection, attachment_id: str) -> Row[Any] | None:
    found = await conn.execute(
        select(attachments).where(attachments.c.attachment_id == attachment_id)
    )
    return found.first()


def _version(row: Row[Any]) -> StoredVersion:
    return StoredVersion(
        document_id=row.document_id,
        version=row.version,
        document_hash=row.document_hash,
        title=row.title,
        required_roles=tuple(row.required_roles),
        source_event_id=row.source_event_id,
        source_event_type=row.source_event_type,
        stored_at=row.stored_at,
    )
