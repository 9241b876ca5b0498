"""The relay against the real broker: records, headers, traces, per-case order, wake-ups."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore, EventStoreTables, NewEvent
from naervaer.observability.tracing import build_tracer_provider
from naervaer.outbox import KafkaPublisher, OutboxRelay

Consume = Callable[[str, str, int], Awaitable[list[ConsumerRecord]]]
Until = Callable[[Callable[[], Awaitable[bool]], str], Awaitable[None]]
Running = Callable[[OutboxRelay], contextlib.AbstractAsyncContextManager[None]]


@contextlib.asynccontextmanager
async def kafka_publisher(bootstrap: str) -> AsyncIterator[KafkaPublisher]:
    publisher = KafkaPublisher(bootstrap, client_id="outbox-test", request_timeout_ms=5000)
    await publisher.start()
    try:
        yield publisher
    finally:
        await publisher.stop()


async def drained_once(
    engine: AsyncEngine,
    tables: EventStoreTables,
    bootstrap: str,
    service: str,
    tracer: trace.Tracer,
) -> int:
    """What one drain of a relay with ``tracer``, publishing to the broker, sent."""
    async with kafka_publisher(bootstrap) as publisher:
        relay = OutboxRelay(engine, tables, publisher, service=service, tracer=tracer)
        async with contextlib.aclosing(relay):
            return await relay.drain_once()


def noted(n: int) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


def drained(relay: OutboxRelay) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await relay.lag()).pending == 0

    return check


def assert_order(records: list[ConsumerRecord]) -> None:
    """Per partition: global positions rise; per key: stream versions run 1..n."""
    positions: dict[int, list[int]] = defaultdict(list)
    versions: dict[bytes, list[int]] = defaultdict(list)
    for record in records:
        envelope = Envelope.from_json_bytes(record.value)
        assert record.key == envelope.streamid.encode()
        positions[record.partition].append(envelope.globalposition or 0)
        versions[record.key].append(envelope.streamversion)
    assert all(p == sorted(p) for p in positions.values())
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())


async def test_records_carry_key_headers_envelope_and_the_append_trace(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    kafka_bootstrap: str,
    topic: str,
    service: str,
    consume: Consume,
) -> None:
    result = await make_store(engine, tables).append(
        "case-7", [noted(1), noted(2)], tenant="org-3", expected_version=0
    )
    tracer = provider.get_tracer("test.relay")
    assert await drained_once(engine, tables, kafka_bootstrap, service, tracer) == 2

    records = await consume(kafka_bootstrap, topic, 2)
    assert [Envelope.from_json_bytes(r.value) for r in records] == list(result.envelopes)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    append = spans["eventstore.append"]
    producers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]
    assert {s.name for s in producers} == {f"outbox.publish {topic}"}
    for record, envelope, producer in zip(records, result.envelopes, producers, strict=True):
        headers = {name: value.decode() for name, value in record.headers}
        assert record.key == b"case-7"
        assert headers["content-type"] == "application/cloudevents+json"
        assert (headers["ce_id"], headers["ce_type"], headers["ce_tenant"]) == (
            str(envelope.id),
            "case.noted",
            "org-3",
        )
        _, trace_id, span_id, _ = headers["traceparent"].split("-")
        assert trace_id == format(append.context.trace_id, "032x")
        assert span_id == format(producer.context.span_id, "016x")
        assert producer.parent is not None
        assert producer.parent.span_id == append.context.span_id


async def test_an_unsampled_appends_records_carry_its_context_and_start_no_span(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    kafka_bootstrap: str,
    topic: str,
    service: str,
    consume: Consume,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing would record a PRODUCER span under an unsampled trace (the SDK's default
    sampler is parent-based), so none is started (issue 8: CPU for nothing); the record
    carries the append's own context, and a sampled append's record still gets its span."""
    unsampled = trace.SpanContext(
        int("ab" * 16, 16), int("cd" * 8, 16), is_remote=True, trace_flags=trace.TraceFlags(0)
    )
    store = make_store(engine, tables)
    with trace.use_span(trace.NonRecordingSpan(unsampled)):
        await store.append("case-8", [noted(1)], tenant="org-3", expected_version=0)
    await store.append("case-9", [noted(2)], tenant="org-3", expected_version=0)
    tracer, started = spied_tracer(provider, monkeypatch)
    assert await drained_once(engine, tables, kafka_bootstrap, service, tracer) == 2

    records = {r.key: r for r in await consume(kafka_bootstrap, topic, 2)}
    headers = {key: dict(record.headers) for key, record in records.items()}
    assert headers[b"case-8"]["traceparent"] == f"00-{'ab' * 16}-{'cd' * 8}-00".encode()
    assert started == [f"outbox.publish {topic}"]  # case-9's only
    producers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]
    assert len(producers) == 1
    _, trace_id, span_id, flags = headers[b"case-9"]["traceparent"].decode().split("-")
    assert (trace_id, span_id) == (
        format(producers[0].context.trace_id, "032x"),
        format(producers[0].context.span_id, "016x"),
    )
    assert int(flags, 16) & 1  # sampled


async def test_a_row_without_a_trace_context_gets_fresh_unsampled_ids_and_no_span(
    engine: AsyncEngine,
    tables: EventStoreTables,
    kafka_bootstrap: str,
    topic: str,
    service: str,
    consume: Consume,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An append made without a tracer leaves no trace context on its row. Where the relay's
    root is off (a service that exports nowhere) nothing would record its span, so none is
    started; the record still names a trace of its own (fresh ids, unsampled), as the span
    the SDK would have started did, so its consumers' logs share one trace id."""
    for name in ("OTEL_TRACES_SAMPLER", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    store = EventStore(
        engine, tables, source=f"/{service}", outbox_topic=topic, tracer=trace.NoOpTracer()
    )
    await store.append("case-10", [noted(1)], tenant="org-3", expected_version=0)
    tracer, started = spied_tracer(build_tracer_provider(service), monkeypatch)
    assert await drained_once(engine, tables, kafka_bootstrap, service, tracer) == 1

    [record] = await consume(kafka_bootstrap, topic, 1)
    context = TraceContextTextMapPropagator().extract(
        {name: value.decode() for name, value in record.headers}
    )
    parent = trace.get_current_span(context).get_span_context()
    assert parent.is_valid
    assert not parent.trace_flags.sampled
    assert started == []


def spied_tracer(
    provider: TracerProvider, monkeypatch: pytest.MonkeyPatch
) -> tuple[trace.Tracer, list[str]]:
    """``provider``'s tracer, and the names of the spans started through it."""
    tracer = provider.get_tracer("test.relay")
    started: list[str] = []
    start_span = tracer.start_span

    def spy(name: str, *args: Any, **kwargs: Any) -> trace.Span:
        started.append(name)
        return start_span(name, *args, **kwargs)

    monkeypatch.setattr(tracer, "start_span", spy)
    return tracer, started


async def test_per_case_order_holds_across_partitions(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    kafka_bootstrap: str,
    topic: str,
    service: str,
    consume: Consume,
    until: Until,
    running: Running,
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
    await admin.close()
    store = make_store(pg_engine, pg_tables)
    cases = [f"case-{n}" for n in range(20)]

    async with kafka_publisher(kafka_bootstrap) as publisher:
        relay = OutboxRelay(pg_engine, pg_tables, publisher, service=service, batch_size=7)
        async with running(relay):
            for version in range(5):
                await asyncio.gather(
                    *(
                        store.append(case, [noted(version)], tenant="t", expected_version=version)
                        for case in cases
                    )
                )
            await until(drained(relay), "the outbox to drain")

    records = await consume(kafka_bootstrap, topic, 100)
    assert_order(records)
    assert {r.key for r in records} == {c.encode() for c in cases}
    assert len({r.partition for r in records}) > 1


async def test_notify_wakes_the_relay_and_the_listener_reconnects(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    kafka_bootstrap: str,
    service: str,
    until: Until,
    running: Running,
) -> None:
    store = make_store(pg_engine, pg_tables)
    listeners: list[int] = []

    async def listener_after(previous: list[int]) -> bool:
        query = text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = "
            "'naervaer-outbox-listener' AND query LIKE 'LISTEN%' AND datname = "
            "current_database()"
        )
        async with pg_engine.connect() as conn:
            pids = [pid for pid in (await conn.scalars(query)) if pid not in previous]
        listeners.extend(pids)
        return bool(pids)

    async with kafka_publisher(kafka_bootstrap) as publisher:
        # Polling every minute: anything faster than that is NOTIFY at work.
        relay = OutboxRelay(pg_engine, pg_tables, publisher, service=service, poll_interval_s=60)
        async with running(relay):
            await until(lambda: listener_after([]), "the relay to LISTEN")
            await store.append("a", [noted(1)], tenant="t", expected_version=0)
            await until(drained(relay), "a NOTIFY to wake the relay")

            async with pg_engine.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listeners[0]})
            await until(lambda: listener_after(listeners[:1]), "the listener to reconnect")
            await store.append("b", [noted(2)], tenant="t", expected_version=0)
            await until(drained(relay), "a NOTIFY on the new connection")
