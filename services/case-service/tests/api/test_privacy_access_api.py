"""Who may use the privacy endpoints (HR; the export also the employee themself), that each
call is an access record, and the periodic erasure sweep driven by the development clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from naervaer.clock import ControlledClock
from naervaer.testing.pytest_plugin import temporary_database

from .hosting import CaseApi, hosted_case_service
from .privacy_world import call, case_of, set_retention, unique

pytestmark = pytest.mark.integration
FORBIDDEN = "urn:naervaer:problem:forbidden"
EMPLOYEE = "{employee}"
ENDPOINTS = [
    ("GET", "/v1/tenant/retention-policy", None),
    ("PUT", "/v1/tenant/retention-policy", {"months_after_close": 0}),
    ("PUT", f"/v1/employees/{EMPLOYEE}/legal-hold", {"reason": "Dispute"}),
    ("DELETE", f"/v1/employees/{EMPLOYEE}/legal-hold", None),
    ("GET", f"/v1/employees/{EMPLOYEE}/retention", None),
    ("POST", f"/v1/employees/{EMPLOYEE}/erasure", None),
    ("POST", "/v1/privacy/erasure-sweep", None),
    ("GET", f"/v1/employees/{EMPLOYEE}/personal-data", None),
]


@pytest.fixture(scope="module")
async def pg(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CaseApi]:
    async with (
        temporary_database(postgres_url) as url,
        hosted_case_service(tmp_path_factory.mktemp("case-privacy-roles"), database_url=url) as api,
    ):
        yield api


@pytest.mark.parametrize("role", ["manager", "auditor", "nav", "system", "employee"])
async def test_only_hr_uses_the_privacy_endpoints(pg: CaseApi, role: str) -> None:
    org, employee = unique("t"), unique("emp")
    await case_of(pg, org, employee)
    await set_retention(pg, org, 0)
    before = await pg.head()
    for method, path, body in ENDPOINTS:
        path = path.format(employee=employee)
        response = await call(pg, method, path, body, org=org, role=role, sub=unique("someone"))
        assert (response.status_code, response.json()["type"]) == (403, FORBIDDEN), path
    assert await pg.head() == before  # nothing written, nothing erased


async def test_the_employee_exports_their_own_data_only(pg: CaseApi) -> None:
    org, employee, colleague = unique("t"), unique("emp"), unique("emp")
    case_id = await case_of(pg, org, employee, closed_on=None)
    pg.access.clear()
    own = await call(pg, "GET", f"/v1/employees/{employee}/personal-data", org=org,
                     role="employee", sub=employee)  # fmt: skip
    other = await call(pg, "GET", f"/v1/employees/{colleague}/personal-data", org=org,
                       role="employee", sub=employee)  # fmt: skip
    assert own.status_code == 200, own.text
    assert [case["summary"]["case_id"] for case in own.json()["cases"]] == [case_id]
    assert (other.status_code, other.json()["type"]) == (403, FORBIDDEN)
    records = [(r.operation, r.resource, r.resource_id, r.basis_role) for r in pg.access]
    assert records == [
        ("export", "personal-data", employee, "employee"),
        ("export", "personal-data", colleague, None),
    ]
    assert pg.access[1].action == "denied"


async def test_another_tenant_sees_and_erases_nothing(pg: CaseApi) -> None:
    org, employee = unique("t"), unique("emp")
    case_id = await case_of(pg, org, employee)
    await set_retention(pg, org, 0)
    stranger = unique("t")
    export = await call(pg, "GET", f"/v1/employees/{employee}/personal-data", org=stranger)
    assert (export.json()["cases"], export.json()["employee_events"]) == ([], [])
    erase = await call(pg, "POST", f"/v1/employees/{employee}/erasure", org=stranger)
    assert erase.status_code == 404
    assert (await call(pg, "POST", "/v1/privacy/erasure-sweep", org=stranger)).json() == {
        "erased": []
    }
    case = await call(pg, "GET", f"/v1/cases/{case_id}", org=org)
    assert case.json()["employee_id"] == employee


async def test_the_periodic_sweep_erases_when_the_dev_clock_passes_the_date(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAERVAER_CASE_ERASURE_SWEEP_INTERVAL_S", "0.2")
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    async with (
        temporary_database(postgres_url) as url,
        hosted_case_service(tmp_path, clock=clock, database_url=url) as api,
    ):
        org, due, held = unique("t"), unique("emp"), unique("emp")
        await case_of(api, org, due)
        await case_of(api, org, held)
        await set_retention(api, org, 1)  # closed 2026-02-20: erasable from 2026-03-20
        hold = {"reason": "Dispute"}
        await call(api, "PUT", f"/v1/employees/{held}/legal-hold", hold, org=org)
        swept = await call(api, "POST", "/v1/privacy/erasure-sweep", org=org)
        assert swept.json() == {"erased": []}

        clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
        await _until_erased(api, org, due)
        held_status = await call(api, "GET", f"/v1/employees/{held}/retention", org=org)
        assert (held_status.json()["erased"], held_status.json()["legal_hold"]) == (False, True)


async def _until_erased(api: CaseApi, org: str, employee: str) -> None:
    deadline = time.monotonic() + 20
    path = f"/v1/employees/{employee}/retention"
    while not (await call(api, "GET", path, org=org)).json()["erased"]:
        assert time.monotonic() < deadline, "the sweep did not erase in time"
        await asyncio.sleep(0.05)
