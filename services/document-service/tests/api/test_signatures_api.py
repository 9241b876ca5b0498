"""Parties read and sign (or refuse) document versions with their own identity."""

from __future__ import annotations

from typing import Any

from naervaer.contracts import CONTRACTS
from naervaer.contracts.document import DocumentSignaturesMissing, DocumentSigned
from naervaer.dossier.canonical import canonical_bytes, sha256_hex
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING

from ..harness import DocumentApi
from ..story import CaseStory


async def _plan(
    api: DocumentApi, story: CaseStory | None = None
) -> tuple[CaseStory, dict[str, Any]]:
    story = story or CaseStory()
    await api.feed(story.opened(), story.sick_note(), story.plan())
    return story, await api.document_of(story.case_id, "follow_up_plan")


def _sign_path(document: dict[str, Any], version: int = 1) -> str:
    return f"/v1/documents/{document['document_id']}/versions/{version}/signatures"


def _refuse_path(document: dict[str, Any], version: int = 1) -> str:
    return f"/v1/documents/{document['document_id']}/versions/{version}/refusals"


async def _document(api: DocumentApi, document: dict[str, Any]) -> dict[str, Any]:
    response = await api.get(f"/v1/documents/{document['document_id']}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_plan_becomes_a_document_waiting_for_both_parties(any_api: DocumentApi) -> None:
    story, document = await _plan(any_api)
    (version,) = document["versions"]
    assert version["missing"] == ["employee", "manager"]
    assert [(p["role"], p["party_id"], p["status"]) for p in version["parties"]] == [
        ("employee", "emp-1", "missing"),
        ("manager", "mgr-1", "missing"),
    ]
    read = await any_api.get(f"/v1/documents/{document['document_id']}/versions/1")
    content = read.json()["content"]
    assert sha256_hex(canonical_bytes(content)) == version["document_hash"]
    assert content["body"]["plan"]["typical_workday"].startswith("Picking orders")

    assert any_api.runtime.store is not None
    published = await _published(any_api, document["document_id"])
    assert [e.type for e in published] == ["document.version_stored", "document.signatures_missing"]
    missing = CONTRACTS.payload(published[1])
    assert isinstance(missing, DocumentSignaturesMissing)
    assert [(m.role, m.party_id) for m in missing.missing] == [
        ("employee", "emp-1"),
        ("manager", "mgr-1"),
    ]
    assert missing.case_id == story.case_id


async def test_both_parties_sign_exactly_what_they_read(any_api: DocumentApi) -> None:
    _, document = await _plan(any_api)
    digest = {"document_hash": document["versions"][0]["document_hash"]}

    employee = await any_api.post(_sign_path(document), digest, role="employee", sub="emp-1")
    assert employee.status_code == 201, employee.text
    assert employee.json()["role"] == "employee"
    assert employee.json()["document_hash"] == digest["document_hash"]
    assert (await _document(any_api, document))["versions"][0]["missing"] == ["manager"]

    manager = await any_api.post(_sign_path(document), digest, role="manager", sub="mgr-1")
    assert manager.status_code == 201, manager.text
    version = (await _document(any_api, document))["versions"][0]
    assert version["missing"] == []
    assert {d["signer_id"] for d in version["decisions"]} == {"emp-1", "mgr-1"}

    again = await any_api.post(_sign_path(document), digest, role="employee", sub="emp-1")
    assert again.status_code == 200  # a retry returns the first signature
    assert again.json() == employee.json()

    assert any_api.runtime.store is not None
    published = await _published(any_api, document["document_id"])
    signed = [CONTRACTS.payload(e) for e in published if e.type == "document.signed"]
    assert [(s.role, s.remaining_roles) for s in signed if isinstance(s, DocumentSigned)] == [
        ("employee", ["manager"]),
        ("manager", []),
    ]


async def test_a_signature_over_another_hash_is_refused(any_api: DocumentApi) -> None:
    _, document = await _plan(any_api)
    response = await any_api.post(
        _sign_path(document), {"document_hash": "0" * 64}, role="employee", sub="emp-1"
    )
    assert response.status_code == 409
    assert response.json()["rule"] == "document_hash_mismatch"
    assert (await _document(any_api, document))["versions"][0]["decisions"] == []


async def test_only_the_parties_named_on_the_document_sign(any_api: DocumentApi) -> None:
    _, document = await _plan(any_api)
    digest = {"document_hash": document["versions"][0]["document_hash"]}
    hr = await any_api.post(_sign_path(document), digest, role="hr", sub="hr-1")
    assert hr.status_code == 403
    assert hr.json()["rule"] == "not_a_party"  # HR may write, but is not a party to sign
    assert "hr-1" not in hr.text  # no caller's id in a problem: it ends up in logs
    stranger = await any_api.post(_sign_path(document), digest, role="employee", sub="emp-2")
    assert stranger.status_code == 403  # the policy: not the employee's own case
    nav = await any_api.post(_sign_path(document), digest, role="nav", sub="nav-1")
    assert nav.status_code == 403
    assert (await _document(any_api, document))["versions"][0]["decisions"] == []


async def test_a_refusal_is_recorded_with_its_comment(any_api: DocumentApi) -> None:
    _, document = await _plan(any_api)
    refusal = await any_api.post(
        _refuse_path(document),
        {"comment": "The plan does not mention the lifting limit."},
        role="employee",
        sub="emp-1",
    )
    assert refusal.status_code == 201, refusal.text
    assert refusal.json()["decision"] == "refused"
    version = (await _document(any_api, document))["versions"][0]
    assert version["missing"] == ["employee", "manager"]
    assert version["parties"][0]["status"] == "refused"
    assert version["decisions"][0]["comment"] == "The plan does not mention the lifting limit."

    digest = {"document_hash": version["document_hash"]}
    late = await any_api.post(_sign_path(document), digest, role="employee", sub="emp-1")
    assert late.status_code == 409
    assert late.json()["rule"] == "already_decided"
    empty = await any_api.post(_refuse_path(document), {"comment": ""}, role="manager", sub="mgr-1")
    assert empty.status_code == 422


async def test_a_new_version_needs_new_signatures(any_api: DocumentApi) -> None:
    story, document = await _plan(any_api)
    digest = {"document_hash": document["versions"][0]["document_hash"]}
    for role, sub in (("employee", "emp-1"), ("manager", "mgr-1")):
        assert (
            await any_api.post(_sign_path(document), digest, role=role, sub=sub)
        ).status_code == 201
    await any_api.feed(story.plan(2, "2026-02-20", follow_up="Talk every second week."))

    versions = (await _document(any_api, document))["versions"]
    assert [(v["version"], v["missing"]) for v in versions] == [
        (1, []),
        (2, ["employee", "manager"]),
    ]
    assert versions[0]["document_hash"] != versions[1]["document_hash"]
    stale = await any_api.post(_sign_path(document, 2), digest, role="employee", sub="emp-1")
    assert stale.status_code == 409  # they read version 1, not version 2


async def test_the_new_manager_signs_after_a_reassignment(any_api: DocumentApi) -> None:
    story, document = await _plan(any_api)
    await any_api.feed(story.manager_reassigned("mgr-2"))
    digest = {"document_hash": document["versions"][0]["document_hash"]}

    old = await any_api.post(_sign_path(document), digest, role="manager", sub="mgr-1")
    assert old.status_code == 403
    new = await any_api.post(_sign_path(document), digest, role="manager", sub="mgr-2")
    assert new.status_code == 201, new.text

    assert any_api.runtime.store is not None
    published = await _published(any_api, document["document_id"])
    reminders = [CONTRACTS.payload(e) for e in published if e.type == "document.signatures_missing"]
    last = reminders[-1]
    assert isinstance(last, DocumentSignaturesMissing)
    assert ("manager", "mgr-2") in [(m.role, m.party_id) for m in last.missing]


async def test_an_auditor_reads_and_verifies_but_never_changes(any_api: DocumentApi) -> None:
    story, document = await _plan(any_api)
    digest = {"document_hash": document["versions"][0]["document_hash"]}
    auditor = {"role": "auditor", "sub": "aud-1"}

    assert (
        await any_api.get(f"/v1/documents/{document['document_id']}", **auditor)
    ).status_code == 200
    verify = await any_api.get("/v1/audit/verify", **auditor)
    assert verify.status_code == 200
    assert verify.json()["ok"] is True, verify.json()
    assert (await any_api.get(f"/v1/cases/{story.case_id}/dossier", **auditor)).status_code == 200

    assert (await any_api.post(_sign_path(document), digest, **auditor)).status_code == 403
    refusal = await any_api.post(_refuse_path(document), {"comment": "no"}, **auditor)
    assert refusal.status_code == 403
    upload = await any_api.client.post(
        f"/v1/cases/{story.case_id}/documents/{document['document_id']}/attachments",
        files={"file": ("x.pdf", b"%PDF-1.7\n", "application/pdf")},
        headers=any_api.auth(**auditor),
    )
    assert upload.status_code == 403
    assert (await _document(any_api, document))["versions"][0]["decisions"] == []
    assert (await _document(any_api, document))["attachments"] == []


async def test_another_tenant_sees_nothing(any_api: DocumentApi) -> None:
    _, document = await _plan(any_api)
    response = await any_api.get(f"/v1/documents/{document['document_id']}", tenant="other")
    assert response.status_code == 404
    unknown = await any_api.get("/v1/documents/no-such-document")
    assert unknown.status_code == 404


async def test_a_refusal_comment_may_not_carry_a_diagnosis(any_api: DocumentApi) -> None:
    _, document = await _plan(any_api)
    refusal = await any_api.post(
        _refuse_path(document),
        {"comment": "I cannot sign while my F32.1 is being treated."},
        role="employee",
        sub="emp-1",
    )
    assert refusal.status_code == 422, refusal.text
    assert refusal.json()["type"] == "urn:naervaer:problem:diagnosis_not_allowed"
    assert (await _document(any_api, document))["versions"][0]["decisions"] == []


async def _published(api: DocumentApi, document_id: str) -> list[Envelope]:
    """The document's events as stored (personal fields sealed), keys loaded to decode them."""
    assert api.runtime.store is not None
    published = await api.runtime.store.read_stream(document_id)
    assert all(e.data.get("signer_id", "pd1.").startswith("pd1.") for e in published)
    await KEYRING.load(published, api.runtime.vault)
    return list(published)
