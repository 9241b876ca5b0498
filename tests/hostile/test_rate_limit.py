"""Writes are rate limited per client (token bucket, per process); reads never are."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from naervaer.http.ratelimit import TokenBuckets

from .hosting import QUIET_ENV, Platform, assert_clean_problem, hosted_platform, platform_settings
from .world import open_case

pytestmark = pytest.mark.integration

LIMIT = 5


@pytest.fixture(scope="module")
async def limited(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    """The case service with room for ``LIMIT`` writes a minute per client."""
    env = {**QUIET_ENV, "NAERVAER_RATE_LIMIT_WRITES_PER_MINUTE": str(LIMIT)}
    settings = platform_settings(tmp_path_factory.mktemp("rate-limited"))
    async with hosted_platform(settings, env, keys=("case",)) as hosted:
        yield hosted


def _case_body() -> dict[str, Any]:
    return {
        "employee_id": f"emp-{uuid.uuid4().hex[:8]}",
        "manager_id": "mgr-1",
        "org_unit": "warehouse",
        "first_absence_day": "2026-01-05",
    }


async def _open(platform: Platform, headers: dict[str, str]) -> httpx.Response:
    return await platform.clients["case"].post("/v1/cases", json=_case_body(), headers=headers)


async def _spend_budget(platform: Platform, headers: dict[str, str]) -> None:
    statuses = [(await _open(platform, headers)).status_code for _ in range(LIMIT + 1)]
    assert statuses[-1] == 429, statuses


async def test_a_burst_over_the_limit_is_429_with_retry_after(limited: Platform) -> None:
    hr = limited.auth("hr", sub=f"hr-{uuid.uuid4().hex[:6]}")
    answers = [await _open(limited, hr) for _ in range(LIMIT)]
    assert [a.status_code for a in answers] == [201] * LIMIT
    refused = await _open(limited, hr)
    problem = assert_clean_problem(refused, 429)
    assert problem["type"] == "urn:naervaer:problem:rate-limited"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60 // LIMIT


async def test_reads_are_never_limited(limited: Platform) -> None:
    hr = limited.auth("hr", sub=f"hr-{uuid.uuid4().hex[:6]}")
    case = await open_case(limited, tenant="acme")
    await _spend_budget(limited, hr)
    reads = [
        await limited.clients["case"].get(f"/v1/cases/{case.case_id}", headers=hr)
        for _ in range(4 * LIMIT)
    ]
    assert {r.status_code for r in reads} == {200}


async def test_each_client_has_its_own_budget(limited: Platform) -> None:
    sub = f"hr-{uuid.uuid4().hex[:6]}"
    spender = limited.auth("hr", sub=sub)
    await _spend_budget(limited, spender)
    other_person = limited.auth("hr", sub=f"{sub}-colleague")
    same_name_other_tenant = limited.auth("hr", sub=sub, tenant="globex")
    assert (await _open(limited, other_person)).status_code == 201
    assert (await _open(limited, same_name_other_tenant)).status_code == 201


async def test_forged_tokens_are_counted_against_the_address(limited: Platform) -> None:
    # Without a valid token the client is its IP address: minting junk subjects buys nothing.
    answers = [
        await _open(limited, {"Authorization": f"Bearer forged.{uuid.uuid4().hex}.sig"})
        for _ in range(LIMIT + 1)
    ]
    statuses = [a.status_code for a in answers]
    assert set(statuses[:LIMIT]) <= {401, 429}
    assert statuses[-1] == 429


async def test_the_429_is_documented_on_writes_only(limited: Platform) -> None:
    document = (await limited.clients["case"].get("/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            documented = "429" in operation["responses"]
            assert documented == (method in ("post", "put", "patch", "delete")), (method, path)


def test_a_bucket_refills_at_the_limit_per_minute() -> None:
    now = [0.0]
    buckets = TokenBuckets(6, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6
    assert buckets.take("a") == pytest.approx(10.0)  # one token every 60/6 seconds
    now[0] += 10.0
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0  # another client, a full bucket
    now[0] += 3600.0
    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6  # never more than the burst
    assert buckets.take("a") > 0


def test_the_buckets_forget_the_least_recent_clients_first() -> None:
    buckets = TokenBuckets(1, clock=lambda: 0.0, max_clients=2)
    for key in ("a", "b", "c"):
        assert buckets.take(key) == 0.0
    assert buckets.take("a") == 0.0  # "a" was forgotten: a full bucket again
    assert buckets.take("c") > 0
