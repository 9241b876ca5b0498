"""The employer's own records through HTTP: the employee's right to self-certify and the
tenant's case policy, and how both decide a self-certification."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from case_service.adapters.records import EmployeeRepository
from case_service.domain.employee import EmployeeRecord

from .hosting import CaseApi


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


async def self_certify(
    api: CaseApi, org: str, employee: str, case_id: str, start: str, end: str
) -> httpx.Response:
    return await api.post(
        f"/v1/cases/{case_id}/self-certifications",
        {"period_start": start, "period_end": end},
        role="employee",
        sub=employee,
        tenant=org,
    )


async def open_for(api: CaseApi, org: str, employee: str, first_day: str) -> str:
    response = await api.post(
        "/v1/cases",
        {
            "employee_id": employee,
            "manager_id": "mgr-1",
            "org_unit": "warehouse",
            "first_absence_day": first_day,
            "began_with": "self_certification",
        },
        tenant=org,
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


async def test_the_policy_has_defaults_until_set(api: CaseApi) -> None:
    org = tenant()
    url = f"/v1/tenants/{org}/case-policy"
    initial = await api.client.get(url, headers=api.auth(tenant=org))
    assert initial.json() == {
        "tenant": org,
        "version": 0,
        "self_certification_quota": "standard",
        "quota_breach": "refuse",
        "max_days_each": 3,
        "max_times": 4,
        "max_days_total": None,
    }
    assert initial.headers["ETag"] == '"0"'
    body = {"self_certification_quota": "ia", "quota_breach": "flag"}
    changed = await api.client.put(url, json=body, headers=api.auth(tenant=org))
    again = await api.client.put(url, json=body, headers=api.auth(tenant=org))
    assert (changed.json()["version"], again.json()["version"]) == (1, 1)  # no change recorded
    assert changed.json()["max_days_total"] == 24
    stale = await api.client.put(
        url,
        json={**body, "quota_breach": "refuse"},
        headers={**api.auth(tenant=org), "If-Match": '"0"'},
    )
    assert stale.status_code == 412
    assert await api.types(f"tenant:{org}") == ["tenant.case_policy_changed"]


async def test_a_policy_put_retried_returns_the_first_answer(api: CaseApi) -> None:
    org = tenant()
    url = f"/v1/tenants/{org}/case-policy"
    headers = {**api.auth(tenant=org), "Idempotency-Key": "p-1"}
    first = await api.client.put(
        url, json={"self_certification_quota": "ia", "quota_breach": "flag"}, headers=headers
    )
    await api.client.put(
        url,
        json={"self_certification_quota": "standard", "quota_breach": "flag"},
        headers=api.auth(tenant=org),
    )
    retry = await api.client.put(
        url, json={"self_certification_quota": "ia", "quota_breach": "flag"}, headers=headers
    )
    assert retry.json() == first.json()
    current = await api.client.get(url, headers=api.auth(tenant=org))
    assert current.json()["self_certification_quota"] == "standard"  # the retry changed nothing


async def test_the_quota_counts_across_cases_and_refuses_by_default(api: CaseApi) -> None:
    org, employee = tenant(), "emp-1"
    for month in ("02", "03", "04", "05"):
        case_id = await open_for(api, org, employee, f"2025-{month}-02")
        accepted = await self_certify(
            api, org, employee, case_id, f"2025-{month}-02", f"2025-{month}-03"
        )
        assert accepted.status_code == 200, accepted.text
    fifth = await open_for(api, org, employee, "2025-06-02")
    before = await api.head()
    refused = await self_certify(api, org, employee, fifth, "2025-06-02", "2025-06-02")
    assert (refused.status_code, refused.json()["rule"]) == (
        422,
        "self_certification_quota_exceeded",
    )
    assert await api.head() == before
    assert len(await api.stream(api.employee_stream(employee, org))) == 4


async def test_under_the_flag_policy_a_breach_is_accepted_and_flagged(api: CaseApi) -> None:
    org, employee = tenant(), "emp-1"
    await api.client.put(
        f"/v1/tenants/{org}/case-policy",
        json={"self_certification_quota": "standard", "quota_breach": "flag"},
        headers=api.auth(tenant=org),
    )
    case_id = await open_for(api, org, employee, "2026-02-02")
    response = await self_certify(api, org, employee, case_id, "2026-02-02", "2026-02-05")
    assert response.status_code == 200
    [_, registered] = await api.stream(case_id)
    assert registered.data["flagged"] is True
    assert registered.data["flag_reason"].startswith("self_certification_too_long")
    [used] = await api.stream(api.employee_stream(employee, org))
    assert used.data["flagged"] is True


async def test_a_withdrawn_right_refuses_self_certification_until_restored(api: CaseApi) -> None:
    org, employee = tenant(), "emp-1"
    right = f"/v1/employees/{employee}/self-certification"
    withdrawn = await api.post(f"{right}/withdraw", {"reason": "Misuse on Mondays."}, tenant=org)
    assert withdrawn.json() == {"employee_id": employee, "version": 1}
    assert withdrawn.headers["ETag"] == '"1"'
    twice = await api.post(f"{right}/withdraw", {"reason": "Again."}, tenant=org)
    assert twice.json()["rule"] == "self_certification_already_withdrawn"

    case_id = await open_for(api, org, employee, "2026-02-02")
    refused = await self_certify(api, org, employee, case_id, "2026-02-02", "2026-02-02")
    assert refused.json()["rule"] == "self_certification_withdrawn"

    restored = await api.post(f"{right}/restore", tenant=org, If_Match='"1"')
    assert restored.json() == {"employee_id": employee, "version": 2}
    accepted = await self_certify(api, org, employee, case_id, "2026-02-02", "2026-02-02")
    assert accepted.status_code == 200
    assert await api.types(api.employee_stream(employee, org)) == [
        "employee.self_certification_withdrawn",
        "employee.self_certification_restored",
        "employee.self_certification_used",
    ]


async def test_concurrent_self_certifications_in_two_cases_cannot_both_pass_the_quota(
    api: CaseApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, employee = tenant(), "emp-1"
    first, second = [await open_for(api, org, employee, "2026-02-02") for _ in range(2)]
    both_loaded = asyncio.Barrier(2)
    load = EmployeeRepository.get

    async def get_then_wait(self: EmployeeRepository, org: str, employee_id: str) -> EmployeeRecord:
        record = await load(self, org, employee_id)
        await both_loaded.wait()  # both decide on the same ledger
        return record

    monkeypatch.setattr(EmployeeRepository, "get", get_then_wait)
    responses = await asyncio.gather(
        self_certify(api, org, employee, first, "2026-02-02", "2026-02-03"),
        self_certify(api, org, employee, second, "2026-02-02", "2026-02-03"),
    )

    assert sorted(r.status_code for r in responses) == [200, 409]
    assert len(await api.stream(api.employee_stream(employee, org))) == 1
    registered = [len(await api.stream(case_id)) for case_id in (first, second)]
    assert sorted(registered) == [1, 2]  # the loser's case append was rolled back with it
