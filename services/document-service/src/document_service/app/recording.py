"""Recording what happens to a case: every case event and access record enters the audit trail,
and the events that make documents store a new version (with its signatures requested).

An access record whose case is not known yet waits for the case's first event (``AccessFeed``).
Each handler runs in the consumer's transaction together with its inbox row: a redelivered
event is skipped by the inbox, and would find its audit entry and version there anyway. The audit
trail keeps events as published, personal fields sealed; an erasure deletes what was derived
about the employee's cases, and nothing is derived about an erased case again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters import documents as repo
from document_service.adapters.audit_log import AuditLog, wall_clock
from document_service.adapters.erasure import ERASURE_EVENT, apply_erasure, is_erased
from document_service.adapters.parties import CaseRecord, apply_party_event, case_record
from document_service.app.access_feed import AccessFeed
from document_service.app.publishing import DocumentEvents
from document_service.app.sealing import CaseKeys, chain_record
from document_service.domain.documents import RenderedVersion, SourceEvent, render, target_of
from document_service.domain.errors import Gone
from document_service.domain.signing import missing_roles
from naervaer.contracts import CONTRACTS
from naervaer.contracts.document import (
    DocumentSignaturesMissing,
    DocumentVersionStored,
    MissingSignature,
    PartyRole,
)
from naervaer.dossier import layout
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, sealing_key_id
from naervaer.registry import UnknownEventType

SERVICE_SOURCE = "/document-service"


class Recorder:
    """The handlers of the document service's subscriptions."""

    def __init__(self, audit: AuditLog, events: DocumentEvents, keys: CaseKeys) -> None:
        self.audit = audit
        self.events = events
        self.keys = keys
        self.access = AccessFeed(audit, keys)

    async def case_event(self, tx: AsyncConnection, envelope: Envelope) -> None:
        """Seal the case event, keep the parties, and store the document version it makes."""
        case_id, content = chain_record(envelope)
        await self.audit.append(
            tx,
            tenant=envelope.tenant,
            kind=envelope.type,
            source_id=layout.event_source_id(str(envelope.id)),
            case_id=case_id,
            data=content,
        )
        if envelope.type == ERASURE_EVENT:
            erasure = await apply_erasure(tx, envelope)
            await self.access.release_erased(tx, erasure.case_ids)
            KEYRING.forget(erasure.key_id)  # this process reads its values as erased at once
            return
        if await is_erased(tx, envelope):
            return  # a redelivered or late event of an erased case: derive nothing again
        await apply_party_event(tx, envelope)
        # Any event of a known case releases what waited for it: the first one, and a later
        # one what another tenant's reader left held meanwhile (no chain lock orders those).
        await self.access.release(tx, envelope.streamid)
        try:
            await self._store_document(tx, envelope)
            if envelope.type == "case.manager_reassigned":
                await self._ask_new_manager(tx, envelope)
        except Gone:
            return  # the key was destroyed meanwhile: the erasure follows

    async def access_record(self, tx: AsyncConnection, envelope: Envelope) -> None:
        """Seal an access record (innsynslogg) another service published (``AccessFeed``)."""
        if envelope.source == SERVICE_SOURCE:
            return  # this service seals its own access records as they happen
        await self.access.record(tx, envelope)

    async def _store_document(self, tx: AsyncConnection, envelope: Envelope) -> None:
        source = _source_event(envelope)
        target = None if source is None else target_of(source)
        if source is None or target is None:
            return
        document_id = target.document_id(source.tenant, source.case_id)
        if await repo.made_from(tx, document_id, source.event_id):
            return
        latest, previous = await repo.latest_body(tx, document_id)
        rendered = render(source, target, version=latest + 1, previous=previous or None)
        await repo.store_version(tx, rendered, source, wall_clock())
        await self.audit.append(
            tx,
            tenant=source.tenant,
            kind=layout.VERSION_STORED,
            source_id=f"document:{document_id}:v{rendered.version}",
            case_id=source.case_id,
            data=_sealed_version(rendered, source),
        )
        case = await case_record(tx, source.case_id)
        stored = _version_stored(rendered, source)
        missing = _missing(rendered, source.case_id, case)
        await self.events.publish(
            tx,
            tenant=source.tenant,
            document_id=document_id,
            key_id=await self._key_id(tx, envelope, case),
            events=[stored, missing],
        )

    async def _key_id(
        self, tx: AsyncConnection, envelope: Envelope, case: CaseRecord | None
    ) -> str | None:
        """The key the event itself is sealed with, else the case's."""
        sealed_with = sealing_key_id(envelope.data)
        if sealed_with is not None:
            return sealed_with
        return None if case is None else await self.keys.key_id(tx, case)

    async def _ask_new_manager(self, tx: AsyncConnection, envelope: Envelope) -> None:
        """Documents still waiting for the manager now wait for the new manager."""
        case = await case_record(tx, envelope.streamid)
        if case is None:
            return
        for document in await repo.case_documents(tx, case.tenant, case.case_id):
            latest = await repo.version(tx, document.document_id, document.latest_version)
            if latest is None:
                continue
            decided = {
                d.role: d for d in await repo.decisions(tx, latest.document_id, latest.version)
            }
            missing = missing_roles(latest.required_roles, decided)
            if "manager" in missing:
                reminder = DocumentSignaturesMissing(
                    case_id=case.case_id,
                    document_id=latest.document_id,
                    kind=document.kind,
                    version=latest.version,
                    document_hash=latest.document_hash,
                    missing=[_party(role, case) for role in missing],
                )
                await self.events.publish(
                    tx,
                    tenant=case.tenant,
                    document_id=latest.document_id,
                    key_id=await self._key_id(tx, envelope, case),
                    events=[reminder],
                )


def _source_event(envelope: Envelope) -> SourceEvent | None:
    """The event with its payload validated (and upcast) by the contract; None if unknown."""
    try:
        payload = CONTRACTS.payload(envelope)
    except UnknownEventType:
        return None
    return SourceEvent(
        event_id=str(envelope.id),
        event_type=envelope.type,
        recorded_at=envelope.time,
        tenant=envelope.tenant,
        case_id=envelope.streamid,
        data=payload.model_dump(mode="json"),
    )


def _sealed_version(rendered: RenderedVersion, source: SourceEvent) -> dict[str, Any]:
    return {
        "document_id": rendered.document_id,
        "version": rendered.version,
        "document_kind": rendered.kind,
        "title": rendered.title,
        "document_hash": rendered.document_hash,
        "produced_by_event_id": source.event_id,
        "required_roles": list(rendered.required_roles),
    }


def _version_stored(rendered: RenderedVersion, source: SourceEvent) -> DocumentVersionStored:
    return DocumentVersionStored(
        case_id=source.case_id,
        document_id=rendered.document_id,
        kind=rendered.kind,
        title=rendered.title,
        version=rendered.version,
        document_hash=rendered.document_hash,
        produced_by_event_id=source.event_id,
        produced_by_event_type=source.event_type,
        required_roles=list(rendered.required_roles),
    )


def _missing(
    rendered: RenderedVersion, case_id: str, case: CaseRecord | None
) -> DocumentSignaturesMissing:
    """Nobody has signed a new version yet: every required role is missing."""
    return DocumentSignaturesMissing(
        case_id=case_id,
        document_id=rendered.document_id,
        kind=rendered.kind,
        version=rendered.version,
        document_hash=rendered.document_hash,
        missing=[_party(role, case) for role in rendered.required_roles],
    )


def _party(role: PartyRole, case: CaseRecord | None) -> MissingSignature:
    return MissingSignature(role=role, party_id=None if case is None else case.parties.holder(role))
