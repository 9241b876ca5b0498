"""The bearer dependency and ``authorize`` in a real service app, over ASGI."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from opentelemetry.sdk.trace import TracerProvider

from naervaer.auth.access import AccessRecord
from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.auth.keys import JwksKeys, StaticKeys
from naervaer.auth.policy import CaseRef, can_read_case
from naervaer.auth.verify import TokenVerifier
from naervaer.http.app import create_service_app
from naervaer.http.health import Readiness

MakeVerifier = Callable[..., TokenVerifier]
CASES = {
    "c1": CaseRef("t1", "c1", employee_id="e1", manager_id="m1", org_unit="ou1"),
    "c2": CaseRef("t2", "c2", employee_id="e9", manager_id="m9", org_unit="ou9"),
}
PROBLEM_JSON = "application/problem+json"


def build_app(verifier: TokenVerifier | None, records: list[AccessRecord] | None) -> FastAPI:
    app = create_service_app(
        service="auth-test",
        version="0",
        title="auth test",
        description="",
        lifespan=None,
        tracer_provider=TracerProvider(),
        readiness=Readiness(),
    )
    if verifier is not None:
        app.state.token_verifier = verifier
    if records is not None:

        async def record(entry: AccessRecord) -> None:
            records.append(entry)

        app.state.access_recorder = record

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return {
            "sub": principal.subject,
            "tenant": principal.tenant,
            "roles": sorted(principal.roles),
        }

    @app.get("/cases/{case_id}")
    async def read_case(
        case_id: str, principal: CurrentPrincipal, request: Request
    ) -> dict[str, str]:
        case = CASES[case_id]
        decision = can_read_case(principal, case)
        await authorize(
            request,
            principal,
            decision,
            operation="read",
            resource="case",
            resource_id=case_id,
            case_id=case_id,
        )
        return {"case_id": case.case_id}

    return app


@pytest.fixture
def records() -> list[AccessRecord]:
    return []


@pytest.fixture
async def client(
    es_signer: Any, make_verifier: MakeVerifier, records: list[AccessRecord]
) -> AsyncIterator[httpx.AsyncClient]:
    verifier = make_verifier(StaticKeys(es_signer.public_key, kid=es_signer.kid))
    async with _client(build_app(verifier, records)) as http:
        yield http


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge(response: httpx.Response) -> dict[str, str]:
    header = response.headers["WWW-Authenticate"]
    assert header.startswith("Bearer ")
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def assert_problem(response: httpx.Response, status: int, detail: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert (body["status"], body["detail"]) == (status, detail)
    return body


async def test_valid_token(client: httpx.AsyncClient, es_signer: Any) -> None:
    response = await client.get("/me", headers=bearer(es_signer.token(roles=["hr", "auditor"])))
    assert response.status_code == 200
    assert response.json() == {"sub": "u1", "tenant": "t1", "roles": ["auditor", "hr"]}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic dTE6cHc="}, {"Authorization": "Bearer"}]
)
async def test_missing_token_is_401_without_error_code(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/me", headers=headers)
    body = assert_problem(response, 401, "missing bearer token")
    assert body["type"] == "urn:naervaer:problem:unauthorized"
    assert challenge(response) == {"realm": "naervaer"}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"exp": 1_000_000}, "token expired"), ({"aud": "other"}, "wrong audience")],
)
async def test_invalid_token_is_401_invalid_token(
    client: httpx.AsyncClient, es_signer: Any, changes: dict[str, Any], reason: str
) -> None:
    response = await client.get("/me", headers=bearer(es_signer.token(**changes)))
    assert_problem(response, 401, reason)
    assert challenge(response) == {
        "realm": "naervaer",
        "error": "invalid_token",
        "error_description": reason,
    }


async def test_error_description_cannot_break_the_header(
    client: httpx.AsyncClient, es_signer_2: Any
) -> None:
    token = es_signer_2.token(headers={"kid": 'x", error="forged\\'})
    response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"
    assert (
        challenge(response)["error_description"]
        == "unknown signing key (kid 'x?, error=?forged??')"
    )


async def test_unreachable_identity_provider_is_503(
    es_signer: Any, make_verifier: MakeVerifier
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keys = JwksKeys(f"http://127.0.0.1:{port}/jwks", cache_s=60, cooldown_s=0, timeout_s=1)
    async with _client(build_app(make_verifier(keys), [])) as http:
        response = await http.get("/me", headers=bearer(es_signer.token()))
    assert_problem(response, 503, "Signing keys cannot be fetched; retry later.")
    assert response.headers["Retry-After"] == "5"


async def test_app_without_verifier_fails_closed(es_signer: Any) -> None:
    async with _client(build_app(None, [])) as http:
        response = await http.get("/me", headers=bearer(es_signer.token()))
    assert response.status_code == 500
    assert "token_verifier" not in response.text


async def test_allowed_read_is_recorded(
    client: httpx.AsyncClient, es_signer: Any, records: list[AccessRecord]
) -> None:
    token = es_signer.token(sub="m1", roles=["manager"], jti="tok-9")
    response = await client.get("/cases/c1", headers=bearer(token) | {"X-Correlation-Id": "corr-1"})
    assert response.status_code == 200
    [record] = records
    assert (record.action, record.operation, record.basis_role) == ("read", "read", "manager")
    assert (record.subject, record.tenant, record.case_id) == ("m1", "t1", "c1")
    assert (record.correlation_id, record.token_id) == ("corr-1", "tok-9")


async def test_refused_read_is_403_and_recorded(
    client: httpx.AsyncClient, es_signer: Any, records: list[AccessRecord]
) -> None:
    token = es_signer.token(sub="e2", roles=["employee"])
    response = await client.get("/cases/c1", headers=bearer(token))
    body = assert_problem(response, 403, "no role permits read case c1 (roles: employee)")
    assert body["type"] == "urn:naervaer:problem:forbidden"
    assert [(r.action, r.basis_role) for r in records] == [("denied", None)]


async def test_other_tenant_is_404_and_recorded(
    client: httpx.AsyncClient, es_signer: Any, records: list[AccessRecord]
) -> None:
    token = es_signer.token(roles=["hr", "system"])
    response = await client.get("/cases/c2", headers=bearer(token))
    assert_problem(response, 404, "No such resource.")
    assert [(r.action, r.reason, r.tenant) for r in records] == [
        ("denied", "tenant mismatch", "t1")
    ]


async def test_app_without_access_recorder_reads_nothing(
    es_signer: Any, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(StaticKeys(es_signer.public_key))
    async with _client(build_app(verifier, None)) as http:
        response = await http.get("/cases/c1", headers=bearer(es_signer.token()))
    assert response.status_code == 500
    assert "access_recorder" not in response.text


def test_openapi_documents_the_bearer_scheme(es_signer: Any, make_verifier: MakeVerifier) -> None:
    schema = build_app(None, None).openapi()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/me"]["get"]["security"] == [{"bearer": []}]
