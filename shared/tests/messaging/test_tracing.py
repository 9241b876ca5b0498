"""A trace continues across Kafka: the consumer span is a child of the producer's span."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

if TYPE_CHECKING:
    from shared.tests.messaging.kits import Db, KafkaKit, Kit

pytestmark = pytest.mark.integration


async def test_consumer_span_continues_the_producers_trace(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    name, topic = kit.unique("traced"), kit.unique("topic")
    envelope = kit.envelope("case-9", 1)
    with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER) as producer_span:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
    headers = [(key, value.encode()) for key, value in carrier.items()]
    assert "traceparent" in carrier
    await kafka.produce(topic, [kit.record(envelope, headers)])
    handler_spans = await pg_db.handled_in(kafka.bootstrap, name, topic, tracer, 1)

    [consumed] = [s for s in exporter.get_finished_spans() if s.name == f"consume {topic}"]
    produced = producer_span.get_span_context()
    assert consumed.kind is SpanKind.CONSUMER
    assert consumed.context is not None
    assert consumed.parent is not None
    assert consumed.context.trace_id == produced.trace_id
    assert consumed.parent.span_id == produced.span_id
    assert handler_spans[0].span_id == consumed.context.span_id  # the handler ran inside it
    assert consumed.attributes is not None
    assert consumed.attributes["messaging.message.id"] == str(envelope.id)
