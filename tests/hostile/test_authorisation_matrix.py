"""Every operation of every service, every role, three targets (own case, another manager's
case, another tenant's case): no unauthorised read or write, ever.

A request counts as authorised when it answers 2xx. The expected decision comes from
``naervaer.auth.policy`` (operations on a case) or the explicit ``TENANT_LEVEL`` table
(``matrix.py``). A refusal must be 403 or 404, and 404 for another tenant's case; an allowed
read of a case must succeed, and no allowed request may be refused by the policy. No 2xx answer
may carry anything of the other tenant, and the other tenant's records must come out unchanged.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from naervaer.auth.policy import CaseRef, Decision
from naervaer.auth.principal import Principal

from .hosting import ROLES, SUBJECTS, Platform
from .matrix import (
    LISTING,
    PUBLIC,
    TARGETS,
    TENANT_LEVEL,
    Operation,
    disagreements,
    expected_on_case,
    operations,
    principal,
    read_or_write,
)
from .matrix_world import OTHER, OWN, World, build_world, case_ref, fresh_targets, request_for

pytestmark = pytest.mark.integration

FORBIDDEN_TYPE = "urn:naervaer:problem:forbidden"
# The case service last: its writes get new cases each, which the others' listings (and
# their access records, one per listed case) would then have to wade through.
SERVICES = ("deadline", "notification", "document", "case")


@pytest.fixture(scope="module")
async def world(platform: Platform) -> World:
    return await build_world(platform)


@pytest.mark.parametrize("service", SERVICES)
async def test_no_role_reads_or_writes_beyond_the_policy(
    platform: Platform, world: World, service: str
) -> None:
    document = (await platform.clients[service].get("/openapi.json")).json()
    ops = list(operations(service, document))
    unclassified = [op.key for op in ops if not op.on_a_case and op.key not in TENANT_LEVEL]
    assert not unclassified, f"classify these in matrix.TENANT_LEVEL: {unclassified}"
    violations: list[str] = []
    tried = 0
    for op in ops:
        fresh = await _fresh(platform, world, op)
        for role in ROLES:
            for target in TARGETS:
                found = await _try(platform, world, op, role, target, fresh)
                violations.extend(found)
                tried += 1
    world.sizes[service] = tried
    print(f"\nauthorisation matrix {service}: {len(ops)} operations, {len(ROLES)} roles, 3 targets")
    assert tried == len(ops) * len(ROLES) * len(TARGETS)
    assert not violations, "\n".join(violations)
    await world.assert_other_tenant_untouched(platform)


async def _fresh(platform: Platform, world: World, op: Operation) -> dict[str, Any] | None:
    """A reassignment gets new cases: once the manager allowed to reassign has done so, the
    'own case' would no longer be theirs for every operation after it. Other writes (closing
    included) leave the targets' owners alone, and the policy is asked before any rule."""
    if op.service == "case" and op.path.endswith("/reassign-manager"):
        return dict(await fresh_targets(platform, world))
    return None


async def _try(
    platform: Platform,
    world: World,
    op: Operation,
    role: str,
    target: str,
    fresh: dict[str, Any] | None,
) -> list[str]:
    caller = principal(role, SUBJECTS[role], OWN)
    cases = fresh or world.cases
    request = request_for(world, op, role, target, cases)
    action = read_or_write(op, request.json) if op.on_a_case else None
    if op.on_a_case:
        ref = await case_ref(platform, world, cases[target])
        expected = expected_on_case(caller, ref, action)
    else:
        tenant = OTHER if "{tenant}" in op.path and target == TARGETS[2] else OWN
        expected = TENANT_LEVEL[op.key](caller, tenant, request.params)
    response = await request.send(platform.clients[op.service], platform.token(role, tenant=OWN))
    if op.on_a_case and op.writes and response.is_success:
        world.changed(cases[target].case_id)
    where = f"{op.method.upper()} {op.path} as {role} on {target}: {response.status_code}"
    found = _judge(op, target, expected, response, where)
    found += disagreements(op, action) if action is not None else []
    found += world.leaks(response, where)
    if expected is LISTING and response.status_code == 200:
        found += _listed_beyond_policy(caller, op, response, where)
    return found


def _judge(
    op: Operation, target: str, expected: Decision, response: httpx.Response, where: str
) -> list[str]:
    status = response.status_code
    ok = 200 <= status < 300
    if expected is PUBLIC or expected is LISTING:
        return [] if ok else [f"{where}: should answer anyone"]
    if not expected.allowed:
        if ok:
            return [f"{where}: UNAUTHORISED ({expected.reason})"]
        if op.on_a_case and target == TARGETS[2] and status != 404:
            return [f"{where}: another tenant's case must look unknown (404)"]
        return [] if status in (403, 404) else [f"{where}: a refusal must be 403 or 404"]
    refused_by_policy = status == 401 or (status == 403 and _type(response) == FORBIDDEN_TYPE)
    if refused_by_policy:
        return [f"{where}: refused although the policy allows ({expected.reason})"]
    if op.on_a_case and not op.writes and not ok:
        return [f"{where}: an allowed read of a case failed"]
    return []


def _listed_beyond_policy(
    caller: Principal, op: Operation, response: httpx.Response, where: str
) -> list[str]:
    from naervaer.auth.policy import can_read_case

    items = response.json()["items" if op.service == "case" else "obligations"]
    refs = {
        i["case_id"]: CaseRef(caller.tenant, i["case_id"], i["employee_id"], i["manager_id"], "")
        for i in items
    }
    return [
        f"{where}: lists {case_id}, which the policy does not let the caller read"
        for case_id, ref in refs.items()
        if not can_read_case(caller, ref).allowed
    ]


def _type(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    kind = response.json().get("type")
    return kind if isinstance(kind, str) else None
