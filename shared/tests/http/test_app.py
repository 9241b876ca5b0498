"""Health, readiness, metrics, correlation ids, access lines and the service's lifespan."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from naervaer.http.app import create_service_app
from naervaer.http.health import Readiness
from naervaer.observability.logging import configure_logging
from naervaer.observability.tracing import build_tracer_provider

SERVICE = "test-service"


@pytest.fixture
def logs_as_json() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(level="INFO")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


async def test_healthz_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": SERVICE}


async def test_readyz_is_200_when_all_checks_pass(client: httpx.AsyncClient, service: Any) -> None:
    async def database() -> bool:
        return True

    async def broker() -> None:
        return None

    service.readiness.add("database", database)
    service.readiness.add("broker", broker)
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: c["status"] for name, c in body["checks"].items()} == {
        "database": "ok",
        "broker": "ok",
    }


async def test_readyz_is_503_with_each_failing_check_named(
    client: httpx.AsyncClient, service: Any
) -> None:
    async def ok() -> bool:
        return True

    async def refuses() -> bool:
        return False

    async def raises() -> bool:
        raise ConnectionRefusedError("password=hunter2 in the DSN")

    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    for name, check in {"ok": ok, "refuses": refuses, "raises": raises, "hangs": hangs}.items():
        service.readiness.add(name, check)
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["ok"]["status"] == "ok"
    assert {checks[n]["status"] for n in ("refuses", "raises", "hangs")} == {"failed"}
    assert checks["raises"]["detail"] == "ConnectionRefusedError"
    assert checks["hangs"]["detail"] == "no answer within 0.2s"
    assert "hunter2" not in response.text


def test_a_check_name_is_added_once() -> None:
    async def check() -> bool:
        return True

    readiness = Readiness()
    readiness.add("database", check)
    with pytest.raises(ValueError, match="twice"):
        readiness.add("database", check)


async def test_metrics_expose_naervaer_metrics_by_service_and_route(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/teapot")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE naervaer_outbox_pending gauge" in text
    assert (
        'naervaer_http_requests_total{method="GET",route="/teapot",'
        f'service="{SERVICE}",status="418"}}'
    ) in text
    assert "naervaer_http_request_duration_seconds_bucket" in text


async def test_correlation_id_is_reused_when_sane_and_made_up_otherwise(
    client: httpx.AsyncClient,
) -> None:
    given = await client.get("/healthz", headers={"X-Correlation-Id": "req-42"})
    assert given.headers["x-correlation-id"] == "req-42"
    for bad in ("", "has space", "x" * 200, "line\tbreak"):
        response = await client.get("/healthz", headers={"X-Correlation-Id": bad})
        uuid.UUID(response.headers["x-correlation-id"])
    uuid.UUID((await client.get("/nowhere")).headers["x-correlation-id"])


@pytest.mark.usefixtures("logs_as_json")
async def test_one_access_line_per_request_with_context(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await client.get("/teapot", headers={"X-Correlation-Id": "corr-7"})
    await client.get("/healthz")  # probes are logged at debug level only
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [access] = [line for line in lines if line["logger"] == "naervaer.http.access"]
    assert access["method"] == "GET"
    assert access["path"] == "/teapot"
    assert access["status"] == 418
    assert access["duration_ms"] >= 0
    assert access["service"] == SERVICE
    assert access["correlation_id"] == "corr-7"
    assert len(access["trace_id"]) == 32


@pytest.mark.usefixtures("logs_as_json")
async def test_unexpected_error_is_logged_once_with_its_trace_id(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (await client.get("/boom")).json()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [error] = [line for line in lines if line["event"] == "unhandled error"]
    assert error["trace_id"] == body["trace_id"]
    assert "RuntimeError" in error["exception"]


async def test_lifespan_runs_with_the_service_bound_for_its_tasks() -> None:
    seen: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async def background() -> None:
            seen["task"] = structlog.contextvars.get_contextvars().get("service")

        await asyncio.create_task(background())
        yield

    app = create_service_app(
        service="case-service",
        version="0",
        title="t",
        description="d",
        lifespan=lifespan,
        tracer_provider=build_tracer_provider("case-service"),
        readiness=Readiness(),
    )
    async with app.router.lifespan_context(app):
        seen["lifespan"] = structlog.contextvars.get_contextvars().get("service")
    assert seen == {"task": "case-service", "lifespan": "case-service"}
    assert "service" not in structlog.contextvars.get_contextvars()
