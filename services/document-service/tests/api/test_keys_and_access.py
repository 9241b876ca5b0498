"""Signing keys (published, rotated) and access records (innsynslogg) in the audit trail."""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.audit_log import AuditLog
from document_service.adapters.signing_keys import (
    DEFAULT_KEY_FILE,
    KeyRegistry,
    SigningKeyError,
    load_signer,
)
from document_service.adapters.tables import audit_entries, signing_keys
from document_service.app.recording import Recorder
from document_service.app.sealing import open_sealed
from document_service.bootstrap import SERVICE
from document_service.config import DocumentServiceSettings
from document_service.wiring import records_access_events
from naervaer.auth.access import AccessRecord
from naervaer.dossier.keys import load_key_ring
from naervaer.dossier.verify import verify_dossier
from naervaer.envelope import Envelope
from naervaer.settings import PlatformSettings

from ..harness import CASE_EVENTS, DocumentApi, hosted_document_service
from ..story import CaseStory


def _new_key_file(path: Path) -> Path:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


async def test_the_embedded_key_is_created_once_and_private(api: DocumentApi) -> None:
    key_file = api.data_dir / DEFAULT_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    keys = (await api.client.get("/v1/audit/keys")).json()["keys"]
    assert [k["kid"] for k in keys] == [api.services.signer.key_id]
    assert keys[0]["kty"] == "OKP"
    assert keys[0]["crv"] == "Ed25519"
    assert keys[0]["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert load_signer(key_file).key_id == api.services.signer.key_id


async def test_a_rotated_key_leaves_old_entries_verifiable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = CaseStory()
    async with hosted_document_service(tmp_path) as before:
        await before.feed(story.opened(), story.sick_note())
        old = before.services.signer
    monkeypatch.setenv(
        "NAERVAER_DOCUMENT_SIGNING_KEY_FILE", str(_new_key_file(tmp_path / "new.pem"))
    )
    async with hosted_document_service(tmp_path) as after:
        new = after.services.signer
        assert new.key_id != old.key_id
        await after.feed(story.plan())

        verdict = (await after.get("/v1/audit/verify", role="auditor", sub="aud-1")).json()
        assert verdict["ok"] is True, verdict
        async with after.runtime.engine.connect() as conn:
            signed_by = set((await conn.execute(select(audit_entries.c.key_id))).scalars())
        assert signed_by == {old.key_id, new.key_id}

        keys = {k["kid"]: k for k in (await after.client.get("/v1/audit/keys")).json()["keys"]}
        assert keys[old.key_id]["status"] == "retired"
        assert keys[old.key_id]["not_after"]
        assert keys[new.key_id]["status"] == "active"
        assert keys[new.key_id]["not_after"] is None

        archive = await after.dossier(story.case_id)
        assert verify_dossier(archive, load_key_ring(keys[new.key_id]["pem"])).ok
        assert not verify_dossier(archive, load_key_ring(keys[old.key_id]["pem"])).ok

        # The retired key can no longer sign: an entry it seals now is named.
        stale = AuditLog(old, KeyRegistry(old))
        async with after.runtime.engine.begin() as tx:
            sequence = await stale.append(
                tx, tenant="acme", kind="test.forged", source_id="forged", case_id=None, data={}
            )
        problems = (await after.get("/v1/audit/verify", role="auditor", sub="aud-1")).json()[
            "problems"
        ]
        assert [(p["sequence"], p["problem"]) for p in problems] == [(sequence, "bad_signature")]


async def test_this_services_reads_are_sealed_as_access_records(api: DocumentApi) -> None:
    story = CaseStory()
    await api.feed(story.opened(), story.plan())
    document = await api.document_of(story.case_id, "follow_up_plan")
    assert (
        await api.get(f"/v1/documents/{document['document_id']}", role="nav", sub="nav-7")
    ).status_code == 200
    denied = await api.get(f"/v1/documents/{document['document_id']}", role="employee", sub="emp-9")
    assert denied.status_code == 403
    sealed = await _access_entries(api, story.case_id)
    assert ("nav-7", "read") in sealed
    assert ("emp-9", "denied") in sealed


async def test_access_records_of_other_services_are_sealed_once(api: DocumentApi) -> None:
    story = CaseStory()
    await api.feed(story.opened())
    record = AccessRecord(
        tenant="acme",
        subject="mgr-1",
        roles=["manager"],
        basis_role="manager",
        action="read",
        operation="read",
        resource="case",
        resource_id=story.case_id,
        case_id=story.case_id,
        at="2026-03-02T08:00:00Z",  # type: ignore[arg-type]
        reason="manages the case",
    )
    foreign = _access_envelope(record, source="/case-service")
    own = _access_envelope(
        record.model_copy(update={"subject": "self"}), source="/document-service"
    )
    recorder = _recorder(api)
    for envelope in (foreign, foreign, own):
        async with api.runtime.engine.begin() as tx:
            await recorder.access_record(tx, envelope)
    sealed = await _access_entries(api, story.case_id)
    assert sealed.count(("mgr-1", "read")) == 1
    assert ("self", "read") not in sealed


def test_access_events_are_consumed_only_where_they_can_be_delivered() -> None:
    embedded = PlatformSettings()
    kafka = PlatformSettings(kafka_bootstrap="127.0.0.1:9092")
    publisher = dataclasses.replace(SERVICE, key="x", publishes=("access-events",))
    auto, on, off = (DocumentServiceSettings(access_events=v) for v in ("auto", "on", "off"))
    assert not records_access_events(embedded, auto, {"document": SERVICE})
    assert records_access_events(embedded, auto, {"document": SERVICE, "x": publisher})
    assert not records_access_events(embedded, on, {"document": SERVICE})  # nothing to read
    assert records_access_events(kafka, on, {"document": SERVICE})
    assert not records_access_events(kafka, off, {"document": SERVICE, "x": publisher})


def _access_envelope(record: AccessRecord, *, source: str) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source=source,
        type="access.recorded",
        subject=record.resource_id,
        time=record.at,
        dataschema="urn:naervaer:schema:access.recorded:v1",
        data=record.model_dump(mode="json"),
        tenant=record.tenant,
        streamid=record.resource_id,
        streamversion=1,
    )


async def _access_entries(api: DocumentApi, case_id: str) -> list[tuple[str, str]]:
    async with api.runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_entries.c.content).where(
                audit_entries.c.case_id == case_id, audit_entries.c.kind == "access.recorded"
            )
        )
        sealed = [c["data"] for c in rows.scalars()]
    # Who read the case is sealed with the case's key in the trail; opened here to compare.
    assert all(data["subject"].startswith("pd1.") for data in sealed)
    opened = await open_sealed(api.runtime.vault, sealed)
    return [(data["subject"], data["action"]) for data in opened]


def _recorder(api: DocumentApi) -> Recorder:
    subscription = next(s for s in api.runtime.wiring.subscriptions if s.name == CASE_EVENTS)
    recorder = getattr(subscription.handler, "__self__", None)
    assert isinstance(recorder, Recorder)
    return recorder


def test_production_refuses_to_start_without_a_signing_key(tmp_path: Path) -> None:
    from naervaer.runtime import ServiceRuntime

    master_key = tmp_path / "master.key"
    master_key.write_bytes(os.urandom(32))
    production = PlatformSettings(
        data_dir=tmp_path, environment="production", master_key_file=master_key
    )
    with pytest.raises(SigningKeyError, match="NAERVAER_DOCUMENT_SIGNING_KEY_FILE"):
        ServiceRuntime(SERVICE, production, {SERVICE.key: SERVICE})
    assert not (tmp_path / DEFAULT_KEY_FILE).exists()


async def test_a_key_registered_in_a_transaction_that_rolls_back_is_registered_again(
    tmp_path: Path,
) -> None:
    """A consumer's batch appends several entries in one transaction: the second append sees
    the key row the first inserted. If the batch then rolls back, the row is gone, and the next
    transaction must insert it again (before the entries it signs), not trust the first."""
    async with hosted_document_service(tmp_path) as fresh:  # no entry, no key row yet
        signer = fresh.services.signer
        log = AuditLog(signer, KeyRegistry(signer))

        async def append(tx: AsyncConnection, source_id: str) -> None:
            await log.append(
                tx, tenant="acme", kind="test.entry", source_id=source_id, case_id=None, data={}
            )

        async def failed_batch() -> None:
            async with fresh.runtime.engine.begin() as tx:
                await append(tx, "first")
                await append(tx, "second")  # sees the key row its own transaction inserted
                raise RuntimeError("the batch failed")

        with pytest.raises(RuntimeError, match="the batch failed"):
            await failed_batch()
        async with fresh.runtime.engine.begin() as tx:
            await append(tx, "again")
        async with fresh.runtime.engine.connect() as conn:
            keys = (await conn.execute(select(signing_keys.c.key_id))).scalars().all()
            verdict = await log.verify(conn, "acme")
    assert keys == [signer.key_id]
    assert verdict.ok, verdict
