"""The export of an employee's personal data (innsyn, GDPR art. 15): its content, who may ask
for it, that each call is an access record, and that nothing is held after erasure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from deadline_service.adapters.scheduler import DeadlineScheduler
from deadline_service.bootstrap import SERVICE
from naervaer.auth.access import ACCESS_RECORDED, AccessRecord
from naervaer.auth.devkeys import mint_token
from naervaer.contracts import CONTRACTS
from naervaer.contracts.employee import PersonalDataErased
from naervaer.migrations import upgrade
from naervaer.runtime import ServiceRuntime
from naervaer.settings import PlatformSettings

from ..builders import CaseScript
from ..conftest import CaseLog, project

TODAY = datetime(2018, 2, 20, 9, tzinfo=ZoneInfo("Europe/Oslo"))
PATH = "/v1/employees/emp-1/personal-data"


def _case(case_id: str, employee_id: str, manager_id: str) -> CaseScript:
    case = CaseScript("2018-01-01", case_id=case_id, employee_id=employee_id, manager_id=manager_id)
    case.note("2018-01-01", "2018-12-31")
    return case


@dataclass
class Hosted:
    runtime: ServiceRuntime
    client: httpx.AsyncClient
    case_log: CaseLog
    data_dir: Path
    key_id: str  # emp-1's key in acme

    async def get(
        self, role: str, sub: str, tenant: str = "acme", path: str = PATH
    ) -> httpx.Response:
        token = mint_token(self.data_dir, tenant=tenant, roles=[role], sub=sub)
        return await self.client.get(path, headers={"Authorization": f"Bearer {token}"})

    async def access_records(self) -> list[AccessRecord]:
        assert self.runtime.store is not None
        envelopes = await self.runtime.store.read_all(0, 100_000)
        found = [CONTRACTS.payload(e) for e in envelopes if e.type == ACCESS_RECORDED]
        return [record for record in found if isinstance(record, AccessRecord)]


@pytest.fixture
async def hosted(tmp_path: Path, case_log: CaseLog) -> AsyncIterator[Hosted]:
    runtime = ServiceRuntime(SERVICE, PlatformSettings(data_dir=tmp_path), {"deadline": SERVICE})
    await upgrade(SERVICE, runtime.target)
    await runtime.vault.install()
    mine = _case("case-a", "emp-1", "mgr-1")
    key_id = await case_log.append_sealed("case-a", mine.payloads(), runtime.vault, "emp-1")
    colleague = _case("case-b", "emp-2", "mgr-2")
    await case_log.append_sealed("case-b", colleague.payloads(), runtime.vault, "emp-2")
    namesake = _case("case-x", "emp-1", "mgr-9")  # the same id in another tenant: another person
    await case_log.append_sealed(
        "case-x", namesake.payloads(), runtime.vault, "emp-1", tenant="other"
    )
    await project(runtime.engine, await case_log.envelopes(), keys=runtime.vault)
    runtime.clock.set(TODAY)  # type: ignore[attr-defined]
    scheduler = runtime.wiring.state["scheduler"]
    assert isinstance(scheduler, DeadlineScheduler)
    assert await scheduler.tick() > 0  # some notices sent, later ones pending
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://deadline.test") as client:
        yield Hosted(runtime, client, case_log, tmp_path, key_id)
    await runtime.engine.dispose()
    await runtime.vault.dispose()


async def test_hr_gets_everything_held_about_the_employee(hosted: Hosted) -> None:
    response = await hosted.get("hr", "hr-1")

    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("service", "tenant", "employee_id", "today")} == {
        "service": "deadline-service",
        "tenant": "acme",
        "employee_id": "emp-1",
        "today": "2018-02-20",
    }
    assert datetime.fromisoformat(body["generated_at"]).date() == date(2018, 2, 20)
    (case,) = body["cases"]
    assert {k: case[k] for k in ("case_id", "manager_id", "org_unit", "case_start")} == {
        "case_id": "case-a",
        "manager_id": "mgr-1",
        "org_unit": "warehouse",
        "case_start": "2018-01-01",
    }
    assert len(case["sick_pay_days"]) > 0
    statuses = {o["kind"]: (o["due_date"], o["status"]) for o in case["obligations"]}
    assert len(statuses) == 13
    assert statuses["follow_up_plan"] == ("2018-01-28", "overdue")
    assert statuses["employer_period_end"][1] == "fulfilled"
    _assert_notices(case["notices"])


def _assert_notices(notices: list[dict[str, Any]]) -> None:
    by_stage = {(n["kind"], n["stage"]): n for n in notices}
    sent = by_stage[("follow_up_plan", "overdue")]
    assert sent["status"] == "sent"
    assert sent["fire_on"] == "2018-01-29"
    assert sent["event_id"] is not None
    assert sent["sent_at"] is not None
    pending = by_stage[("max_date", "approaching")]
    assert (pending["status"], pending["sent_at"], pending["event_id"]) == ("pending", None, None)
    assert {n["status"] for n in notices} == {"sent", "pending"}


@pytest.mark.parametrize(
    ("role", "sub", "status"),
    [
        ("hr", "hr-1", 200),
        ("employee", "emp-1", 200),  # their own data
        ("employee", "emp-2", 403),  # a colleague's
        ("manager", "mgr-1", 403),  # even the employee's own manager
        ("auditor", "aud-1", 403),
        ("nav", "nav-1", 403),
        ("bht", "bht-1", 403),
        ("system", "svc-1", 403),
    ],
)
async def test_the_export_is_for_hr_and_the_employee_themself(
    hosted: Hosted, role: str, sub: str, status: int
) -> None:
    response = await hosted.get(role, sub)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "cases" not in response.json()
        # The problem names the parameter, never the employee it was about.
        assert response.json()["instance"] == "/v1/employees/{employee_id}/personal-data"
        assert "emp-1" not in response.text


async def test_another_tenant_gets_nothing_of_this_one(hosted: Hosted) -> None:
    """Employee ids are per tenant: HR of another tenant asking for "emp-1" is told about
    their own emp-1 only, and a tenant that holds nothing gets an empty answer, not 404."""
    other = await hosted.get("hr", "hr-9", tenant="other")
    assert other.status_code == 200
    assert [case["case_id"] for case in other.json()["cases"]] == ["case-x"]
    assert "case-a" not in other.text
    assert "mgr-1" not in other.text
    third = await hosted.get("hr", "hr-3", tenant="third")
    assert third.status_code == 200
    assert third.json()["cases"] == []
    assert (await hosted.client.get(PATH)).status_code == 401


async def test_every_export_is_an_access_record(hosted: Hosted) -> None:
    await hosted.get("employee", "emp-1")
    await hosted.get("manager", "mgr-1")

    records = [r for r in await hosted.access_records() if r.operation == "export"]
    assert [(r.subject, r.basis_role, r.action == "denied") for r in records] == [
        ("emp-1", "employee", False),
        ("mgr-1", None, True),
    ]
    assert {(r.tenant, r.resource, r.resource_id) for r in records} == {
        ("acme", "personal-data", "emp-1")
    }


async def test_nothing_is_held_once_the_employee_is_erased(hosted: Hosted) -> None:
    await hosted.runtime.vault.shred(hosted.key_id)
    erased = PersonalDataErased(
        key_id=hosted.key_id,
        case_ids=["case-a"],
        erased_on=date(2022, 1, 3),
        basis="retention_expired",
        retention_months=36,
        last_closed_on=date(2018, 12, 31),
    )
    await hosted.case_log.append("employee-stream-1", [erased])
    latest = (await hosted.case_log.envelopes())[-1:]
    await project(hosted.runtime.engine, latest, keys=hosted.runtime.vault)

    response = await hosted.get("hr", "hr-1")
    assert response.status_code == 200
    assert response.json()["cases"] == []
    colleague = (await hosted.get("hr", "hr-1", path="/v1/employees/emp-2/personal-data")).json()
    assert [case["case_id"] for case in colleague["cases"]] == ["case-b"]


async def test_the_openapi_documents_the_export(hosted: Hosted) -> None:
    schema = (await hosted.client.get("/openapi.json")).json()
    operation = schema["paths"]["/v1/employees/{employee_id}/personal-data"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PersonalDataOut"
    }
    assert {"401", "403", "422"} <= set(operation["responses"])
    notice = schema["components"]["schemas"]["NoticeOut"]["properties"]["status"]
    assert notice["enum"] == ["pending", "sent", "withheld"]
