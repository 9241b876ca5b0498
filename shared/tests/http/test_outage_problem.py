"""A database out of reach answers 503 with Retry-After, not 500: the request was not at fault
and a retry with the same Idempotency-Key is safe (found by the fault-injection suite, where
every command during a PostgreSQL restart was answered 500 "unexpected error")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from sqlalchemy import exc as sa_exc

from naervaer.http.app import create_service_app
from naervaer.http.health import Readiness
from naervaer.observability.tracing import build_tracer_provider

PROBLEM = "application/problem+json"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(
        service="test-service",
        version="0",
        title="t",
        description="d",
        lifespan=None,
        tracer_provider=build_tracer_provider("test-service"),
        readiness=Readiness(),
    )

    @app.post("/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    @app.post("/recovering")
    async def recovering() -> None:
        cause = asyncpg.CannotConnectNowError("the database system is in recovery mode")
        raise sa_exc.DBAPIError("INSERT INTO events VALUES ('secret')", {}, cause)

    @app.post("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.mark.parametrize("path", ["/refused", "/recovering"])
async def test_an_unreachable_database_answers_503_with_retry_after(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(path)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("unavailable")
    assert body["instance"] == path
    assert "5432" not in response.text
    assert "secret" not in response.text


async def test_any_other_error_is_still_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post("/broken")

    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert response.json()["type"].endswith("internal-error")
