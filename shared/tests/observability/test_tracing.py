"""Tracer providers per service, exporters from OTEL_* variables, app and engine spans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.context import Context, attach, detach
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import text

from naervaer.db import DatabaseTarget, create_engine
from naervaer.observability.tracing import (
    build_tracer_provider,
    exporters_from_env,
    instrument_app,
    instrument_engine,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def traced_app(service: str) -> tuple[FastAPI, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    app = FastAPI()

    @app.get("/cases/{case_id}")
    async def get_case(case_id: str) -> dict[str, str]:
        return {"id": case_id}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    instrument_app(app, build_tracer_provider(service, exporter=exporter))
    return app, exporter


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


async def test_request_produces_a_server_span_of_the_service() -> None:
    app, exporter = traced_app("case-service")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.get("/cases/c-1")
    assert response.status_code == 200
    [span] = exporter.get_finished_spans()  # no per-message receive/send spans
    assert span.kind is SpanKind.SERVER
    assert span.name == "GET /cases/{case_id}"
    assert span.resource.attributes["service.name"] == "case-service"
    assert span.resource.attributes["service.namespace"] == "naervaer"


async def test_health_probes_are_not_traced() -> None:
    app, exporter = traced_app("case-service")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/healthz")).status_code == 200
        assert (await c.get("/healthz?probe=1")).status_code == 200
    assert exporter.get_finished_spans() == ()


async def test_incoming_traceparent_continues_the_callers_trace() -> None:
    app, exporter = traced_app("deadline-service")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        await c.get("/cases/c-1", headers={"traceparent": TRACEPARENT})
    [span] = server_spans(exporter)
    assert format(span.context.trace_id, "032x") == TRACEPARENT.split("-")[1]
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert isinstance(propagate.get_global_textmap(), TraceContextTextMapPropagator)


def test_none_or_no_endpoint_means_no_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    assert exporters_from_env({"OTEL_TRACES_EXPORTER": "none"}) == []
    assert exporters_from_env({}) == []
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert exporters_from_env() == []
    provider = build_tracer_provider("notification-service")
    with provider.get_tracer("t").start_as_current_span("s") as span:
        assert span.get_span_context().is_valid  # still traced for log correlation
    provider.shutdown()


SAMPLED_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
UNSAMPLED_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def _recording(provider_span_parent: str | None, provider: object) -> tuple[bool, bool]:
    """Whether a span started under ``provider_span_parent`` records, and has valid ids."""
    carrier = {} if provider_span_parent is None else {"traceparent": provider_span_parent}
    context = propagate.extract(carrier)
    tracer = provider.get_tracer("t")  # type: ignore[attr-defined]
    with tracer.start_as_current_span("s", context=context) as span:
        return span.is_recording(), span.get_span_context().is_valid


def test_a_service_that_exports_nowhere_records_only_traces_its_callers_sampled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nobody could read its own traces: they are not recorded (ids still valid for the logs);
    a sampled caller's trace is, so services after it that export see it whole."""
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    provider = build_tracer_provider("case-service")
    assert _recording(None, provider) == (False, True)
    assert _recording(UNSAMPLED_PARENT, provider) == (False, True)
    assert _recording(SAMPLED_PARENT, provider) == (True, True)
    provider.shutdown()


def test_a_service_that_exports_or_names_a_sampler_records_its_own_traces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporting = build_tracer_provider("case-service", exporter=InMemorySpanExporter())
    assert _recording(None, exporting) == (True, True)
    exporting.shutdown()
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    sampled = build_tracer_provider("case-service")
    assert _recording(None, sampled) == (True, True)
    sampled.shutdown()


def test_endpoint_selects_otlp_over_http_by_default() -> None:
    [exporter] = exporters_from_env({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318"})
    assert isinstance(exporter, HttpExporter)


def test_protocol_and_list_of_exporters() -> None:
    env = {"OTEL_TRACES_EXPORTER": "otlp, console", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    grpc, console = exporters_from_env(env)
    assert isinstance(grpc, GrpcExporter)
    assert isinstance(console, ConsoleSpanExporter)
    grpc.shutdown()


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
    ],
)
def test_unsupported_configuration_fails_loudly(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        exporters_from_env(env)


def _spans_of(exporter: InMemorySpanExporter, statement: str) -> list[ReadableSpan]:
    """The finished spans of ``statement`` (by its text, not by any attribute that holds it:
    the database's name is a path, and a temporary one may hold the same digits)."""
    spans = exporter.get_finished_spans()
    return [s for s in spans if (s.attributes or {}).get("db.statement") == statement]


async def test_each_engine_reports_to_its_own_services_provider(tmp_path: Path) -> None:
    """Two services, two engines, two providers in one process (the embedded default)."""
    spans: dict[str, InMemorySpanExporter] = {}
    for service in ("case-service", "document-service"):
        spans[service] = InMemorySpanExporter()
        provider = build_tracer_provider(service, exporter=spans[service])
        engine = create_engine(DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path}/{service}.db", None))
        instrument_engine(engine, provider)
        instrument_engine(engine, provider)  # twice is harmless: still one span per statement
        with provider.get_tracer("test").start_as_current_span("request"):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 42"))
        await engine.dispose()
    for service, exporter in spans.items():
        statements = _spans_of(exporter, "SELECT 42")
        assert len(statements) == 1, service
        assert statements[0].resource.attributes["service.name"] == service
        assert statements[0].kind is SpanKind.CLIENT


@pytest.mark.integration
async def test_postgres_statement_gives_one_client_span_under_the_request(
    fresh_database: str,
) -> None:
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider("case-service", exporter=exporter)
    engine = create_engine(DatabaseTarget(fresh_database, None))
    instrument_engine(engine, provider)
    with provider.get_tracer("test").start_as_current_span("request") as parent:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 42"))).scalar() == 42
    await engine.dispose()
    statements = _spans_of(exporter, "SELECT 42")
    assert len(statements) == 1  # asyncpg is not instrumented too
    assert statements[0].parent is not None
    assert statements[0].parent.span_id == parent.get_span_context().span_id
    assert statements[0].attributes is not None
    assert statements[0].attributes.get("db.system") == "postgresql"


class CountingTracers:
    """``provider.get_tracer`` wrapped: counts the spans its tracers start."""

    def __init__(self, provider: TracerProvider) -> None:
        self.started = 0
        self._get_tracer = provider.get_tracer
        provider.get_tracer = self  # type: ignore[method-assign]

    def __call__(self, *args: Any, **kwargs: Any) -> Tracer:
        tracer = self._get_tracer(*args, **kwargs)
        start_span = tracer.start_span

        def counted(*a: Any, **k: Any) -> Span:
            self.started += 1
            return start_span(*a, **k)

        tracer.start_span = counted  # type: ignore[method-assign]
        return tracer


def _parent(sampled: bool) -> Context:
    flags = "01" if sampled else "00"
    carrier = {"traceparent": f"00-{'ab' * 16}-{'cd' * 8}-{flags}"}
    return TraceContextTextMapPropagator().extract(carrier)


@pytest.mark.parametrize("exports", [True, False])
async def test_a_statement_gets_a_span_only_where_one_can_be_recorded(
    tmp_path: Path, exports: bool
) -> None:
    """A statement under an unsampled parent starts no span at all (issue 8: it cost CPU and
    nothing read it); under a sampled one it is recorded as before; one without a parent is a
    root, recorded unless the provider exports nowhere (its roots are off)."""
    exporter = InMemorySpanExporter()
    if exports:
        provider = build_tracer_provider("case-service", exporter=exporter)
    else:  # as a service that exports nowhere builds it; a processor added to look inside
        provider = build_tracer_provider("case-service")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    counting = CountingTracers(provider)
    engine = create_engine(DatabaseTarget(f"sqlite+aiosqlite:///{tmp_path}/t.db", None))
    instrument_engine(engine, provider)

    async def statement(marker: int, context: Context | None) -> None:
        token = attach(context) if context is not None else None
        try:
            async with engine.connect() as connection:
                await connection.execute(text(f"SELECT {marker}"))
        finally:
            if token is not None:
                detach(token)

    await statement(101, _parent(sampled=False))
    assert counting.started == 0  # not even a non-recording one
    await statement(202, _parent(sampled=True))
    await statement(303, None)
    await engine.dispose()

    recorded = {str(s.attributes): s for s in exporter.get_finished_spans()}
    assert not [a for a in recorded if "101" in a]
    sampled = [s for a, s in recorded.items() if "202" in a]
    assert len(sampled) == 1
    assert sampled[0].parent is not None
    assert sampled[0].parent.span_id == int("cd" * 8, 16)
    assert len([a for a in recorded if "303" in a]) == (1 if exports else 0)


@pytest.mark.parametrize("exports", [True, False])
async def test_a_request_gets_a_server_span_only_where_one_can_be_recorded(exports: bool) -> None:
    """Without a caller's trace, a service that exports nowhere starts no server span at all
    (issue 8: the middleware's work for it was ~13 % of a W3 command's CPU), yet the handler
    runs under fresh, valid ids that it carries on; a caller's trace, sampled or not, goes
    through the span middleware as before, and an exporting service records its own roots."""
    exporter = InMemorySpanExporter()
    if exports:
        provider = build_tracer_provider("case-service", exporter=exporter)
    else:  # as a service that exports nowhere builds it; a processor added to look inside
        provider = build_tracer_provider("case-service")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    counting = CountingTracers(provider)
    app = FastAPI()

    @app.get("/cases/{case_id}")
    async def get_case(case_id: str) -> dict[str, Any]:
        span = trace.get_current_span()
        carried: dict[str, str] = {}
        propagate.inject(carried)
        return {"recording": span.is_recording(), "traceparent": carried.get("traceparent")}

    instrument_app(app, provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        roots = [(await c.get("/cases/c-1")).json() for _ in range(2)]
        started_by_roots = counting.started
        sampled = (await c.get("/cases/c-2", headers={"traceparent": SAMPLED_PARENT})).json()
        unsampled = (await c.get("/cases/c-3", headers={"traceparent": UNSAMPLED_PARENT})).json()

    assert [r["recording"] for r in roots] == [exports, exports]
    root_trace_ids = {r["traceparent"].split("-")[1] for r in roots}
    assert len(root_trace_ids) == 2
    assert "0" * 32 not in root_trace_ids
    assert started_by_roots == (2 if exports else 0)
    assert sampled["recording"]
    assert not unsampled["recording"]
    caller_trace_id = SAMPLED_PARENT.split("-")[1]
    assert sampled["traceparent"].split("-")[1] == caller_trace_id
    assert unsampled["traceparent"].split("-")[1] == caller_trace_id
    spans = server_spans(exporter)
    assert [s.name for s in spans] == ["GET /cases/{case_id}"] * (3 if exports else 1)
    assert spans[-1].parent is not None
    assert format(spans[-1].parent.span_id, "016x") == SAMPLED_PARENT.split("-")[2]
    provider.shutdown()
