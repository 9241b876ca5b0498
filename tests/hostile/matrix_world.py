"""The world the authorisation matrix runs in: two tenants, the cases the targets name, and
the request each operation makes (path, query and body filled in per role and target)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from naervaer.auth.policy import CaseRef

from .hosting import START, SUBJECTS, Platform
from .matrix import TARGETS, Operation
from .world import CaseAt, open_case, projected, with_plan

OWN, OTHER = "acme-matrix", "globex-matrix"
OWN_CASE, OTHER_MANAGERS, OTHER_TENANTS = TARGETS
OTHER_PERSON = {"display_name": "Globex Hemmelig Person", "email": "hemmelig@globex.example"}
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

STATIC_BODIES: dict[tuple[str, str, str], dict[str, Any]] = {
    ("deadline", "put", "/v1/dev/clock"): {"now": START.isoformat()},
    ("notification", "put", "/v1/recipients/{party_id}"): {
        "display_name": "Matrix Person",
        "email": "matrix@example.com",
    },
    ("notification", "post", "/v1/test-send"): {"party_id": "emp-1", "channel": "email"},
    ("notification", "put", "/v1/policy"): {},
    ("notification", "put", "/v1/templates/{name}/{language}"): {
        "subject": "Test",
        "text": "Test.",
        "html": "<p>Test.</p>",
        "sms": "Test.",
    },
}
QUERIES: dict[tuple[str, str, str], dict[str, str]] = {
    ("case", "get", "/v1/statistics/absence"): {
        "org_unit": "warehouse-north",
        "from": "2026-01-01",
        "to": "2026-03-31",
    },
}
NAMED = {
    "employee_id": ("emp-1", "emp-2", "emp-globex"),
    "manager_id": ("mgr-1", "mgr-2", "mgr-globex"),
    "version": ("1", "1", "1"),
    "name": ("test_message",) * 3,
    "language": ("nb",) * 3,
}
"""Path parameters by target (own case, other manager's, other tenant's)."""


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: dict[str, Any] | None = None
    multipart: bool = False

    async def send(self, client: httpx.AsyncClient, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        files = {"file": ("matrix.pdf", PDF, "application/pdf")} if self.multipart else None
        return await client.request(
            self.method, self.path, params=self.query, json=self.json, files=files, headers=headers
        )


@dataclass
class World:
    cases: dict[str, CaseAt]
    documents: dict[str, dict[str, Any]]
    deliveries: dict[str, str]
    markers: set[str]
    other_state: dict[str, Any] = field(default_factory=dict)
    other_fresh: list[str] = field(default_factory=list)
    refs: dict[str, CaseRef] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def changed(self, case_id: str) -> None:
        """A write on the case succeeded: its manager may have changed."""
        self.refs.pop(case_id, None)

    def leaks(self, response: httpx.Response, where: str) -> list[str]:
        """Anything of the other tenant in a successful answer to this tenant's caller."""
        if not 200 <= response.status_code < 300:
            return []
        text = response.content.decode("utf-8", "replace")
        return [f"{where}: shows {m!r} of the other tenant" for m in self.markers if m in text]

    async def assert_other_tenant_untouched(self, platform: Platform) -> None:
        assert await _other_tenant_state(platform, self) == self.other_state
        for case_id in self.other_fresh:
            read = await _as_other(platform, "case", f"/v1/cases/{case_id}")
            assert read["version"] == 1, f"a write reached the other tenant's case {case_id}"


async def build_world(platform: Platform) -> World:
    cases = {
        OWN_CASE: await open_case(platform, tenant=OWN, employee_id="emp-1", manager_id="mgr-1"),
        OTHER_MANAGERS: await open_case(
            platform, tenant=OWN, employee_id="emp-2", manager_id="mgr-2"
        ),
        OTHER_TENANTS: await open_case(
            platform, tenant=OTHER, employee_id="emp-1", manager_id="mgr-1"
        ),
    }
    documents = {target: await with_plan(platform, case) for target, case in cases.items()}
    for case in cases.values():
        await projected(platform, case)
    other_hr = platform.auth("hr", tenant=OTHER)
    put = await platform.clients["notification"].put(
        "/v1/recipients/party-globex", json=OTHER_PERSON, headers=other_hr
    )
    assert put.status_code == 200, put.text
    deliveries = {
        OWN: await _test_send(platform, OWN, "emp-1"),
        OTHER: await _test_send(platform, OTHER, "party-globex"),
    }
    other = cases[OTHER_TENANTS]
    markers = {other.case_id, documents[OTHER_TENANTS]["document_id"], deliveries[OTHER]}
    markers |= set(OTHER_PERSON.values())
    world = World(cases, documents, deliveries, markers)
    world.other_state = await _other_tenant_state(platform, world)
    return world


async def fresh_targets(platform: Platform, world: World) -> dict[str, CaseAt]:
    """New cases for one write operation, so earlier writes (a reassignment, a closing) do not
    change who the targets belong to."""
    fresh = {
        OWN_CASE: await open_case(platform, tenant=OWN, employee_id="emp-1", manager_id="mgr-1"),
        OTHER_MANAGERS: await open_case(
            platform, tenant=OWN, employee_id="emp-2", manager_id="mgr-2"
        ),
        OTHER_TENANTS: await open_case(
            platform, tenant=OTHER, employee_id="emp-1", manager_id="mgr-1"
        ),
    }
    world.other_fresh.append(fresh[OTHER_TENANTS].case_id)
    world.markers.add(fresh[OTHER_TENANTS].case_id)
    return fresh


async def case_ref(platform: Platform, world: World, case: CaseAt) -> CaseRef:
    """The case as the policy sees it now (its current manager), read as the system once and
    again after each write that succeeded on it (``World.changed``)."""
    if case.case_id in world.refs:
        return world.refs[case.case_id]
    response = await platform.clients["case"].get(
        f"/v1/cases/{case.case_id}", headers=platform.auth("system", tenant=case.tenant)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    ref = CaseRef(
        case.tenant, case.case_id, body["employee_id"], body["manager_id"], body["org_unit"]
    )
    world.refs[case.case_id] = ref
    return ref


def request_for(
    world: World, op: Operation, role: str, target: str, cases: dict[str, CaseAt]
) -> Request:
    index = TARGETS.index(target)
    params = {name: _param(world, name, index, role, target, cases) for name in _names(op.path)}
    path = op.path.format(**params)
    query = QUERIES.get(op.key, {})
    content = op.spec.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return Request(op.method.upper(), path, params, query, multipart=True)
    body = _body(world, op, target, content) if content else None
    return Request(op.method.upper(), path, params, query, body)


def _param(
    world: World, name: str, index: int, role: str, target: str, cases: dict[str, CaseAt]
) -> str:
    if name == "case_id":
        return cases[target].case_id
    if name == "document_id":
        return str(world.documents[target]["document_id"])
    if name == "tenant":
        return OTHER if target == OTHER_TENANTS else OWN
    if name == "party_id":
        return (SUBJECTS[role], "emp-2", "party-globex")[index]
    if name == "delivery_id":
        return world.deliveries[OTHER if target == OTHER_TENANTS else OWN]
    if name in NAMED:
        return NAMED[name][index]
    return "x-1"  # a sick note, meeting, adjustment or request the case does not have


def _body(world: World, op: Operation, target: str, content: dict[str, Any]) -> dict[str, Any]:
    example = content.get("application/json", {}).get("examples", {}).get("example", {})
    if "value" in example:
        return dict(example["value"])
    if op.key in STATIC_BODIES:
        return STATIC_BODIES[op.key]
    document_hash = world.documents[target]["versions"][0]["document_hash"]
    if op.path.endswith("/signatures"):
        return {"document_hash": document_hash}
    if op.path.endswith("/refusals"):
        return {"comment": "Not agreed.", "document_hash": document_hash}
    raise LookupError(f"no request body for {op.key}: add one to STATIC_BODIES")


def _names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


async def _test_send(platform: Platform, tenant: str, party: str) -> str:
    response = await platform.clients["notification"].post(
        "/v1/test-send",
        json={"party_id": party, "channel": "email"},
        headers=platform.auth("hr", tenant=tenant),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["delivery_id"])


async def _as_other(platform: Platform, service: str, path: str) -> Any:
    response = await platform.clients[service].get(
        path, headers=platform.auth("system", tenant=OTHER)
    )
    assert response.status_code == 200, (path, response.text)
    return response.json()


async def _other_tenant_state(platform: Platform, world: World) -> dict[str, Any]:
    other = world.cases[OTHER_TENANTS]
    document = world.documents[OTHER_TENANTS]["document_id"]
    paths = {
        "case": ("case", f"/v1/cases/{other.case_id}"),
        "case policy": ("case", f"/v1/tenants/{OTHER}/case-policy"),
        "person": ("notification", "/v1/recipients/party-globex"),
        "policy": ("notification", "/v1/policy"),
        "templates": ("notification", "/v1/templates"),
        "document": ("document", f"/v1/documents/{document}"),
    }
    return {what: await _as_other(platform, *where) for what, where in paths.items()}
