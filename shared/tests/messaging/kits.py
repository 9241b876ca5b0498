"""Helpers of the consumer tests, handed out by the fixtures in conftest.py: a database with
the consumer tables, plain Kafka clients, and the consumer a test runs against them."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition
from opentelemetry import trace
from opentelemetry.trace import Tracer
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, Table, Text, Uuid, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import naervaer.db
from naervaer.db import DatabaseTarget, create_engine
from naervaer.envelope import Envelope
from naervaer.messaging import (
    Consumer,
    ConsumerTables,
    DeadLetterSink,
    IncomingMessage,
    KafkaSource,
    LocalDeadLetterSink,
    MessageSource,
    Subscription,
    consumer_tables,
)

SERVICE = "test-service"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_envelope(
    stream_id: str = "case-1",
    version: int = 1,
    *,
    type: str = "case.opened",
) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/case-service",
        type=type,
        subject=stream_id,
        time=datetime.now(UTC),
        dataschema=f"urn:naervaer:schema:{type}:v1",
        data={"n": version},
        tenant="tenant-1",
        streamid=stream_id,
        streamversion=version,
    )


@dataclass(frozen=True)
class Db:
    """A test database with the consumer tables and an ``effects`` table for handlers."""

    engine: AsyncEngine
    tables: ConsumerTables
    effects: Table

    async def record(self, tx: AsyncConnection, consumer: str, envelope: Envelope) -> None:
        """What the test handlers do: one row per call, no uniqueness (so doubles show)."""
        await tx.execute(
            insert(self.effects).values(
                consumer=consumer,
                event_id=envelope.id,
                stream_id=envelope.streamid,
                version=envelope.streamversion,
            )
        )

    async def effect_rows(self, consumer: str) -> list[tuple[uuid.UUID, str, int]]:
        e = self.effects
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(e.c.event_id, e.c.stream_id, e.c.version)
                .where(e.c.consumer == consumer)
                .order_by(e.c.id)
            )
            return [(row[0], row[1], row[2]) for row in result.all()]

    def consumer(
        self,
        subscription: Subscription,
        source: MessageSource,
        *,
        dead_letters: DeadLetterSink | None = None,
        **options: Any,
    ) -> Consumer:
        """A consumer of ``subscription`` reading ``source`` into this database, its dead
        letters kept here unless ``dead_letters`` says otherwise; ``options`` as ``Consumer``
        takes them (its own defaults for the rest)."""
        sink = dead_letters or LocalDeadLetterSink(self.engine, self.tables)
        return Consumer(
            subscription, self.engine, self.tables, source, sink, service=SERVICE, **options
        )

    async def handled_in(
        self, bootstrap: str, name: str, topic: str, tracer: Tracer, count: int
    ) -> list[trace.SpanContext]:
        """Consume ``topic`` from Kafka as ``name``, traced by ``tracer``, until ``count``
        messages are handled: the span context each handler call ran in, in order."""
        inside: list[trace.SpanContext] = []

        async def handle(tx: AsyncConnection, event: Envelope) -> None:
            inside.append(trace.get_current_span().get_span_context())

        subscription = Subscription(name, (topic,), handle)
        source = KafkaSource(bootstrap, subscription, session_timeout_ms=2000)
        consumer = self.consumer(subscription, source, tracer=tracer, poll_timeout_s=0.2)
        async with Kit.running(consumer):
            await Kit.eventually(
                lambda: Kit.outcomes(name, "handled") == count, what=f"{count} handled"
            )
        return inside

    async def count(self, table: Table, consumer: str) -> int:
        async with self.engine.connect() as connection:
            statement = select(func.count()).select_from(table).where(table.c.consumer == consumer)
            return int((await connection.execute(statement)).scalar_one())

    async def effects_planned_for(self) -> float:
        """The rows the planner's statistics give the ``effects`` table (PostgreSQL; -1:
        never analysed)."""
        query = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)")
        async with self.engine.connect() as connection:
            found = await connection.execute(query, {"name": self.effects.name})
            return float(found.scalar_one())

    def analyses(
        self,
        monkeypatch: pytest.MonkeyPatch,
        consumer: str,
        *,
        slow_s: float = 0.0,
        after: asyncio.Event | None = None,
    ) -> list[int]:
        """The ``effects`` rows of ``consumer`` each analysis of the schema saw, in order
        (``GrowingTables`` analyses beside the writer: a count seen in the analysis's own
        transaction is what it sampled, however the writer went on meanwhile). ``slow_s``:
        each analysis begins that much later (whoever must wait for it then shows it);
        ``after``: each begins once it is set (a writer that goes on meanwhile shows it; one
        that waits for the analysis times it out)."""
        seen: list[int] = []
        analyse = naervaer.db.refresh_statistics
        e = self.effects

        async def counting(tx: AsyncConnection) -> None:
            rows = select(func.count()).select_from(e).where(e.c.consumer == consumer)
            await asyncio.sleep(slow_s)
            if after is not None:
                await asyncio.wait_for(after.wait(), timeout=10)
            seen.append(int((await tx.execute(rows)).scalar_one()))
            await analyse(tx)

        monkeypatch.setattr(naervaer.db, "refresh_statistics", counting)
        return seen


def build_metadata() -> tuple[MetaData, ConsumerTables, Table]:
    metadata = MetaData()
    tables = consumer_tables(metadata)
    effects = Table(
        "effects",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("consumer", Text, nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("stream_id", Text, nullable=False),
        Column("version", Integer, nullable=False),
    )
    return metadata, tables, effects


async def open_db(url: str) -> Db:
    metadata, tables, effects = build_metadata()
    engine = create_engine(DatabaseTarget(url, None))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return Db(engine, tables, effects)


class KafkaKit:
    """Plain aiokafka clients for the tests: create topics, produce, read a topic back."""

    session_timeout_ms = 2000  # a group's first join takes about half of it

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    def consumer(
        self,
        db: Db,
        subscription: Subscription,
        source: KafkaSource | None = None,
        *,
        crash_before_ack: Callable[[IncomingMessage], bool] | None = None,
    ) -> Consumer:
        """A consumer of ``subscription`` from this broker (through ``source`` if given) into
        ``db``, quick to retry (three attempts) and to report its lag."""
        source = source or KafkaSource(
            self.bootstrap, subscription, session_timeout_ms=self.session_timeout_ms
        )
        return db.consumer(
            subscription,
            source,
            max_attempts=3,
            retry_base_s=0.01,
            crash_before_ack=crash_before_ack,
            poll_timeout_s=0.2,
            lag_interval_s=0.0,
        )

    async def create_topic(self, name: str, partitions: int = 1) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            topic = NewTopic(name, num_partitions=partitions, replication_factor=1)
            await admin.create_topics([topic])
        finally:
            await admin.close()

    async def produce(self, topic: str, records: Sequence[Record]) -> None:
        """Send (key, value, headers) records in order and wait for the broker's acks."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5)
        await producer.start()
        try:
            futures = [
                await producer.send(topic, value, key=key, headers=list(headers))
                for key, value, headers in records
            ]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    async def read(self, topic: str, count: int, timeout_s: float = 15.0) -> list[Any]:
        """The first ``count`` records of a one-partition topic (no consumer group)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0)])
            records: list[Any] = []
            deadline = time.monotonic() + timeout_s
            while len(records) < count and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                records.extend(r for part in batch.values() for r in part)
            return records
        finally:
            await consumer.stop()


Record = tuple[bytes | None, bytes, Sequence[tuple[str, bytes]]]


class Kit:
    """Helpers every consumer test uses (test modules cannot import each other here)."""

    unique = staticmethod(unique)
    envelope = staticmethod(make_envelope)

    @staticmethod
    def record(envelope: Envelope, headers: Sequence[tuple[str, bytes]] = ()) -> Record:
        return envelope.streamid.encode(), envelope.to_json_bytes(), headers

    @staticmethod
    async def eventually(
        check: Callable[[], bool | Awaitable[bool]],
        *,
        timeout_s: float = 20.0,
        what: str = "condition",
    ) -> None:
        """Poll ``check`` (plain or async) until it holds; fail after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not await _holds(check):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
            await asyncio.sleep(0.05)

    @staticmethod
    def outcomes(consumer: str, outcome: str) -> float:
        labels = {"service": SERVICE, "consumer": consumer, "outcome": outcome}
        return REGISTRY.get_sample_value("naervaer_messages_handled_total", labels) or 0.0

    @staticmethod
    def batches(consumer: str) -> float:
        labels = {"service": SERVICE, "consumer": consumer}
        return REGISTRY.get_sample_value("naervaer_consumer_batches_total", labels) or 0.0

    @staticmethod
    def handler_failures(consumer: str, event_type: str) -> float:
        labels = {"service": SERVICE, "consumer": consumer, "event_type": event_type}
        return REGISTRY.get_sample_value("naervaer_handler_failures_total", labels) or 0.0

    @staticmethod
    def lag(consumer: str, topic: str, partition: int) -> float | None:
        labels = {
            "service": SERVICE,
            "consumer": consumer,
            "topic": topic,
            "partition": str(partition),
        }
        return REGISTRY.get_sample_value("naervaer_consumer_lag", labels)

    @staticmethod
    @contextlib.asynccontextmanager
    async def running(consumer: Consumer) -> AsyncIterator[asyncio.Task[None]]:
        """Run ``consumer`` in the background; stop it (and surface its errors) on exit."""
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:
            yield task
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)


async def _holds(check: Callable[[], bool | Awaitable[bool]]) -> bool:
    result = check()
    return await result if inspect.isawaitable(result) else bool(result)
