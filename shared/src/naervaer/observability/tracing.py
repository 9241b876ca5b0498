"""Traces: one TracerProvider per service, exporters chosen by the standard OTEL_* variables.

In the embedded default the four services share one process, so nothing here touches the global
tracer provider: each service builds its own (``service.name`` = ``case-service`` …) and hands it
to its FastAPI instrumentation, its engine and its event store/consumers. Only the propagator is
global, and it is the same for everyone: W3C Trace Context (``traceparent``) over HTTP and Kafka.

Variables read (OpenTelemetry SDK specification):

* ``OTEL_TRACES_EXPORTER``: comma-separated ``otlp``, ``console``, ``none``. Default ``otlp`` when
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, else ``none``.
* ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``: ``http/protobuf``
  (default) or ``grpc``; endpoint, headers and timeouts are read by the exporters themselves.
* ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``: read by the SDK's TracerProvider.

A service that exports nowhere (no exporter, no sampler configured) starts no recorded trace of
its own: its sampler is parent-based with the root off. Spans are still started — their ids
are in the logs, and a caller's ``traceparent`` is carried on — but only a trace a caller
started sampled is recorded (so the services after it, which may export, see it whole).
Recording spans nobody will ever read cost 10-20 % of a busy service's CPU (bench W6). The
spans there are most of — one per statement, one per message of a consumed batch, one per
request without a caller's trace — are not even started where the sampler could not record
them (``unrecorded_span``, ``_UnrecordedRootRequests``).
"""

from __future__ import annotations

import functools
import os
import sys
import weakref
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context, attach, detach
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler
from opentelemetry.trace import TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

SERVICE_NAMESPACE = "naervaer"
# Probes and scrapes every few seconds would drown the traces that matter.
EXCLUDED_URLS = r"/(healthz|readyz|metrics)/?(\?.*)?$"
_PROTOCOLS = ("http/protobuf", "grpc")
_instrumented_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
# Samplers whose root is off (their services export nowhere): a span without a parent is never
# recorded.
_roots_off: weakref.WeakSet[Sampler] = weakref.WeakSet()


def build_tracer_provider(
    service: str, *, exporter: SpanExporter | None = None, version: str | None = None
) -> TracerProvider:
    """A tracer provider for one service, exporting as the OTEL_* variables say.

    ``exporter`` (tests: an ``InMemorySpanExporter``) is added with a synchronous processor, so
    spans are visible as soon as they end. Call ``shutdown()`` on stop: it flushes the batches.
    """
    configure_propagation()
    attributes: dict[str, str] = {"service.name": service, "service.namespace": SERVICE_NAMESPACE}
    if version is not None:
        attributes["service.version"] = version
    exporters = exporters_from_env()
    exports = bool(exporters) or exporter is not None
    unsampled = not exports and "OTEL_TRACES_SAMPLER" not in os.environ
    # Resource.create also merges OTEL_RESOURCE_ATTRIBUTES; our explicit attributes win.
    sampler = ParentBased(root=ALWAYS_OFF) if unsampled else None
    if sampler is not None:
        _roots_off.add(sampler)
    provider = TracerProvider(resource=Resource.create(attributes), sampler=sampler)
    for configured in exporters:
        provider.add_span_processor(BatchSpanProcessor(configured))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def exporters_from_env(environ: Mapping[str, str] | None = None) -> list[SpanExporter]:
    """The span exporters named by ``OTEL_TRACES_EXPORTER`` (see the module docstring)."""
    env = os.environ if environ is None else environ
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    if not names:
        has_endpoint = any(
            env.get(var)
            for var in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        )
        names = ["otlp"] if has_endpoint else ["none"]
    return [_exporter(name, env) for name in names if name != "none"]


def configure_propagation() -> None:
    """Make W3C Trace Context the global propagator (HTTP headers, Kafka headers, outbox rows)."""
    propagate.set_global_textmap(TraceContextTextMapPropagator())


def instrument_app(app: FastAPI, provider: TracerProvider) -> None:
    """Server spans for every request except health probes and metric scrapes.

    Call before the app serves its first request: the middleware stack is built then.
    """
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=EXCLUDED_URLS,
        # One span per ASGI message read or written is noise, not insight.
        exclude_spans=["receive", "send"],
    )
    if provider.sampler in _roots_off:
        instrumented = app.build_middleware_stack

        def build_middleware_stack() -> ASGIApp:
            outermost = instrumented()  # ServerErrorMiddleware(OpenTelemetryMiddleware(…))
            if isinstance(outermost, ServerErrorMiddleware) and isinstance(
                outermost.app, OpenTelemetryMiddleware
            ):
                outermost.app = _UnrecordedRootRequests(outermost.app, provider.id_generator)
            return outermost

        app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


class _UnrecordedRootRequests:
    """A request without a caller's ``traceparent``, in a service whose roots are off, skips
    OpenTelemetry's server-span middleware: its span could never be recorded, and the
    middleware's work for it (the route looked up again for the span's name, the request's
    attributes, the sampler, metric instruments) was ~13 % of the case service's CPU per W3
    command (issue 8). It runs under a non-recording span with fresh ids instead, as the SDK
    would have started it, so its logs and the ``traceparent`` it carries on keep one trace id.
    A request with a ``traceparent`` goes through the middleware: parent-based sampling decides.
    """

    def __init__(self, server_spans: OpenTelemetryMiddleware, ids: IdGenerator) -> None:
        self._server_spans = server_spans
        self._app: ASGIApp = server_spans.app
        self._ids = ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"traceparent" for name, _ in scope["headers"]):
            await self._server_spans(scope, receive, send)
            return
        token = attach(trace.set_span_in_context(trace.NonRecordingSpan(fresh_root(self._ids))))
        try:
            await self._app(scope, receive, send)
        finally:
            detach(token)


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """Client spans for every statement run through ``engine``, from ``provider``'s tracer.

    ``SQLAlchemyInstrumentor().instrument(engine=…)`` is a process-wide singleton that instruments
    only the first engine it is given (opentelemetry-python-contrib#3977), so each service's
    engine gets its own ``EngineTracer``, the listener set the instrumentor itself installs.
    asyncpg is deliberately not instrumented as well: every statement would be traced twice.
    """
    # Imported here: the private module path is the one part that may move between releases.
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.semconv.metrics import MetricInstruments

    sync_engine = engine.sync_engine
    if sync_engine in _instrumented_engines:
        return
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    meter = metrics.get_meter("opentelemetry.instrumentation.sqlalchemy", __version__)
    connections = meter.create_up_down_counter(
        name=MetricInstruments.DB_CLIENT_CONNECTIONS_USAGE,
        unit="connections",
        description="Connections in the state given by the state attribute.",
    )
    if isinstance(provider.sampler, ParentBased):  # a statement's span may be skipped
        _engine_tracer_recording_only()(tracer, sync_engine, connections, sampler=provider.sampler)
    else:
        EngineTracer(tracer, sync_engine, connections)  # type: ignore[no-untyped-call]
    _instrumented_engines.add(sync_engine)


def unrecorded_span(tracer: trace.Tracer, context: Context | None) -> trace.Span | None:
    """What to use instead of a span ``tracer`` would start under ``context`` and never record:
    the parent's context as a non-recording span (logs keep its trace id, a handler's own
    statements see it unsampled). None: start the span, it may be recorded.

    Under a parent-based sampler (the SDK's default, and a service's that exports nowhere) a
    child of an unsampled span is never recorded, nor a root when the root sampler is off.
    Starting such a span anyway costs a sampler call, new ids and a context, for nothing
    (issue 8: 5-8 % of a consumer's CPU at 200 events/s, for per-statement spans alone).
    """
    parent = trace.get_current_span(context).get_span_context()
    sampler = getattr(tracer, "sampler", None)  # the SDK's tracer; a no-op one has none
    return trace.NonRecordingSpan(parent) if _never_recorded(sampler, parent) else None


def unrecorded_span_or_root(tracer: trace.Tracer, context: Context | None) -> trace.Span | None:
    """``unrecorded_span``, except that a root nothing would record gets fresh ids (as the SDK
    would have given the span), so what it carries on still names one trace of its own."""
    unrecorded = unrecorded_span(tracer, context)
    if unrecorded is None or unrecorded.get_span_context().is_valid:
        return unrecorded
    ids = getattr(tracer, "id_generator", None)  # the SDK's tracer has one
    return trace.NonRecordingSpan(fresh_root(ids)) if isinstance(ids, IdGenerator) else None


def fresh_root(ids: IdGenerator) -> trace.SpanContext:
    """A new, unsampled root context from ``ids``, flagged as the SDK flags its own."""
    flags = TraceFlags.RANDOM_TRACE_ID if ids.is_trace_id_random() else TraceFlags.DEFAULT
    return trace.SpanContext(
        ids.generate_trace_id(),
        ids.generate_span_id(),
        is_remote=False,
        trace_flags=TraceFlags(flags),
    )


def _never_recorded(sampler: Sampler | None, parent: trace.SpanContext) -> bool:
    if not isinstance(sampler, ParentBased) or parent.trace_flags.sampled:
        return False
    return parent.is_valid or sampler in _roots_off


@functools.cache
def _engine_tracer_recording_only() -> Any:
    """``EngineTracer`` that starts a statement's span only when ``sampler`` could record it
    (``unrecorded_span``); the logs carry the enclosing span's ids either way."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    class RecordingOnly(EngineTracer):
        def __init__(self, *args: Any, sampler: Sampler) -> None:
            self.sampler = sampler  # before the listeners, which the base installs
            super().__init__(*args)  # type: ignore[no-untyped-call]

        def _before_cur_exec(self, *args: Any) -> Any:
            if _never_recorded(self.sampler, trace.get_current_span().get_span_context()):
                statement, params = args[2], args[3]
                return statement, params  # the after-execute listener finds no span: no-op
            return super()._before_cur_exec(*args)  # type: ignore[no-untyped-call]

    return RecordingOnly


def _exporter(name: str, env: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        # stderr: stdout carries the JSON log lines and must stay one JSON object per line.
        return ConsoleSpanExporter(out=sys.stderr)
    if name == "otlp":
        return _otlp_exporter(_otlp_protocol(env))
    raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter {name!r} (otlp, console, none)")


def _otlp_protocol(env: Mapping[str, str]) -> str:
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol not in _PROTOCOLS:
        raise ValueError(f"OTLP protocol {protocol!r} unsupported (one of {', '.join(_PROTOCOLS)})")
    return protocol


def _otlp_exporter(protocol: str) -> SpanExporter:
    # Imported on demand: the gRPC stack is heavy and most deployments use only one protocol.
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpOTLPSpanExporter,
    )

    return HttpOTLPSpanExporter()
