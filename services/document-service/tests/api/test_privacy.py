"""Crypto-shredding in the document service: the audit trail and the published events hold
personal data sealed only; an erasure leaves no plaintext in any table, the trail still
verifies and nothing comes back; the export shows the employee everything held (PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select

from document_service.adapters.parties import CasePartiesProjection, case_record
from document_service.adapters.tables import audit_entries, document_versions, metadata
from naervaer.messaging import Outcome, rebuild

from ..adapters.test_parties_rebuild import CaseLog
from ..harness import DocumentApi
from ..privacy import PrivateCase


async def _leaks(api: DocumentApi, markers: list[str]) -> dict[str, list[str]]:
    """Which marker appears in plaintext in which table (every row, every column)."""
    found: dict[str, list[str]] = {}
    async with api.runtime.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = "\n".join(repr(tuple(row)) for row in await conn.execute(select(table)))
            hits = [marker for marker in markers if marker in rows]
            if hits:
                found[table.name] = hits
    return found


async def _chain(api: DocumentApi, tenant: str) -> str:
    async with api.runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_entries.c.content).where(audit_entries.c.tenant == tenant)
        )
        return json.dumps(list(rows.scalars()), ensure_ascii=False)


async def _verified(api: DocumentApi, tenant: str) -> dict[str, Any]:
    response = await api.get("/v1/audit/verify", role="auditor", sub="aud-1", tenant=tenant)
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


async def _erase(case: PrivateCase) -> str:
    vault = case.api.runtime.vault
    key_id = await vault.live_key_id(case.tenant, case.employee)
    assert key_id is not None
    await vault.shred(key_id)  # the case service destroys the key, then publishes the erasure
    assert await case.api.feed(await case.erasure(key_id)) == [Outcome.HANDLED]
    return key_id


async def test_the_trail_and_the_events_hold_no_plaintext(pg_api: DocumentApi) -> None:
    case = PrivateCase(pg_api)
    await case.tell()
    read = await pg_api.get(
        f"/v1/cases/{case.story.case_id}/documents", "employee", case.employee, case.tenant
    )
    assert read.status_code == 200, read.text
    chain = await _chain(pg_api, case.tenant)
    assert [m for m in case.markers if m in chain] == []
    assert '"subject": "pd1.' in chain  # who read the case: sealed with the case's key
    leaks = await _leaks(pg_api, case.markers)
    # Before erasure only the working tables hold plaintext; the record and the events never do.
    assert set(leaks) <= {"case_parties", "blobs", "signatures", "attachments"}, leaks
    assert (await _verified(pg_api, case.tenant))["ok"] is True


async def test_an_erasure_leaves_no_plaintext_and_the_trail_verifies(pg_api: DocumentApi) -> None:
    case = PrivateCase(pg_api)
    await case.tell()
    await _erase(case)

    assert await _leaks(pg_api, case.markers) == {}
    verdict = await _verified(pg_api, case.tenant)
    assert verdict["ok"] is True, verdict
    case_id = case.story.case_id
    for path in (f"/v1/cases/{case_id}/dossier", f"/v1/cases/{case_id}/documents"):
        response = await pg_api.get(path, tenant=case.tenant)
        assert response.status_code == 410, response.text
        assert response.json()["type"].endswith("case_erased")


async def test_nothing_comes_back_after_an_erasure(pg_api: DocumentApi) -> None:
    case = PrivateCase(pg_api)
    events = await case.tell()
    await _erase(case)
    async with pg_api.runtime.engine.connect() as conn:
        before = (await conn.execute(select(func.count()).select_from(document_versions))).one()

    # A redelivery under a new id (a replay) and a rebuild of the parties from the case log.
    replayed = [e.model_copy(update={"id": uuid.uuid4()}) for e in events]
    assert await pg_api.feed(*replayed) == [Outcome.HANDLED] * len(events)
    log = CaseLog([*events, await case.erasure("0" * 32)])
    projection = CasePartiesProjection()
    await rebuild(projection, pg_api.runtime.engine, pg_api.runtime.consumer_tables, log)

    async with pg_api.runtime.engine.connect() as conn:
        after = (await conn.execute(select(func.count()).select_from(document_versions))).one()
        assert await case_record(conn, case.story.case_id) is None
    assert after == before
    assert await _leaks(pg_api, case.markers) == {}
    document = await pg_api.get(f"/v1/cases/{case.story.case_id}/documents", tenant=case.tenant)
    assert document.status_code == 410


async def test_the_export_shows_everything_held_to_hr_and_the_employee(
    pg_api: DocumentApi,
) -> None:
    case = PrivateCase(pg_api)
    await case.tell()
    path = f"/v1/employees/{case.employee}/personal-data"
    response = await pg_api.get(path, role="hr", sub="hr-1", tenant=case.tenant)
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["service"] == "document-service"
    assert (export["tenant"], export["employee_id"]) == (case.tenant, case.employee)
    assert [c["case_id"] for c in export["cases"]] == [case.story.case_id]
    plan = next(d for d in export["documents"] if d["kind"] == "follow_up_plan")
    assert plan["latest_body"]["plan"]["typical_workday"] == f"Workday {case.mark}"
    assert [v["version"] for v in plan["versions"]] == [1]
    assert len(plan["versions"][0]["document_hash"]) == 64
    decided = {(d["signer_id"], d["decision"], d["comment"]) for d in export["signatures"]}
    assert decided == {
        (case.employee, "signed", None),
        (case.manager, "refused", f"Comment {case.mark}"),
    }
    (attachment,) = export["attachments"]
    assert (attachment["filename"], attachment["uploaded_by"]) == (
        f"scan-{case.mark}.png",
        case.manager,
    )
    assert "content" not in attachment
    who = {(a["subject"], a["operation"], a["resource"]) for a in export["access_log"]}
    assert (case.employee, "sign", "document") in who
    assert (case.manager, "attach_document", "document") in who
    assert ("hr-1", "read", "documents") in who

    own = await pg_api.get(path, role="employee", sub=case.employee, tenant=case.tenant)
    assert own.status_code == 200, own.text
    assert own.json()["cases"] == export["cases"]
    for role, sub in (("employee", "emp-other"), ("manager", case.manager), ("auditor", "a-1")):
        refused = await pg_api.get(path, role=role, sub=sub, tenant=case.tenant)
        assert refused.status_code == 403, (role, refused.text)

    # The export itself is in the trail, the employee's id sealed.
    chain = await _chain(pg_api, case.tenant)
    assert '"resource": "personal-data"' in chain
    assert case.employee not in chain


async def test_the_export_of_nothing_is_an_answer(pg_api: DocumentApi) -> None:
    case = PrivateCase(pg_api)
    await case.tell()
    await _erase(case)
    response = await pg_api.get(
        f"/v1/employees/{case.employee}/personal-data", role="hr", tenant=case.tenant
    )
    assert response.status_code == 200, response.text
    export = response.json()
    assert all(export[name] == [] for name in ("cases", "documents", "signatures", "attachments"))
    assert export["access_log"] == []
    assert await _leaks(pg_api, case.markers) == {}
