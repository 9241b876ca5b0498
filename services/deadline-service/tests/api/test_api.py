"""The deadline API role by role: timelines, the worklist, managers' calendars, the dev clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from deadline_service.bootstrap import SERVICE
from naervaer.auth.devkeys import ensure_dev_key, mint_token
from naervaer.migrations import upgrade
from naervaer.runtime import ServiceRuntime
from naervaer.settings import PlatformSettings

from ..builders import CaseScript
from ..conftest import CaseLog, project

TODAY = datetime(2018, 2, 20, 9, tzinfo=ZoneInfo("Europe/Oslo"))


def _case(case_id: str, manager: str, employee: str, unit: str) -> CaseScript:
    case = CaseScript("2018-01-01", case_id=case_id)
    opened = case.events[0].payload.model_copy(  # type: ignore[attr-defined]
        update={"manager_id": manager, "employee_id": employee, "org_unit": unit}
    )
    case.events[0] = type(case.events[0])(case.events[0].event_id, opened)
    case.note("2018-01-01", "2018-12-31")
    return case


class Api:
    def __init__(self, client: httpx.AsyncClient, data_dir: Path) -> None:
        self.client = client
        self.data_dir = data_dir

    async def get(
        self, path: str, role: str, sub: str, tenant: str = "acme", **params: Any
    ) -> httpx.Response:
        token = mint_token(self.data_dir, tenant=tenant, roles=[role], sub=sub)
        return await self.client.get(
            path, params=params, headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture
async def api(tmp_path: Path, case_log: CaseLog) -> AsyncIterator[Api]:
    runtime = ServiceRuntime(SERVICE, PlatformSettings(data_dir=tmp_path), {"deadline": SERVICE})
    await upgrade(SERVICE, runtime.target)
    await runtime.vault.install()
    for case in (
        _case("case-a", "mgr-1", "emp-1", "warehouse"),
        _case("case-b", "mgr-2", "emp-2", "office"),
    ):
        await case_log.append(case.case_id, [e.payload for e in case.events])
    await case_log.append(
        "case-x", [e.payload for e in _case("case-x", "mgr-9", "emp-9", "x").events], tenant="other"
    )
    await project(runtime.engine, await case_log.envelopes(), keys=runtime.vault)
    runtime.clock.set(TODAY)  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://deadline.test") as client:
        yield Api(client, tmp_path)
    await runtime.engine.dispose()
    await runtime.vault.dispose()


@pytest.mark.parametrize(
    ("role", "sub", "tenant", "status"),
    [
        ("hr", "hr-1", "acme", 200),
        ("manager", "mgr-1", "acme", 200),  # manages the case
        ("manager", "mgr-2", "acme", 403),  # someone else's case
        ("employee", "emp-1", "acme", 200),  # own case
        ("employee", "emp-2", "acme", 403),
        ("nav", "nav-1", "acme", 200),  # dialogmøte 2, aktivitetskrav
        ("auditor", "aud-1", "acme", 200),
        ("bht", "bht-1", "acme", 200),
        ("hr", "hr-9", "other", 404),  # another tenant: as if it did not exist
    ],
)
async def test_timeline_access_role_by_role(
    api: Api, role: str, sub: str, tenant: str, status: int
) -> None:
    response = await api.get("/v1/cases/case-a/timeline", role, sub, tenant)
    assert response.status_code == status, response.text


async def test_the_timeline_has_every_obligation_with_its_status_today(api: Api) -> None:
    body = (await api.get("/v1/cases/case-a/timeline", "hr", "hr-1")).json()
    assert body["case_id"] == "case-a"
    found = {o["kind"]: o for o in body["obligations"]}
    assert next(iter(found)) == "employer_period_end"
    assert len(found) == 13
    assert found["follow_up_plan"] == {
        "kind": "follow_up_plan",
        "due_date": "2018-01-28",
        "status": "overdue",
        "responsible": "employer",
        "legal_basis": "aml § 4-6 (3)",
        "fulfilled_by": None,
    }
    assert found["dialogue_meeting_1"]["status"] == "overdue"  # due 18 February
    assert found["activity_requirement"]["status"] == "due_soon"  # due 25 February
    assert found["employer_period_end"]["status"] == "fulfilled"


async def test_unknown_case_and_missing_token(api: Api) -> None:
    assert (await api.get("/v1/cases/nope/timeline", "hr", "hr-1")).status_code == 404
    response = await api.client.get("/v1/cases/case-a/timeline")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def _cases(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {o["case_id"] for o in response.json()["obligations"]}


async def test_the_worklist_shows_each_role_what_it_may_see(api: Api) -> None:
    assert _cases(await api.get("/v1/obligations", "hr", "hr-1")) == {"case-a", "case-b"}
    assert _cases(await api.get("/v1/obligations", "auditor", "a-1")) == {"case-a", "case-b"}
    assert _cases(await api.get("/v1/obligations", "nav", "n-1")) == {"case-a", "case-b"}
    assert _cases(await api.get("/v1/obligations", "manager", "mgr-1")) == {"case-a"}
    assert _cases(await api.get("/v1/obligations", "employee", "emp-2")) == {"case-b"}
    assert _cases(await api.get("/v1/obligations", "hr", "hr-9", tenant="other")) == {"case-x"}
    other = await api.get("/v1/obligations", "manager", "mgr-1", manager_id="mgr-2")
    assert other.status_code == 403


async def test_the_worklist_filters(api: Api) -> None:
    overdue = await api.get(
        "/v1/obligations", "hr", "hr-1", status="overdue", responsible="employer"
    )
    assert {(o["case_id"], o["kind"]) for o in overdue.json()["obligations"]} == {
        ("case-a", "follow_up_plan"),
        ("case-a", "dialogue_meeting_1"),
        ("case-b", "follow_up_plan"),
        ("case-b", "dialogue_meeting_1"),
    }
    assert overdue.json()["today"] == "2018-02-20"
    office = await api.get(
        "/v1/obligations", "hr", "hr-1", org_unit="office", due_before="2018-02-01"
    )
    assert {o["kind"] for o in office.json()["obligations"]} == {
        "employer_period_end",
        "follow_up_plan",
    }
    mine = await api.get("/v1/obligations", "hr", "hr-1", manager_id="mgr-2")
    assert _cases(mine) == {"case-b"}
    bad = await api.get("/v1/obligations", "hr", "hr-1", status="late")
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("role", "sub", "status"),
    [
        ("manager", "mgr-1", 200),
        ("hr", "hr-1", 200),
        ("manager", "mgr-2", 403),
        ("employee", "emp-1", 403),
        ("auditor", "a-1", 403),
    ],
)
async def test_the_calendar_is_for_the_manager_and_hr(
    api: Api, role: str, sub: str, status: int
) -> None:
    response = await api.get("/v1/managers/mgr-1/deadlines.ics", role, sub)
    assert response.status_code == status


async def test_the_calendar_lists_the_open_deadlines(api: Api) -> None:
    response = await api.get("/v1/managers/mgr-1/deadlines.ics", "manager", "mgr-1")
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "UID:case-a.follow_up_plan.20180128@naervaer" in text
    assert "DTSTART;VALUE=DATE:20180128" in text
    assert "case-b" not in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    # the pending ones: not the reached employer period end, nor the undated plan_to_doctor
    # and dialogue_meeting_3
    assert text.count("BEGIN:VEVENT") == 10
    assert "employer_period_end" not in text


async def test_the_openapi_documents_the_kinds(api: Api) -> None:
    schema = (await api.client.get("/openapi.json")).json()
    kind = schema["components"]["schemas"]["ObligationKind"]
    assert kind["enum"][0] == "employer_period_end"
    assert len(kind["enum"]) == 13
    assert "aml § 4-6 (3)" in kind["description"]


async def test_the_dev_clock_moves_in_development(api: Api) -> None:
    assert (await api.client.get("/v1/dev/clock")).json()["now"].startswith("2018-02-20")
    moved = await api.client.put("/v1/dev/clock", json={"now": "2018-03-01T12:00:00+01:00"})
    assert moved.status_code == 200
    assert moved.json()["now"].startswith("2018-03-01")
    timeline = (await api.get("/v1/cases/case-a/timeline", "hr", "hr-1")).json()
    statuses = {o["kind"]: o["status"] for o in timeline["obligations"]}
    assert statuses["activity_requirement"] == "overdue"
    naive = await api.client.put("/v1/dev/clock", json={"now": "2018-03-01T12:00:00"})
    assert naive.status_code == 422


async def test_no_dev_clock_in_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAERVAER_AUTH_PUBLIC_KEY_PEM", ensure_dev_key(tmp_path).public_key_pem)
    master_key = tmp_path / "master.key"
    master_key.write_bytes(os.urandom(32))
    platform = PlatformSettings(
        data_dir=tmp_path, environment="production", master_key_file=master_key
    )
    runtime = ServiceRuntime(SERVICE, platform, {"deadline": SERVICE})
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://deadline.test") as client:
        assert (await client.get("/v1/dev/clock")).status_code == 404
        put = await client.put("/v1/dev/clock", json={"now": "2018-03-01T12:00:00+01:00"})
        assert put.status_code in (404, 405)
    await runtime.engine.dispose()
