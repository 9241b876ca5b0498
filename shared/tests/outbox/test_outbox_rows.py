"""Outbox rows are written with the events (one per append), and the relay's bookkeeping
(fake publisher)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore import ConcurrencyConflict, EventStore, EventStoreTables, NewEvent
from naervaer.outages import is_outage
from naervaer.outbox import OutboxRelay, PublishFailed
from shared.tests.outbox.publishers import RecordingPublisher


def noted(n: int) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


async def outbox_rows(engine: AsyncEngine, tables: EventStoreTables) -> list[tuple[object, ...]]:
    """(first position, last position, topic, key, first event's traceparent, published at,
    published through) of every outbox row."""
    outbox, events = tables.outbox, tables.events
    query = (
        select(
            outbox.c.global_position,
            outbox.c.last_position,
            outbox.c.topic,
            outbox.c.message_key,
            events.c.traceparent,  # the trace context travels with the event row
            outbox.c.published_at,
            outbox.c.published_through,
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
    # One row for the append's two events; the lone event of case-3 has no range.
    await store.append("case-3", [noted(6)], tenant="t", expected_version=0)
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows] == [(1, 2, topic, "case-1", None)]
    assert trace_id in str(rows[0][4])
    lone = (await outbox_rows(engine, tables))[1]
    assert (lone[0], lone[1], lone[3]) == (3, None, "case-3")


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
    assert all(row[5] is not None for row in await outbox_rows(engine, tables))
    assert (await relay.lag()).pending == 0
    assert REGISTRY.get_sample_value("naervaer_outbox_published_total", {"service": service}) == 5
    # two batches: an empty drain publishes none
    assert REGISTRY.get_sample_value("naervaer_outbox_batches_total", {"service": service}) == 2


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
    assert REGISTRY.get_sample_value("naervaer_outbox_batches_total", {"service": service}) == 0
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
        with pytest.raises(Exception) as raised:  # noqa: PT011 - any outage's error will do
            await first.drain_once()  # its connection is gone: it steps down
        assert is_outage(raised.value)
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


# One outbox row per append (issue 8, twenty-first round): the relay sends its events whole
# and in order, reads the rows of a release that wrote one per event, and a relay from before
# ranges cannot mark a range it sent in part (a rolling deploy's old replica).


async def test_an_appends_events_go_whole_and_in_order(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
) -> None:
    store = make_store(engine, tables)
    await store.append("a", [noted(1), noted(2), noted(3)], tenant="t", expected_version=0)
    await store.append("b", [noted(4), noted(5)], tenant="t", expected_version=0)
    await store.append("a", [noted(6)], tenant="t", expected_version=3)
    await store.append("b", [noted(7), noted(8)], tenant="t", expected_version=2)
    publisher = RecordingPublisher()
    relay = OutboxRelay(engine, tables, publisher, service=service, batch_size=4)

    assert (await relay.lag()).pending == 8  # events, not rows
    async with contextlib.aclosing(relay):
        # 4 events a batch, but never part of a row: the row that crosses the limit comes
        # whole (3 + 2), and a row that would start past it waits (6, then 7-8).
        drained = [await relay.drain_once() for _ in range(3)]
    assert drained == [5, 3, 0]

    envelopes = [Envelope.from_json_bytes(m.value) for m in publisher.sent]
    assert [e.globalposition for e in envelopes] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert envelopes == await store.read_all()
    assert [m.key for m in publisher.sent] == [b"a"] * 3 + [b"b"] * 2 + [b"a"] + [b"b"] * 2
    rows = await outbox_rows(engine, tables)
    assert [(r[0], r[1], r[6]) for r in rows] == [(1, 3, 3), (4, 5, 5), (6, None, None), (7, 8, 8)]
    assert all(r[5] is not None for r in rows)
    assert (await relay.lag()).pending == 0


async def test_by_default_each_event_has_a_row_of_its_own(
    engine: AsyncEngine, tables: EventStoreTables, topic: str
) -> None:
    """Off unless asked for: a relay of a build before ranges reads a row's first event only."""
    store = EventStore(engine, tables, source="/s", outbox_topic=topic)
    await store.append("a", [noted(1), noted(2)], tenant="t", expected_version=0)

    rows = await outbox_rows(engine, tables)
    assert [(r[0], r[1], r[3]) for r in rows] == [(1, None, "a"), (2, None, "a")]


async def test_an_append_larger_than_a_batch_goes_whole(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
) -> None:
    store = make_store(engine, tables)
    await store.append("big", [noted(n) for n in range(5)], tenant="t", expected_version=0)
    await store.append("next", [noted(5)], tenant="t", expected_version=0)
    publisher = RecordingPublisher()
    relay = OutboxRelay(engine, tables, publisher, service=service, batch_size=2)

    async with contextlib.aclosing(relay):
        assert [await relay.drain_once() for _ in range(3)] == [5, 1, 0]
    assert publisher.data() == [{"n": n} for n in range(6)]


async def test_rows_of_one_event_each_read_as_before(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
) -> None:
    """A release before ranges wrote a row per event; a new relay sends those rows as they are,
    between ranges (a rolling deploy's old writers beside new ones)."""
    store = EventStore(engine, tables, source=f"/{service}", outbox_topic=None)
    await store.append("old", [noted(1), noted(2)], tenant="t", expected_version=0)
    async with engine.begin() as conn:  # as the old writer wrote them: one row per event
        await conn.execute(
            insert(tables.outbox),
            [
                {"global_position": p, "topic": "t", "message_key": "old", "created_at": _now()}
                for p in (1, 2)
            ],
        )
    await make_store(engine, tables).append(
        "new", [noted(3), noted(4)], tenant="t", expected_version=0
    )
    publisher = RecordingPublisher()
    relay = OutboxRelay(engine, tables, publisher, service=service, batch_size=2)

    async with contextlib.aclosing(relay):
        assert [await relay.drain_once() for _ in range(3)] == [2, 2, 0]
    assert publisher.data() == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]
    assert [m.key for m in publisher.sent] == [b"old", b"old", b"new", b"new"]


async def test_a_relay_from_before_ranges_cannot_mark_a_range_it_sent_in_part(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
) -> None:
    store = make_store(engine, tables)
    await store.append("lone", [noted(1)], tenant="t", expected_version=0)
    await store.append("pair", [noted(2), noted(3)], tenant="t", expected_version=0)
    outbox = tables.outbox
    old_mark = update(outbox).values(published_at=_now())  # what the old relay ran

    async with engine.begin() as conn:  # a row of one event: the old relay marks it as ever
        await conn.execute(old_mark.where(outbox.c.global_position == 1))
    with pytest.raises(IntegrityError, match=r"ck_outbox_range_published_whole|CHECK"):
        async with engine.begin() as conn:
            await conn.execute(old_mark.where(outbox.c.global_position == 2))
    async with engine.connect() as conn:
        unpublished = select(outbox.c.global_position).where(outbox.c.published_at.is_(None))
        assert (await conn.execute(unpublished)).scalars().all() == [2]


def _now() -> datetime:
    return datetime.now(UTC)
