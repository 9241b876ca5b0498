"""Sealing what this service writes about a case with the employee's key (crypto-shredding).

Everything personal this service publishes or seals in its audit trail (signers, comments, file
names, uploaders, the parties still to sign, who read the case) is sealed with the key of the
case's employee, the key the case's own events are sealed with. Once the key is destroyed on
erasure, those values are unreadable in the event store, on the topic and in the audit trail,
and the trail still verifies: its hashes cover the sealed values, never the plaintext.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.erasure import case_erased
from document_service.adapters.parties import CaseRecord, case_record, remember_key
from document_service.domain.errors import Gone
from document_service.domain.signing import SignatureDecision
from naervaer.auth.access import AccessRecord
from naervaer.envelope import Envelope
from naervaer.privacy import ERASED, KEYRING, KeyNotLoaded, PersonalStr, sealed_key_ids
from naervaer.privacy.keyring import KeySource
from naervaer.privacy.keyvault import KeyVault
from naervaer.privacy.sealer import Sealer, SubjectErased
from naervaer.privacy.sealing import seal_value, unseal_data

EXPORT_RESOURCE = "personal-data"
# Streams named after the employee (the case service's ``employee:{tenant}:{employee_id}``).
EMPLOYEE_STREAM_PREFIX = "employee:"


class SealedDecision(BaseModel):
    """A signature decision as the audit trail seals it (and the dossier's signatures.json)."""

    document_id: str
    version: int
    role: str
    signer_id: PersonalStr
    decision: str
    document_hash: str
    comment: PersonalStr | None
    decided_at: str

    @classmethod
    def of(cls, made: SignatureDecision) -> SealedDecision:
        return cls.model_validate(made.sealed())


class SealedAccess(AccessRecord):
    """An access record (innsynslogg) whose who and what are sealed with the case's key."""

    subject: PersonalStr
    resource_id: PersonalStr


class CaseKeys:
    """The key of each case's employee, and sealing with it."""

    def __init__(self, vault: KeyVault) -> None:
        self.vault = vault
        self._sealer = Sealer(vault)

    async def key_id(self, tx: AsyncConnection, case: CaseRecord) -> str:
        """The case's key id; for a case whose events came unsealed, the employee's live key."""
        if case.key_id is not None:
            return case.key_id
        subject = await self.vault.key_for(case.tenant, case.employee_id)
        await remember_key(tx, case.case_id, subject.key_id)
        return subject.key_id

    async def seal(self, key_id: str, payloads: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """The payloads as JSON with their personal fields sealed; ``Gone`` once erased."""
        try:
            return await self._sealer.with_key(key_id, payloads)
        except SubjectErased as erased:
            raise Gone("the case's personal data was erased") from erased

    async def access_entry(self, tx: AsyncConnection, record: AccessRecord) -> dict[str, Any]:
        """The access record as the audit trail keeps it: who and what sealed where a key
        applies (the case's, or the employee's for an export), the rest in clear.

        A record about an erased case keeps no names at all: no key is left to seal them with.
        """
        if record.case_id is not None and await case_erased(tx, record.tenant, record.case_id):
            return nameless(record)
        key_id = await self._access_key(tx, record)
        if key_id is None:
            return record.model_dump(mode="json", exclude_none=True)
        try:
            (data,) = await self._sealer.with_key(key_id, [SealedAccess(**dict(record))])
        except SubjectErased:  # erased meanwhile
            return nameless(record)
        return {name: value for name, value in data.items() if value is not None}

    async def _access_key(self, tx: AsyncConnection, record: AccessRecord) -> str | None:
        if record.case_id is not None:
            case = await case_record(tx, record.case_id)
            known = case is not None and case.tenant == record.tenant
            return await self.key_id(tx, case) if case is not None and known else None
        live = await self.vault.live_key_id(record.tenant, record.resource_id)
        if live is None and record.resource == EXPORT_RESOURCE:
            live = (await self.vault.key_for(record.tenant, record.resource_id)).key_id
        return live


def nameless(record: AccessRecord) -> dict[str, Any]:
    """The access record with who and what left out: no key is left to seal them with."""
    data = record.model_dump(mode="json", exclude_none=True)
    return {**data, "subject": ERASED, "resource_id": ERASED}


def chain_record(envelope: Envelope) -> tuple[str | None, dict[str, Any]]:
    """The case id and the content the audit trail seals for a consumed event.

    The event is kept as published: its personal fields sealed. Events of an employee's own
    stream name the employee in their stream id; there the ids are sealed too (with the
    event's key), or left out when the event carries none (the erasure names nobody).
    """
    recorded = envelope.model_dump(mode="json", exclude_none=True)
    if not envelope.streamid.startswith(EMPLOYEE_STREAM_PREFIX):
        return envelope.streamid, recorded
    key_ids = sorted(sealed_key_ids(envelope.data))
    key = _cached_key(key_ids[0]) if key_ids else None
    for name in ("subject", "streamid"):
        recorded[name] = (
            ERASED
            if key is None
            else seal_value(recorded[name], key_id=key_ids[0], key=key, path=f"/{name}")
        )
    return None, recorded


async def open_sealed(keys: KeySource, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``items`` (sealed payloads) opened; values of destroyed keys read as erased."""
    wanted = set().union(*(sealed_key_ids(item) for item in items)) if items else set()
    found = await keys.keys(wanted) if wanted else {}
    return [unseal_data(dict(item), found.get) for item in items]


def _cached_key(key_id: str) -> bytes | None:
    """The key to seal an employee stream's ids with in the audit trail; None when it is
    destroyed (``KeyRing.is_destroyed``) and also when this process never asked for it: the
    trail never keeps the employee's id in clear, so without the key it keeps ``[erased]``."""
    try:
        return KEYRING.lookup(key_id)
    except KeyNotLoaded:
        return None
