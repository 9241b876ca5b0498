"""The read routes in a hosted case service: role filters, cross-tenant rule, access records.

The service runs with only its read side wired (the write side is wired by `wiring`); state is
set up by appending events to its event store, and its own consumer projects them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

import case_service.read_side
from case_service.adapters.tables import consumers, event_store, metadata, read_models
from case_service.config import CaseServiceSettings
from case_service.read_side import read_side
from naervaer.auth.access import AccessRecord
from naervaer.auth.devkeys import mint_token
from naervaer.migrations import migrations_dir
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec
from naervaer.settings import PlatformSettings

from .builders import append, closed, note, opened, reassigned, self_cert

pytestmark = pytest.mark.integration

SPEC = ServiceSpec(
    name="case-service",
    key="case",
    title="case service (read side only)",
    description="test host",
    default_port=0,
    settings_cls=CaseServiceSettings,
    metadata=metadata,
    migrations_dir=migrations_dir(case_service.read_side.__file__),
    wire=read_side,
    event_store=event_store,
    consumer_tables=consumers,
    publishes=("case-events",),
    consumes=("case-events",),
)
NOW = datetime(2026, 1, 28, 11, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class Host:
    runtime: ServiceRuntime
    client: httpx.AsyncClient
    records: list[AccessRecord]
    data_dir: Path

    def auth(self, role: str, sub: str, tenant: str = "acme") -> dict[str, str]:
        token = mint_token(self.data_dir, tenant=tenant, roles=[role], sub=sub)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, role: str, sub: str, **kw: Any) -> httpx.Response:
        return await self.client.get(
            path, headers=self.auth(role, sub, kw.pop("tenant", "acme")), **kw
        )

    async def listed(self, role: str, sub: str, tenant: str = "acme", **params: Any) -> list[str]:
        response = await self.get("/v1/cases", role, sub, tenant=tenant, params=params)
        assert response.status_code == 200, response.text
        return [item["case_id"] for item in response.json()["items"]]


async def seed(host: Host) -> None:
    store = host.runtime.store
    assert store is not None
    await append(
        store,
        [
            opened("2026-01-05", case_id="c1", employee="e1", manager="m1"),
            note("n1", "2026-01-05", "2026-01-31", case_id="c1"),
        ],
    )
    await append(
        store,
        [
            opened("2026-01-12", case_id="c2", employee="e2", manager="m1", unit="office"),
            self_cert("2026-01-12", "2026-01-14", case_id="c2"),
            reassigned("m1", "m2", "2026-01-20", case_id="c2"),
        ],
    )
    await append(
        store,
        [
            opened("2026-01-12", case_id="c3", employee="e3", manager="m2"),
            note("n1", "2026-01-12", "2026-01-16", 50, case_id="c3"),
            closed("2026-01-16", case_id="c3"),
        ],
    )
    await append(
        store, [opened("2026-01-05", case_id="g1", employee="e1", manager="m1")], tenant="globex"
    )
    await projected(host, rows=4, position=await store.head_position())


async def projected(host: Host, *, rows: int, position: int) -> None:
    """Wait (with a deadline) until the service's own consumer has projected the log."""
    table = read_models.case_summaries
    deadline = time.monotonic() + 20
    while True:
        async with host.runtime.engine.connect() as connection:
            count = (await connection.execute(select(func.count()).select_from(table))).scalar()
            versions = (await connection.execute(select(func.sum(table.c.version)))).scalar()
        if count == rows and versions == position:
            return
        assert time.monotonic() < deadline, "the summaries were not projected in time"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def host(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Host]:
    data_dir = tmp_path_factory.mktemp("case-read")
    platform = PlatformSettings(data_dir=data_dir, consumer_poll_interval_s=0.05)
    runtime = ServiceRuntime(SPEC, platform, {"case": SPEC}, clock=FixedClock())
    async with runtime.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    records: list[AccessRecord] = []

    async def record(entry: AccessRecord) -> None:
        records.append(entry)

    runtime.app.state.access_recorder = record
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(runtime.app.router.lifespan_context(runtime.app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=runtime.app), base_url="http://case.test"
            )
        )
        hosted = Host(runtime, client, records, data_dir)
        await seed(hosted)
        yield hosted


@pytest.mark.parametrize(
    ("role", "sub", "tenant", "expected"),
    [
        ("hr", "hr-1", "acme", ["c3", "c2", "c1"]),
        ("auditor", "au-1", "acme", ["c3", "c2", "c1"]),
        ("nav", "nav-1", "acme", ["c3", "c2", "c1"]),
        ("bht", "bht-1", "acme", ["c3", "c2", "c1"]),
        ("employee", "e1", "acme", ["c1"]),  # not globex's g1, though it is also "e1"
        ("manager", "m1", "acme", ["c1"]),  # c2 moved to m2
        ("manager", "m2", "acme", ["c3", "c2"]),
        ("employee", "nobody", "acme", []),
        ("hr", "hr-9", "globex", ["g1"]),
    ],
)
async def test_each_role_lists_what_it_may_see(
    host: Host, role: str, sub: str, tenant: str, expected: list[str]
) -> None:
    assert await host.listed(role, sub, tenant) == expected


async def test_a_listing_records_one_access_per_listed_case(host: Host) -> None:
    host.records.clear()
    assert await host.listed("manager", "m2") == ["c3", "c2"]
    assert [
        (r.resource, r.resource_id, r.case_id, r.action, r.basis_role) for r in host.records
    ] == [
        ("case_summary", "c3", "c3", "read", "manager"),
        ("case_summary", "c2", "c2", "read", "manager"),
    ]
    host.records.clear()
    assert await host.listed("employee", "nobody") == []
    assert host.records == []


async def test_filters_and_cursor_pages(host: Host) -> None:
    assert await host.listed("hr", "hr-1", org_unit="warehouse", status="open") == ["c1"]
    assert await host.listed("hr", "hr-1", manager_id="m2") == ["c3", "c2"]
    first = await host.get("/v1/cases", "hr", "hr-1", params={"limit": 2})
    body = first.json()
    assert [i["case_id"] for i in body["items"]] == ["c3", "c2"]
    rest = await host.listed("hr", "hr-1", limit=2, cursor=body["next_cursor"])
    assert rest == ["c1"]
    bad = await host.get("/v1/cases", "hr", "hr-1", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["location"] == "query.cursor"


async def test_the_summary_of_one_case(host: Host) -> None:
    response = await host.get("/v1/cases/c1/summary", "employee", "e1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["ETag"] == '"2"'
    assert (body["case_start"], body["latest_known_day"], body["current_grade"]) == (
        "2026-01-05",
        "2026-01-31",
        100,
    )
    assert (body["days_absent"], body["days_absent_to_date"], body["as_of"]) == (
        27,
        24,
        "2026-01-28",
    )
    assert (body["employer_period_end"], body["plan_version"], body["status"]) == (
        "2026-01-20",
        0,
        "open",
    )
    graded = (await host.get("/v1/cases/c3/summary", "hr", "hr-1")).json()
    assert (graded["status"], graded["current_grade"], graded["days_absent"]) == ("closed", 50, 5)


async def test_the_summary_refuses_whom_the_policy_refuses(host: Host) -> None:
    host.records.clear()
    refused = await host.get("/v1/cases/c2/summary", "manager", "m1")  # no longer their case
    assert refused.status_code == 403
    assert [(r.action, r.case_id) for r in host.records] == [("denied", "c2")]
    foreign = await host.get("/v1/cases/c1/summary", "hr", "hr-9", tenant="globex")
    assert foreign.status_code == 404  # says nothing about another tenant's case
    assert (await host.get("/v1/cases/nope/summary", "hr", "hr-1")).status_code == 404
    assert (await host.client.get("/v1/cases")).status_code == 401


async def test_absence_statistics_for_hr(host: Host) -> None:
    params = {"org_unit": "warehouse", "from": "2026-01-01", "to": "2026-01-31", "headcount": 10}
    response = await host.get("/v1/statistics/absence", "hr", "hr-1", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    # c1: 5-31 Jan at 100 % (20 workdays); c3: 12-16 Jan at 50 % (5 workdays).
    assert (body["workdays"], body["available_workdays"]) == (22, 220)
    assert (body["days_lost"], body["absence_rate_percent"]) == (22.5, 10.23)
    assert body["short_absences"] == {"count": 1, "days": 5}
    assert body["long_absences"] == {"count": 1, "days": 27}
    assert (body["self_certified_days"], body["doctor_certified_days"]) == (0, 32)
    assert body["repeated_absence"] == []
    other = {**params, "org_unit": "office"}
    office = (await host.get("/v1/statistics/absence", "auditor", "au-1", params=other)).json()
    assert office["self_certified_days"] == 3
    assert office["absence_rate_percent"] == round(100 * 3 / 220, 2)


async def test_absence_statistics_refusals_and_validation(host: Host) -> None:
    params = {"org_unit": "warehouse", "from": "2026-01-01", "to": "2026-01-31"}
    for role in ("manager", "employee", "nav"):
        response = await host.get("/v1/statistics/absence", role, "m1", params=params)
        assert response.status_code == 403, role
    backwards = {**params, "from": "2026-02-01"}
    bad = await host.get("/v1/statistics/absence", "hr", "hr-1", params=backwards)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["location"] == "query.to"
    missing = await host.get("/v1/statistics/absence", "hr", "hr-1", params={"from": "2026-01-01"})
    assert missing.status_code == 422
    other_tenant = await host.get(
        "/v1/statistics/absence", "hr", "hr-9", tenant="globex", params=params
    )
    assert other_tenant.json()["long_absences"] == {"count": 0, "days": 0}
