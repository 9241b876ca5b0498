"""The idempotent consumer over a real Kafka-protocol broker and real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.envelope import Envelope
from naervaer.messaging import (
    Handler,
    SimulatedCrash,
    Subscription,
)

if TYPE_CHECKING:
    from shared.tests.messaging.kits import Db, KafkaKit, Kit

pytestmark = pytest.mark.integration


def recording(db: Db, name: str) -> Handler:
    async def handle(tx: AsyncConnection, envelope: Envelope) -> None:
        await db.record(tx, name, envelope)

    return handle


async def test_redelivered_event_changes_nothing_the_second_time(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    name, topic = kit.unique("redelivery"), kit.unique("topic")
    await kafka.create_topic(topic)
    first, other = kit.envelope("case-1", 1), kit.envelope("case-1", 2)
    await kafka.produce(topic, [kit.record(first), kit.record(first), kit.record(other)])
    subscription = Subscription(name, (topic,), recording(pg_db, name))

    async with kit.running(kafka.consumer(pg_db, subscription)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 2, what="two events handled")
        # reported after the fetch's messages are settled, so waited for as well
        await kit.eventually(lambda: kit.lag(name, topic, 0) == 0, what="no lag reported")

    assert kit.outcomes(name, "duplicate") == 1
    assert [row[0] for row in await pg_db.effect_rows(name)] == [first.id, other.id]
    assert await pg_db.count(pg_db.tables.inbox, name) == 2


async def test_crash_after_commit_before_offset_commit_applies_the_event_once(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    name, topic = kit.unique("crash"), kit.unique("topic")
    await kafka.create_topic(topic)
    envelope = kit.envelope("case-7", 1)
    await kafka.produce(topic, [kit.record(envelope)])
    subscription = Subscription(name, (topic,), recording(pg_db, name))
    crashing = kafka.consumer(pg_db, subscription, crash_before_ack=lambda _: True)

    with pytest.raises(SimulatedCrash):
        await asyncio.wait_for(crashing.run(asyncio.Event()), timeout=20)
    assert len(await pg_db.effect_rows(name)) == 1  # committed, offset not

    async with kit.running(kafka.consumer(pg_db, subscription)):
        await kit.eventually(lambda: kit.outcomes(name, "duplicate") == 1, what="the redelivery")

    assert [row[0] for row in await pg_db.effect_rows(name)] == [envelope.id]


async def test_transient_failure_is_retried_and_handled_once(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    name, topic = kit.unique("transient"), kit.unique("topic")
    await kafka.create_topic(topic)
    envelope = kit.envelope("case-3", 1, type="case.flaky")
    await kafka.produce(topic, [kit.record(envelope)])
    calls = 0

    async def flaky(tx: AsyncConnection, event: Envelope) -> None:
        nonlocal calls
        calls += 1
        await pg_db.record(tx, name, event)  # rolled back when we fail below
        if calls <= 2:
            raise ConnectionResetError("downstream hiccup")

    subscription = Subscription(name, (topic,), flaky)
    async with kit.running(kafka.consumer(pg_db, subscription)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 1, what="handled")

    assert calls == 3
    assert kit.handler_failures(name, "case.flaky") == 2
    assert len(await pg_db.effect_rows(name)) == 1
    assert await pg_db.count(pg_db.tables.dead_letters, name) == 0


async def test_event_types_filter_skips_without_calling_the_handler(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    name, topic = kit.unique("filter"), kit.unique("topic")
    await kafka.create_topic(topic)
    wanted = kit.envelope("case-4", 1, type="case.opened")
    ignored = kit.envelope("case-4", 2, type="case.noted")
    await kafka.produce(topic, [kit.record(ignored), kit.record(wanted)])
    subscription = Subscription(
        name, (topic,), recording(pg_db, name), event_types=frozenset({"case.opened"})
    )

    async with kit.running(kafka.consumer(pg_db, subscription)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 1, what="handled")

    assert kit.outcomes(name, "skipped") == 1
    assert [row[0] for row in await pg_db.effect_rows(name)] == [wanted.id]
    assert await pg_db.count(pg_db.tables.inbox, name) == 1


async def test_per_key_order_holds_across_partitions(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    name, topic = kit.unique("order"), kit.unique("topic")
    await kafka.create_topic(topic, partitions=4)
    keys, versions = [f"case-{k}" for k in range(12)], range(1, 9)
    # interleave the keys, as many writers would
    envelopes = [kit.envelope(key, version) for version in versions for key in keys]
    await kafka.produce(topic, [kit.record(e) for e in envelopes])
    subscription = Subscription(name, (topic,), recording(pg_db, name))

    def lagged() -> set[int]:
        """The partitions the consumer has reported a lag for: those it was given messages of."""
        return {tp for tp in range(4) if kit.lag(name, topic, tp) is not None}

    async with kit.running(kafka.consumer(pg_db, subscription)):
        await kit.eventually(
            lambda: kit.outcomes(name, "handled") == len(envelopes), what="all handled"
        )
        # The lag is reported after a fetch's messages are settled: a run that handled all in
        # one fetch can be stopped before it was, so it is waited for too.
        await kit.eventually(
            lambda: len(lagged()) > 1, what="the keys spread over several partitions"
        )

    seen: dict[str, list[int]] = defaultdict(list)
    for _, stream_id, version in await pg_db.effect_rows(name):
        seen[stream_id].append(version)
    assert seen == {key: list(versions) for key in keys}
