"""Appending and reading back: envelopes, versions, positions, point-in-time reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from prometheus_client import REGISTRY
from pydantic import BaseModel
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.eventstore import (
    HEAD_SEED,
    ConcurrencyConflict,
    EventStore,
    EventStoreTables,
    NewEvent,
)
from naervaer.observability.tracing import build_tracer_provider


class SickNoteReceived(BaseModel):
    """Sykmelding mottatt."""

    grade: int
    period_start: str


def opened(case: str) -> NewEvent:
    return NewEvent("case.opened", {"case_id": case, "employee": "e-1"})


async def test_round_trip_builds_full_envelopes(store: EventStore) -> None:
    event_id = uuid4()
    result = await store.append(
        "case-1",
        [
            opened("case-1"),
            NewEvent(
                "sick_note.received",
                SickNoteReceived(grade=50, period_start="2026-03-02"),
                schema_version=2,
                event_id=event_id,
            ),
        ],
        tenant="org-9",
        expected_version=0,
        correlation_id="corr-1",
        causation_id="cause-1",
    )

    assert (result.stream_id, result.version, result.duplicate) == ("case-1", 2, False)
    first, second = result.envelopes
    assert second.id == event_id
    assert (second.source, second.type, second.subject) == (
        "/test-service",
        "sick_note.received",
        "case-1",
    )
    assert second.dataschema == "urn:naervaer:schema:sick_note.received:v2"
    assert second.data == {"grade": 50, "period_start": "2026-03-02"}
    assert (second.tenant, second.streamid, second.streamversion, second.globalposition) == (
        "org-9",
        "case-1",
        2,
        2,
    )
    assert (second.correlationid, second.causationid, second.schemaversion) == (
        "corr-1",
        "cause-1",
        2,
    )
    assert first.time == second.time
    assert first.time.tzinfo is not None
    assert await store.read_stream("case-1") == list(result.envelopes)
    assert await store.stream_version("case-1") == 2
    assert await store.head_position() == 2


async def test_versions_and_positions_continue(store: EventStore) -> None:
    await store.append("a", [opened("a")], tenant="t", expected_version=0)
    await store.append("b", [opened("b"), opened("b")], tenant="t", expected_version=None)
    third = await store.append("a", [opened("a")], tenant="t", expected_version=1)

    assert [(e.streamversion, e.globalposition) for e in third.envelopes] == [(2, 4)]
    assert await store.stream_version("missing") == 0
    assert await store.read_stream("missing") == []


async def test_read_as_of_version_and_time(store: EventStore) -> None:
    results = [
        await store.append("case-t", [opened("case-t")], tenant="t", expected_version=n)
        for n in range(3)
    ]
    times = [r.envelopes[0].time for r in results]

    assert [e.streamversion for e in await store.read_stream("case-t", to_version=2)] == [1, 2]
    assert [e.streamversion for e in await store.read_stream("case-t", as_of=times[1])] == [1, 2]
    halfway = times[0] + (times[1] - times[0]) / 2
    assert [e.streamversion for e in await store.read_stream("case-t", as_of=halfway)] == [1]
    assert await store.read_stream("case-t", as_of=times[0] - timedelta(seconds=1)) == []
    both = await store.read_stream("case-t", to_version=1, as_of=times[2])
    assert [e.streamversion for e in both] == [1]


async def test_read_all_after_a_position(store: EventStore) -> None:
    for stream in ("x", "y", "x", "z"):
        await store.append(
            stream, [opened(stream), opened(stream)], tenant="t", expected_version=None
        )

    page = await store.read_all(after_position=3, limit=3)
    assert [e.globalposition for e in page] == [4, 5, 6]
    assert [e.streamid for e in page] == ["y", "x", "x"]
    assert [e.globalposition for e in await store.read_all(6)] == [7, 8]
    assert await store.read_all(8) == []


async def test_seeded_head_row_is_used(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(tables.event_log_head), [HEAD_SEED])

    result = await store.append("s", [opened("s")], tenant="t", expected_version=0)

    assert result.envelopes[0].globalposition == 1


async def test_caller_transaction_commits_or_rolls_back_with_the_append(
    store: EventStore, engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        await conn.begin()
        await store.append(
            "rolled", [opened("rolled")], tenant="t", expected_version=0, connection=conn
        )
        await conn.rollback()
    async with engine.begin() as conn:
        await store.append(
            "kept", [opened("kept")], tenant="t", expected_version=0, connection=conn
        )

    assert await store.stream_version("rolled") == 0
    assert [e.globalposition for e in await store.read_all()] == [1]


async def test_append_is_traced_and_timed(make_store: Callable[..., EventStore]) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    service = f"svc-{uuid4().hex[:8]}"
    store = make_store(tracer=provider.get_tracer("test"), service=service)

    result = await store.append("traced", [opened("traced")], tenant="t", expected_version=0)
    with pytest.raises(ConcurrencyConflict):
        await store.append("traced", [opened("traced")], tenant="t", expected_version=0)

    span, failed = exporter.get_finished_spans()
    assert span.name == failed.name == "eventstore.append"
    assert span.attributes is not None
    assert span.attributes["naervaer.stream_id"] == "traced"
    assert (span.attributes["naervaer.stream_version"], span.attributes["naervaer.duplicate"]) == (
        1,
        False,
    )
    assert failed.status.status_code is StatusCode.ERROR
    # The stored event continues the append's span (consumers and the outbox relay pick it up).
    ids = span.get_span_context()
    assert ids is not None
    traceparent = result.envelopes[0].traceparent
    assert traceparent is not None
    assert traceparent.split("-")[1:3] == [f"{ids.trace_id:032x}", f"{ids.span_id:016x}"]
    assert (await store.read_stream("traced"))[0].traceparent == result.envelopes[0].traceparent
    count = REGISTRY.get_sample_value(
        "naervaer_eventstore_append_seconds_count", {"service": service}
    )
    assert count == 2  # the conflict is timed too


async def test_untraced_append_stores_no_traceparent(
    make_store: Callable[..., EventStore],
) -> None:
    store = make_store(tracer=trace.NoOpTracer())
    result = await store.append("plain", [opened("plain")], tenant="t", expected_version=0)
    assert result.envelopes[0].traceparent is None
    assert (await store.read_stream("plain"))[0].traceparent is None


@pytest.mark.parametrize("sampled", [False, True])
async def test_an_append_under_an_unsampled_parent_starts_no_span(
    make_store: Callable[..., EventStore], sampled: bool
) -> None:
    """Issue 8: its span could never be recorded, so the parent's context serves and the events
    carry the parent's ids on; under a sampled parent the append's own span is recorded."""
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider("case-service")  # exports nowhere: parent-based, roots off
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    store = make_store(tracer=provider.get_tracer("test"))
    flags = trace.TraceFlags(trace.TraceFlags.SAMPLED if sampled else trace.TraceFlags.DEFAULT)
    parent = trace.SpanContext(0xAB, 0xCD, is_remote=True, trace_flags=flags)
    stream = f"under-{sampled}"
    with trace.use_span(trace.NonRecordingSpan(parent)):
        result = await store.append(stream, [opened(stream)], tenant="t", expected_version=0)
    traceparent = result.envelopes[0].traceparent
    assert traceparent is not None
    _, trace_id, span_id, _ = traceparent.split("-")
    assert int(trace_id, 16) == 0xAB
    spans = exporter.get_finished_spans()
    if sampled:
        [span] = spans
        assert span.parent is not None
        assert span.parent.span_id == 0xCD
        assert int(span_id, 16) == span.context.span_id
    else:
        assert spans == ()
        assert int(span_id, 16) == 0xCD  # no span of its own, not even a non-recording one


async def test_an_append_without_a_parent_still_carries_a_trace_id(
    make_store: Callable[..., EventStore],
) -> None:
    """Its root is not recorded where the service exports nowhere, but the events still get
    fresh ids, so the logs of the services that consume them correlate."""
    store = make_store(tracer=build_tracer_provider("case-service").get_tracer("test"))
    results = [
        await store.append(s, [opened(s)], tenant="t", expected_version=0) for s in ("r1", "r2")
    ]
    ids = {r.envelopes[0].traceparent for r in results}
    assert None not in ids
    assert len({i.split("-")[1] for i in ids if i is not None}) == 2


async def test_rejects_empty_appends_and_naive_clocks(
    make_store: Callable[..., EventStore],
) -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="at least one"):
        await make_store().append("s", [], tenant="t", expected_version=None)
    naive = make_store(clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        await naive.append("s", [opened("s")], tenant="t", expected_version=None)
