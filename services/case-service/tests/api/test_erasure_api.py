"""Crypto-shredding end to end on PostgreSQL: personal fields are sealed at rest and opened in
the export; erasure is refused by name (open case, legal hold, retention not passed) and, once
allowed, destroys the key: the raw events stay, nothing personal can be read from them, the
summaries are deleted and the case answers 410 (``case_erased``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from naervaer.testing.pytest_plugin import temporary_database

from .hosting import CaseApi, hosted_case_service
from .privacy_world import (
    call,
    case_of,
    raw_events_holding,
    raw_events_of,
    set_retention,
    summarised,
    unique,
)

pytestmark = pytest.mark.integration
ERASED = "[erased]"


@pytest.fixture(scope="module")
async def pg(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CaseApi]:
    async with (
        temporary_database(postgres_url) as url,
        hosted_case_service(tmp_path_factory.mktemp("case-privacy"), database_url=url) as api,
    ):
        yield api


async def test_personal_fields_are_sealed_at_rest_and_the_export_opens_them(pg: CaseApi) -> None:
    org, employee = unique("t"), unique("emp")
    case_id = await case_of(pg, org, employee, closed_on=None)
    reason, dispute = unique("Misuse on Mondays"), unique("Dispute before the court")
    right = f"/v1/employees/{employee}/self-certification/withdraw"
    assert (await call(pg, "POST", right, {"reason": reason}, org=org)).status_code == 200
    hold = f"/v1/employees/{employee}/legal-hold"
    placed = await call(pg, "PUT", hold, {"reason": dispute}, org=org)
    assert placed.json() == {"employee_id": employee, "legal_hold": True, "version": 2}

    for plaintext in (employee, reason, dispute):
        assert await raw_events_holding(pg, plaintext) == 0, plaintext
    [opened, *_] = await pg.stream(case_id)
    assert opened.data["employee_id"].startswith("pd1.")

    export = await call(pg, "GET", f"/v1/employees/{employee}/personal-data", org=org)
    assert export.status_code == 200, export.text
    body = export.json()
    assert (body["service"], body["tenant"], body["legal_hold"]) == ("case-service", org, True)
    [case] = body["cases"]
    assert case["summary"]["case_id"] == case_id
    assert case["events"][0]["data"]["employee_id"] == employee
    reasons = [e["data"].get("reason") for e in body["employee_events"]]
    assert reasons == [reason, dispute]
    history = await call(pg, "GET", f"/v1/cases/{case_id}/events", org=org)
    assert history.json()["events"][0]["data"]["employee_id"] == employee


async def test_erasure_is_refused_naming_the_rule(pg: CaseApi) -> None:
    org, employee = unique("t"), unique("emp")
    erase = f"/v1/employees/{employee}/erasure"
    case_id = await case_of(pg, org, employee, closed_on=None)
    await set_retention(pg, org, 0)
    still_open = await call(pg, "POST", erase, org=org)
    assert (still_open.status_code, still_open.json()["rule"]) == (409, "case_open")
    assert still_open.json()["open_cases"] == [case_id]

    closing = {"closed_on": "2026-02-20", "reason": "returned_to_work"}
    await call(pg, "POST", f"/v1/cases/{case_id}/close", closing, org=org)
    await summarised(pg, org, case_id, "closed")
    await set_retention(pg, org, 36)
    too_soon = (await call(pg, "POST", erase, org=org)).json()
    assert (too_soon["status"], too_soon["rule"]) == (409, "retention_not_elapsed")
    assert too_soon["erasable_from"] == "2029-02-20"
    assert "erasable from 2029-02-20" in too_soon["detail"]

    await set_retention(pg, org, 0)
    hold = {"reason": "Dispute"}
    await call(pg, "PUT", f"/v1/employees/{employee}/legal-hold", hold, org=org)
    held = (await call(pg, "POST", erase, org=org)).json()
    assert (held["status"], held["rule"]) == (409, "legal_hold")
    status = (await call(pg, "GET", f"/v1/employees/{employee}/retention", org=org)).json()
    assert status == {
        "open_cases": [],
        "closed_cases": [{"case_id": case_id, "closed_on": "2026-02-20"}],
        "last_closed_on": "2026-02-20",
        "erasable_from": "2026-02-20",
        "months_after_close": 0,
        "legal_hold": True,
        "erased": False,
    }
    nobody = await call(pg, "POST", f"/v1/employees/{unique('emp')}/erasure", org=org)
    assert (nobody.status_code, nobody.json()["rule"]) == (404, "nothing_held")


async def test_erasure_destroys_the_key_and_leaves_nothing_personal(pg: CaseApi) -> None:
    org, employee = unique("t"), unique("emp")
    first = await case_of(pg, org, employee, closed_on="2026-01-20")
    second = await case_of(pg, org, employee)
    await set_retention(pg, org, 0)
    stored = await raw_events_of(pg, second)

    erased = await call(pg, "POST", f"/v1/employees/{employee}/erasure", org=org)
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["case_ids"] == sorted([first, second])
    assert body["erased_on"] == "2026-03-02"
    assert (await pg.runtime.vault.keys([body["key_id"]])) == {body["key_id"]: None}

    assert await raw_events_of(pg, second) == stored  # the events stay, unreadable
    await summarised(pg, org, second, None)
    case = await call(pg, "GET", f"/v1/cases/{second}", org=org)
    assert (case.status_code, case.json()["rule"]) == (410, "case_erased")
    history = await call(pg, "GET", f"/v1/cases/{second}/events", org=org)
    assert history.status_code == 410
    reopen = {"absence_start": "2026-03-01", "began_with": "sick_note"}
    refused = await call(pg, "POST", f"/v1/cases/{second}/reopen", reopen, org=org)
    assert (refused.status_code, refused.json()["rule"]) == (410, "case_erased")
    listing = await call(pg, "GET", "/v1/cases", org=org)
    assert listing.json()["items"] == []

    export = (await call(pg, "GET", f"/v1/employees/{employee}/personal-data", org=org)).json()
    assert export["cases"] == []
    assert export["retention"]["erased"] is True
    [event] = export["employee_events"]
    assert event["type"] == "employee.personal_data_erased"
    export.pop("employee_id")  # the request's own path parameter, echoed
    assert employee not in json.dumps(export)
    again = await call(pg, "POST", f"/v1/employees/{employee}/erasure", org=org)
    assert (again.status_code, again.json()["rule"]) == (404, "nothing_held")


async def test_a_new_case_after_erasure_gets_a_new_key(pg: CaseApi) -> None:
    org, employee = unique("t"), unique("emp")
    await case_of(pg, org, employee)
    await set_retention(pg, org, 0)
    old_key = (await call(pg, "POST", f"/v1/employees/{employee}/erasure", org=org)).json()
    new_case = await case_of(pg, org, employee, closed_on=None)
    [opened] = await pg.stream(new_case)
    assert old_key["key_id"] not in opened.data["employee_id"]
    case = await call(pg, "GET", f"/v1/cases/{new_case}", org=org)
    assert case.json()["employee_id"] == employee
    status = (await call(pg, "GET", f"/v1/employees/{employee}/retention", org=org)).json()
    assert (status["open_cases"], status["erased"]) == ([new_case], True)
