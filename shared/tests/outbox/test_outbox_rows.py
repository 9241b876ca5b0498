"""Outbox rows are written with the events, and the relay's bookkeeping (fake publisher)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore import ConcurrencyConflict, EventStore, EventStoreTables, NewEvent
from naervaer.outbox import OutboxRelay, OutgoingMessage, PublishFailed


class RecordingPublisher:
    """In-memory publisher; ``fail`` makes every publish raise, ``gate`` holds it open."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.fail = False
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.sent.extend(messages)

    def data(self) -> list[object]:
        """The ``data`` of each event sent, in order."""
        return [Envelope.from_json_bytes(m.value).data for m in self.sent]


def noted(n: int) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


async def outbox_rows(engine: AsyncEngine, tables: EventStoreTables) -> list[tuple[object, ...]]:
    outbox, events = tables.outbox, tables.events
    query = (
        select(
            outbox.c.global_position,
            outbox.c.topic,
            outbox.c.message_key,
            events.c.traceparent,  # the trace context travels with the event row
            outbox.c.published_at,
        )
        .join_from(outbox, events, outbox.c.global_position == events.c.global_position)
        .order_by(outbox.c.global_position)
    )
    async with engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(query)]


async def test_rows_are_written_in_the_append_transaction(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    provider: TracerProvider,
    topic: str,
) -> None:
    store = make_store(engine, tables)
    with provider.get_tracer("test").start_as_current_span("command") as command:
        await store.append(
            "case-1", [noted(1), noted(2)], tenant="t", expected_version=0, command_id="c-1"
        )
    trace_id = format(command.get_span_context().trace_id, "032x")

    with pytest.raises(ConcurrencyConflict):
        await store.append("case-1", [noted(3)], tenant="t", expected_version=0)
    await store.append("case-1", [noted(4)], tenant="t", expected_version=0, command_id="c-1")
    async with engine.connect() as conn:
        await conn.begin()
        await store.append("case-2", [noted(5)], tenant="t", expected_version=0, connection=conn)
        await conn.rollback()

    rows = await outbox_rows(engine, tables)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        (1, topic, "case-1", None),
        (2, topic, "case-1", None),
    ]
    assert all(trace_id in str(r[3]) for r in rows)


async def test_no_outbox_rows_without_a_topic(
    engine: AsyncEngine, tables: EventStoreTables
) -> None:
    store = EventStore(engine, tables, source="/quiet", outbox_topic=None)
    await store.append("s", [noted(1)], tenant="t", expected_version=0)

    assert await outbox_rows(engine, tables) == []


async def test_relay_publishes_in_order_and_marks_rows(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
) -> None:
    store = make_store(engine, tables)
    for n in range(5):
        await store.append(f"case-{n % 2}", [noted(n)], tenant="t", expected_version=None)
    publisher = RecordingPublisher()
    relay = OutboxRelay(engine, tables, publisher, service=service, batch_size=3)

    async with contextlib.aclosing(relay):
        drained = [await relay.drain_once(), await relay.drain_once(), await relay.drain_once()]
    assert drained == [3, 2, 0]

    envelopes = [Envelope.from_json_bytes(m.value) for m in publisher.sent]
    assert [e.globalposition for e in envelopes] == [1, 2, 3, 4, 5]
    assert envelopes == await store.read_all()
    assert [m.key for m in publisher.sent] == [
        b"case-0",
        b"case-1",
        b"case-0",
        b"case-1",
        b"case-0",
    ]
    assert all(row[4] is not None for row in await outbox_rows(engine, tables))
    assert (await relay.lag()).pending == 0
    assert REGISTRY.get_sample_value("naervaer_outbox_published_total", {"service": service}) == 5


async def test_failed_publish_keeps_rows_pending_and_counts(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
) -> None:
    await make_store(engine, tables).append(
        "s", [noted(1), noted(2)], tenant="t", expected_version=0
    )
    publisher = RecordingPublisher()
    publisher.fail = True
    relay = OutboxRelay(engine, tables, publisher, service=service)

    with pytest.raises(PublishFailed):
        await relay.drain_once()  # and steps down: nothing is left open

    lag = await relay.lag()
    assert lag.pending == 2
    assert lag.oldest_age_s >= 0
    assert REGISTRY.get_sample_value("naervaer_outbox_pending", {"service": service}) == 2
    assert (
        REGISTRY.get_sample_value("naervaer_outbox_publish_failures_total", {"service": service})
        == 1
    )
    publisher.fail = False
    async with contextlib.aclosing(relay):
        assert await relay.drain_once() == 2


async def test_one_relay_leads_until_its_connection_ends_on_postgres(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
) -> None:
    store = make_store(pg_engine, pg_tables)
    await store.append("s", [noted(1)], tenant="t", expected_version=0)
    holding = RecordingPublisher()
    holding.gate = asyncio.Event()
    first = OutboxRelay(pg_engine, pg_tables, holding, service=service)
    second_publisher = RecordingPublisher()
    second = OutboxRelay(pg_engine, pg_tables, second_publisher, service=service)

    async with contextlib.aclosing(first), contextlib.aclosing(second):
        draining = asyncio.create_task(first.drain_once())
        await asyncio.wait_for(holding.entered.wait(), timeout=10)
        assert await second.drain_once() == 0  # not while the first is publishing
        holding.gate.set()
        assert await draining == 1

        leader = first._leading  # the server probes its socket: a silent leader goes soon
        assert leader is not None
        assert await leader.scalar(text("SHOW tcp_keepalives_idle")) == "10"
        await store.append("s", [noted(2)], tenant="t", expected_version=1)
        assert await second.drain_once() == 0  # nor after: the first still leads
        assert await first.drain_once() == 1

        await first.aclose()  # its lock ends with its connection
        await store.append("s", [noted(3)], tenant="t", expected_version=2)
        assert await second.drain_once() == 1
    assert holding.data() == [{"n": 1}, {"n": 2}]
    assert second_publisher.data() == [{"n": 3}]


async def test_a_leader_whose_connection_dies_steps_down_and_another_takes_over(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
) -> None:
    store = make_store(pg_engine, pg_tables)
    await store.append("s", [noted(1)], tenant="t", expected_version=0)
    first_publisher, second_publisher = RecordingPublisher(), RecordingPublisher()
    first = OutboxRelay(pg_engine, pg_tables, first_publisher, service=service)
    second = OutboxRelay(pg_engine, pg_tables, second_publisher, service=service)
    async with contextlib.aclosing(first), contextlib.aclosing(second):
        assert await first.drain_once() == 1
        async with pg_engine.connect() as conn:  # the leader's server process goes away
            leader_pid = await conn.scalar(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = "
                    "current_database())"
                )
            )
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": leader_pid})
        await store.append("s", [noted(2)], tenant="t", expected_version=1)

        assert await second.drain_once() == 1  # the lock went with the connection
        with pytest.raises(DBAPIError):
            await first.drain_once()  # its connection is gone: it steps down
        assert await first.drain_once() == 0  # and finds the second leading
    assert first_publisher.data() == [{"n": 1}]
    assert second_publisher.data() == [{"n": 2}]


async def test_a_relay_that_does_not_lead_tries_for_the_lock_at_its_poll_not_at_every_append(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
) -> None:
    """Every append wakes every replica's relay; only the leader answers. The other tries
    for the lock at its poll, and so still takes over when the leader goes away."""
    store = make_store(pg_engine, pg_tables)
    await store.append("s", [noted(1)], tenant="t", expected_version=0)
    first_publisher, second_publisher = RecordingPublisher(), RecordingPublisher()
    first = OutboxRelay(pg_engine, pg_tables, first_publisher, service=service)
    second = OutboxRelay(
        pg_engine, pg_tables, second_publisher, service=service, poll_interval_s=1.0
    )
    tries = 0
    try_lead = second._rows.try_lead

    async def counted(conn: object) -> bool:
        nonlocal tries
        tries += 1
        return await try_lead(conn)  # type: ignore[arg-type]

    second._rows.try_lead = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    async with contextlib.aclosing(first):
        assert await first.drain_once() == 1  # the first leads
        follower = asyncio.create_task(second.run(stop))
        try:
            for n in range(2, 12):  # ten appends, ten NOTIFYs, in about half a second
                await store.append("s", [noted(n)], tenant="t", expected_version=n - 1)
                await asyncio.sleep(0.05)
            assert await first.drain_once() == 10
            assert tries <= 2  # its first drain, perhaps one poll: not one try per wake
        except BaseException:
            stop.set()
            await follower
            raise
    try:  # the first stopped leading: the second takes over at its next poll
        await store.append("s", [noted(12)], tenant="t", expected_version=11)
        await asyncio.wait_for(second_publisher.entered.wait(), timeout=10)
    finally:
        stop.set()
        await follower
    assert first_publisher.data() == [{"n": n} for n in range(1, 12)]
    assert second_publisher.data() == [{"n": 12}]
