"""Erasure (sletting) of what this service derived about an employee's cases.

On ``employee.personal_data_erased`` the cases' document contents (the blobs of their versions
and attachments), attachment names and uploaders, the signers and comments of decisions, and the
case parties go. What the audit trail and integrity need stays: ids, hashes, sizes, version
numbers and times. The audit trail itself is not touched: it holds sealed values only, which the
destroyed key has made unreadable. The erased cases are remembered, so no redelivered or
replayed event derives anything about them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, Select, case, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.sql import insert_or_ignore
from document_service.adapters.tables import (
    attachments,
    blobs,
    case_parties,
    document_versions,
    documents,
    erased_cases,
    signatures,
)
from naervaer.contracts import CONTRACTS
from naervaer.contracts.employee import PersonalDataErased
from naervaer.envelope import Envelope
from naervaer.privacy import ERASED, KEYRING, KeyNotLoaded, sealed_key_ids

ERASURE_EVENT = "employee.personal_data_erased"


async def is_erased(conn: AsyncConnection, envelope: Envelope) -> bool:
    """Is the event's case erased, or its key destroyed (the erasure may not be here yet)?"""
    if any(_destroyed(key_id) for key_id in sealed_key_ids(envelope.data)):
        return True
    return await case_erased(conn, envelope.tenant, envelope.streamid)


async def case_erased(conn: AsyncConnection, tenant: str, case_id: str) -> bool:
    found = await conn.execute(
        select(erased_cases.c.case_id).where(
            erased_cases.c.tenant == tenant, erased_cases.c.case_id == case_id
        )
    )
    return found.first() is not None


async def apply_erasure(tx: AsyncConnection, envelope: Envelope) -> PersonalDataErased:
    """Erase what was derived about the event's cases (idempotent: redelivery, rebuild)."""
    erasure = CONTRACTS.payload(envelope)
    if not isinstance(erasure, PersonalDataErased):
        raise TypeError(f"{envelope.type} is not an erasure")
    await erase_cases(
        tx,
        tenant=envelope.tenant,
        case_ids=erasure.case_ids,
        key_id=erasure.key_id,
        erased_on=erasure.erased_on,
    )
    return erasure


async def erase_cases(
    tx: AsyncConnection, *, tenant: str, case_ids: Sequence[str], key_id: str, erased_on: date
) -> None:
    now = datetime.now(UTC)
    for case_id in case_ids:
        await tx.execute(
            insert_or_ignore(
                tx,
                erased_cases,
                tenant=tenant,
                case_id=case_id,
                key_id=key_id,
                erased_on=erased_on,
                recorded_at=now,
            )
        )
    if not case_ids:
        return
    await _erase_contents(tx, tenant, case_ids)
    await _erase_names(tx, tenant, case_ids)
    await tx.execute(
        delete(case_parties).where(
            case_parties.c.tenant == tenant, case_parties.c.case_id.in_(case_ids)
        )
    )


async def _erase_names(tx: AsyncConnection, tenant: str, case_ids: Sequence[str]) -> None:
    """Who signed, what they wrote, who attached which file: the personal parts of the record."""
    await tx.execute(
        update(signatures)
        .where(signatures.c.document_id.in_(_documents_of(tenant, case_ids)))
        .values(
            signer_id=ERASED,
            comment=case((signatures.c.comment.is_(None), None), else_=ERASED),
        )
    )
    await tx.execute(
        update(attachments)
        .where(attachments.c.tenant == tenant, attachments.c.case_id.in_(case_ids))
        .values(filename=ERASED, uploaded_by=ERASED)
    )


async def _erase_contents(tx: AsyncConnection, tenant: str, case_ids: Sequence[str]) -> None:
    """Empty the blobs of the cases' versions and attachments.

    A blob is content-addressed: the same file attached to a case that is not erased keeps
    its bytes for that case.
    """
    versions = select(document_versions.c.document_hash).where(
        document_versions.c.document_id.in_(_documents_of(tenant, case_ids))
    )
    attached = select(attachments.c.sha256).where(
        attachments.c.tenant == tenant, attachments.c.case_id.in_(case_ids)
    )
    hashes = set((await tx.execute(versions)).scalars()) | set(
        (await tx.execute(attached)).scalars()
    )
    if not hashes:
        return
    kept = await _still_used(tx, hashes)
    await tx.execute(
        update(blobs)
        .where(blobs.c.sha256.in_(sorted(hashes - kept)), blobs.c.content.is_not(None))
        .values(content=None)
    )


async def _still_used(tx: AsyncConnection, hashes: set[str]) -> set[str]:
    live_versions = (
        select(document_versions.c.document_hash)
        .join(documents, documents.c.document_id == document_versions.c.document_id)
        .where(
            document_versions.c.document_hash.in_(sorted(hashes)),
            ~_erased(documents.c.tenant, documents.c.case_id),
        )
    )
    live_attachments = select(attachments.c.sha256).where(
        attachments.c.sha256.in_(sorted(hashes)),
        ~_erased(attachments.c.tenant, attachments.c.case_id),
    )
    return set((await tx.execute(live_versions)).scalars()) | set(
        (await tx.execute(live_attachments)).scalars()
    )


def _erased(tenant: ColumnElement[str], case_id: ColumnElement[str]) -> ColumnElement[bool]:
    return exists().where(erased_cases.c.tenant == tenant, erased_cases.c.case_id == case_id)


def _documents_of(tenant: str, case_ids: Sequence[str]) -> Select[tuple[str]]:
    return select(documents.c.document_id).where(
        documents.c.tenant == tenant, documents.c.case_id.in_(case_ids)
    )


def _destroyed(key_id: str) -> bool:
    """``KeyRing.is_destroyed``, with a key this process has not asked for read as not
    destroyed: the erased cases above are the record of an erasure, and a rebuild may replay
    without a key source; a destroyed key only tells earlier, before the erasure event."""
    try:
        return KEYRING.is_destroyed(key_id)
    except KeyNotLoaded:
        return False
