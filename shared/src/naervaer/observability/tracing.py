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
Recording spans nobody will ever read cost 10-20 % of a busy service's CPU (bench W6).
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Mapping

from fastapi import FastAPI
from opentelemetry import metrics, propagate
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

SERVICE_NAMESPACE = "naervaer"
# Probes and scrapes every few seconds would drown the traces that matter.
EXCLUDED_URLS = r"/(healthz|readyz|metrics)/?(\?.*)?$"
_PROTOCOLS = ("http/protobuf", "grpc")
_instrumented_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


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
    provider = TracerProvider(
        resource=Resource.create(attributes),
        sampler=ParentBased(root=ALWAYS_OFF) if unsampled else None,
    )
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
    EngineTracer(tracer, sync_engine, connections)  # type: ignore[no-untyped-call]  # untyped lib
    _instrumented_engines.add(sync_engine)


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
