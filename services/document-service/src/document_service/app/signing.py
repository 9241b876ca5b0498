"""Signing and refusing a document version, each in one transaction with its audit entry and
its published event; the signer and the comment sealed with the case's key in both."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from document_service.adapters import documents as repo
from document_service.adapters.audit_log import AuditLog
from document_service.adapters.documents import StoredVersion
from document_service.adapters.erasure import case_erased
from document_service.adapters.parties import CaseRecord, case_record
from document_service.app.publishing import DocumentEvents
from document_service.app.sealing import SealedDecision
from document_service.domain.errors import Conflict, Gone, NotFound
from document_service.domain.signing import (
    DecisionKind,
    SignatureDecision,
    VersionToSign,
    decide,
    missing_roles,
)
from naervaer.contracts._base import Contract
from naervaer.contracts.document import DocumentSignatureRefused, DocumentSigned, PartyRole
from naervaer.dossier import layout


@dataclass(frozen=True)
class DocumentContext:
    """A document with the case it belongs to: what authorisation is decided on."""

    document_id: str
    kind: str
    case: CaseRecord


async def document_context(conn: AsyncConnection, document_id: str) -> DocumentContext:
    document = await repo.document(conn, document_id)
    if document is None:
        raise NotFound("document_not_found", f"no document {document_id}")
    case = await case_record(conn, document.case_id)
    if case is None and await case_erased(conn, document.tenant, document.case_id):
        raise Gone(f"document {document_id} belongs to an erased case")
    if case is None:
        raise NotFound("document_not_found", f"no document {document_id}")
    return DocumentContext(document_id, document.kind, case)


class Signing:
    def __init__(
        self,
        engine: AsyncEngine,
        audit: AuditLog,
        events: DocumentEvents,
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._audit = audit
        self._events = events
        self._clock = clock

    async def decide(
        self,
        subject: str,
        document_id: str,
        number: int,
        *,
        decision: DecisionKind,
        offered_hash: str | None,
        comment: str | None = None,
    ) -> tuple[SignatureDecision, bool]:
        """Record ``subject``'s decision; returns it and whether it is new (not a retry)."""
        try:
            async with self._engine.begin() as tx:
                return await self._decide(
                    tx, subject, document_id, number, decision, offered_hash, comment
                )
        except IntegrityError as exc:  # two decisions for one role raced: the first won
            raise Conflict("already_decided", "another decision was recorded first") from exc

    async def _decide(
        self,
        tx: AsyncConnection,
        subject: str,
        document_id: str,
        number: int,
        decision: DecisionKind,
        offered_hash: str | None,
        comment: str | None,
    ) -> tuple[SignatureDecision, bool]:
        context = await document_context(tx, document_id)
        stored = await repo.version(tx, document_id, number)
        if stored is None:
            raise NotFound("version_not_found", f"document {document_id} has no version {number}")
        decided = {d.role: d for d in await repo.decisions(tx, document_id, number)}
        target = VersionToSign(
            document_id, number, stored.document_hash, stored.required_roles, decided
        )
        made, new = decide(
            target,
            context.case.parties,
            subject=subject,
            decision=decision,
            offered_hash=offered_hash,
            at=self._clock(),
            comment=comment,
        )
        if new:
            await repo.add_decision(tx, made)
            await self._record(tx, context.case, made, stored, {**decided, made.role: made})
        return made, new

    async def _record(
        self,
        tx: AsyncConnection,
        case: CaseRecord,
        made: SignatureDecision,
        stored: StoredVersion,
        decided: Mapping[PartyRole, SignatureDecision],
    ) -> None:
        signed = made.decision == "signed"
        key_id = await self._events.keys.key_id(tx, case)
        (entry,) = await self._events.keys.seal(key_id, [SealedDecision.of(made)])
        await self._audit.append(
            tx,
            tenant=case.tenant,
            kind=layout.SIGNED if signed else layout.SIGNATURE_REFUSED,
            source_id=f"decision:{made.document_id}:v{made.version}:{made.role}",
            case_id=case.case_id,
            data=entry,
        )
        event: Contract
        if signed:
            remaining = missing_roles(stored.required_roles, decided)
            event = DocumentSigned(
                case_id=case.case_id,
                document_id=made.document_id,
                version=made.version,
                document_hash=made.document_hash,
                signer_id=made.signer_id,
                role=made.role,
                signed_at=made.decided_at,
                remaining_roles=remaining,
            )
        else:
            event = DocumentSignatureRefused(
                case_id=case.case_id,
                document_id=made.document_id,
                version=made.version,
                document_hash=made.document_hash,
                signer_id=made.signer_id,
                role=made.role,
                comment=made.comment or "",
                refused_at=made.decided_at,
            )
        await self._events.publish(
            tx, tenant=case.tenant, document_id=made.document_id, key_id=key_id, events=[event]
        )
