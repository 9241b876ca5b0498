"""A service app with routes that fail in every way a real one can."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Query
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel

from naervaer.eventstore.errors import ConcurrencyConflict
from naervaer.http.app import create_service_app
from naervaer.http.health import Readiness
from naervaer.http.problems import PROBLEM_RESPONSES, Problem, ProblemError
from naervaer.observability.tracing import build_tracer_provider

SERVICE = "test-service"
MAX_BODY = 256


class Period(BaseModel):
    start: date
    end: date


class SickNote(BaseModel):
    employee: str
    grade: int
    period: Period


@dataclass
class Service:
    app: FastAPI
    spans: InMemorySpanExporter
    readiness: Readiness


def build_service() -> Service:
    spans = InMemorySpanExporter()
    readiness = Readiness(timeout_s=0.2)
    app = create_service_app(
        service=SERVICE,
        version="1.2.3",
        title="Test service",
        description="Routes that fail on purpose.",
        lifespan=None,
        tracer_provider=build_tracer_provider(SERVICE, exporter=spans),
        readiness=readiness,
        max_body_bytes=MAX_BODY,
    )

    @app.post("/cases/{case_id}/sick-notes", status_code=201, responses=PROBLEM_RESPONSES)
    async def register(
        case_id: int, note: SickNote, limit: Annotated[int, Query()] = 1
    ) -> dict[str, Any]:
        return {"case_id": case_id, "grade": note.grade}

    @app.post("/cases/{case_id}/close", responses=PROBLEM_RESPONSES)
    async def close(case_id: str) -> dict[str, Any]:
        raise ConcurrencyConflict(case_id, expected_version=3, actual_version=4)

    @app.get("/boom")
    async def boom() -> dict[str, Any]:
        raise RuntimeError("fnr 01019012345 leaked in SELECT * FROM cases")

    @app.get("/refused")
    async def refused() -> dict[str, Any]:
        problem = Problem.for_status(
            422, "sick-note-overlap", detail="Overlaps 2026-01-05..2026-01-09.", rule="no-overlap"
        )
        raise ProblemError(problem, headers={"X-Rule": "no-overlap"})

    @app.get("/teapot")
    async def teapot() -> dict[str, Any]:
        raise HTTPException(418, detail="Only coffee here.")

    return Service(app, spans, readiness)


@pytest.fixture
def service() -> Service:
    return build_service()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
