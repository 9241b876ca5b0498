"""Batches on the embedded transport (SQLite and PostgreSQL), the inbox's batch claim, the
batch's traces, and ``subscribe`` choosing a projection's batch handler."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.envelope import Envelope
from naervaer.messaging import (
    EmbeddedLogSource,
    Subscription,
    inbox,
)
from naervaer.service import subscribe

if TYPE_CHECKING:
    from shared.tests.messaging.conftest import LogSetup
    from shared.tests.messaging.kits import Db, KafkaKit, Kit

pytestmark = pytest.mark.integration

TOPIC = "naervaer.case-events"


async def test_embedded_batch_is_one_transaction_ending_at_the_last_position(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    name = kit.unique(f"embedded-batch-{log_setup.backend}")
    for case in ("case-1", "case-2", "case-3"):
        await log_setup.append(case, "case.opened", "case.closed", "case.noted")
    await log_setup.append("case-1", "case.closed")  # the last is one the consumer skips
    db, transactions = log_setup.db, set[int]()

    async def handle(tx: AsyncConnection, envelope: Envelope) -> None:
        transactions.add(id(tx.sync_connection))
        await db.record(tx, name, envelope)

    wanted = frozenset({"case.opened", "case.noted"})
    subscription = Subscription(name, (TOPIC,), handle, event_types=wanted)
    source = EmbeddedLogSource({TOPIC: log_setup.store}, subscription, db.engine, db.tables)
    consumer = db.consumer(subscription, source, poll_timeout_s=0.1, lag_interval_s=0.0)
    commits: list[object] = []

    def on_commit(connection: object) -> None:
        commits.append(connection)

    event.listen(db.engine.sync_engine, "commit", on_commit)
    try:
        async with kit.running(consumer):
            await kit.eventually(lambda: kit.lag(name, TOPIC, 0) == 0, what="all acknowledged")
    finally:
        event.remove(db.engine.sync_engine, "commit", on_commit)

    assert len(commits) == len(transactions) == 1  # the per-event handler, in one transaction
    assert (kit.outcomes(name, "handled"), kit.outcomes(name, "skipped")) == (6, 4)
    log = await log_setup.store.read_all(0, 100)
    assert [row[0] for row in await db.effect_rows(name)] == [e.id for e in log if e.type in wanted]
    checkpoints = db.tables.checkpoints
    async with db.engine.connect() as connection:
        statement = select(checkpoints.c.position).where(checkpoints.c.consumer == name)
        assert (await connection.execute(statement)).scalar_one() == 10


async def test_claim_many_returns_only_the_new_ids(log_setup: LogSetup) -> None:
    db = log_setup.db
    old, new = uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    async with db.engine.begin() as tx:
        assert await inbox.claim_many(tx, db.tables, "c", [old]) == {old}
        assert await inbox.claim_many(tx, db.tables, "c", []) == set()
    async with db.engine.begin() as tx:
        assert await inbox.claim_many(tx, db.tables, "c", [new[0], old, *new[1:]]) == set(new)
        assert await inbox.claim_many(tx, db.tables, "other", [old]) == {old}
    assert await db.count(db.tables.inbox, "c") == 4


async def test_each_message_keeps_its_span_in_its_own_trace(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    name, topic = kit.unique("batch-traced"), kit.unique("topic")
    await kafka.create_topic(topic)
    envelopes, producers, records = [kit.envelope("case-1", v) for v in (1, 2)], [], []
    for envelope in envelopes:  # two requests, two traces
        with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER) as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
        producers.append(span.get_span_context())
        records.append(kit.record(envelope, [(k, v.encode()) for k, v in carrier.items()]))
    await kafka.produce(topic, records)
    inside = await pg_db.handled_in(kafka.bootstrap, name, topic, tracer, 2)

    spans = exporter.get_finished_spans()
    [batch] = [s for s in spans if s.name == "consume batch"]
    consumed = [s for s in spans if s.name == f"consume {topic}"]
    assert [s.context.trace_id for s in consumed] == [p.trace_id for p in producers]
    assert [s.parent.span_id for s in consumed if s.parent] == [p.span_id for p in producers]
    assert [s.attributes["naervaer.outcome"] for s in consumed if s.attributes] == ["handled"] * 2
    assert inside == [s.get_span_context() for s in consumed]  # each handler in its span
    for span in consumed:  # each message's span leads to the transaction's
        assert [link.context for link in span.links] == [batch.context]
    assert batch.attributes is not None
    assert batch.attributes["messaging.batch.message_count"] == 2


async def test_a_message_of_an_unsampled_trace_starts_no_span(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    """Nothing would record it (issue 8: starting it anyway cost CPU): its handler runs in the
    producer's own context, so its logs keep the trace id; a sampled neighbour is traced."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # the SDK's default sampler: parent-based
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    name, topic = kit.unique("batch-unsampled"), kit.unique("topic")
    await kafka.create_topic(topic)
    unsampled = trace.SpanContext(
        int("ab" * 16, 16), int("cd" * 8, 16), is_remote=True, trace_flags=trace.TraceFlags(0)
    )
    with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER) as span:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
    sampled = span.get_span_context()
    headers = [
        [("traceparent", f"00-{'ab' * 16}-{'cd' * 8}-00".encode())],
        [(k, v.encode()) for k, v in carrier.items()],
    ]
    envelopes = [kit.envelope("case-1", v) for v in (1, 2)]
    await kafka.produce(topic, [kit.record(e, h) for e, h in zip(envelopes, headers, strict=True)])
    inside = await pg_db.handled_in(kafka.bootstrap, name, topic, tracer, 2)

    consumed = [s for s in exporter.get_finished_spans() if s.name == f"consume {topic}"]
    assert [s.context.trace_id for s in consumed] == [sampled.trace_id]
    assert inside[0] == unsampled  # the producer's context itself, no span of its own
    assert inside[1] == consumed[0].context


class PlainProjection:
    name = "plain"
    event_types = None

    async def reset(self, tx: AsyncConnection) -> None: ...

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None: ...


class FoldingProjection(PlainProjection):
    async def handle_batch(self, tx: AsyncConnection, envelopes: Sequence[Envelope]) -> None: ...


def test_subscribe_uses_handle_batch_when_the_projection_has_it() -> None:
    folding, plain = FoldingProjection(), PlainProjection()
    assert subscribe(folding, TOPIC).batch_handler == folding.handle_batch
    assert subscribe(plain, TOPIC).batch_handler is None
    assert subscribe(plain, TOPIC).handler == plain.handle
