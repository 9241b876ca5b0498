"""A fetched batch is settled in one transaction with one offset commit (issue 8), over real
Kafka (Tansu) and PostgreSQL: crashes, poison messages and partitions keep their guarantees."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka.structs import TopicPartition
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.envelope import Envelope
from naervaer.messaging import (
    Consumer,
    IncomingMessage,
    KafkaSource,
    SimulatedCrash,
    Subscription,
)
from naervaer.settings import PlatformSettings

if TYPE_CHECKING:
    from shared.tests.messaging.kits import Db, KafkaKit, Kit

pytestmark = pytest.mark.integration


class CountingKafkaSource(KafkaSource):
    """A KafkaSource that records every offset commit its client sends to the broker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commits: list[dict[TopicPartition, int]] = []

    async def start(self) -> None:
        await super().start()
        client = self._client
        commit = client.commit

        async def counted(offsets: dict[TopicPartition, Any]) -> None:
            await commit(offsets)
            self.commits.append({tp: meta.offset for tp, meta in offsets.items()})

        client.commit = counted

    async def committed(self, topic: str, partition: int = 0) -> int | None:
        result: int | None = await self._client.committed(TopicPartition(topic, partition))
        return result


def consumer_for(
    kafka: KafkaKit,
    db: Db,
    subscription: Subscription,
    *,
    crash_before_ack: Callable[[IncomingMessage], bool] | None = None,
    commit_interval_ms: int = 0,
) -> tuple[Consumer, CountingKafkaSource]:
    source = CountingKafkaSource(
        kafka.bootstrap,
        subscription,
        session_timeout_ms=kafka.session_timeout_ms,
        commit_interval_ms=commit_interval_ms,
    )
    return kafka.consumer(db, subscription, source, crash_before_ack=crash_before_ack), source


@contextmanager
def counting_commits(engine: AsyncEngine) -> Iterator[list[int]]:
    """Every database transaction committed on ``engine`` while inside (one entry each)."""
    commits: list[int] = []

    def on_commit(_connection: object) -> None:
        commits.append(1)

    event.listen(engine.sync_engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(engine.sync_engine, "commit", on_commit)


def recording(db: Db, name: str, transactions: set[int] | None = None) -> Any:
    async def handle(tx: AsyncConnection, envelope: Envelope) -> None:
        if transactions is not None:
            transactions.add(id(tx.sync_connection))
        if envelope.type == "case.doomed":
            raise RuntimeError("deadline rule blew up")
        await db.record(tx, name, envelope)

    return handle


@pytest.fixture
async def topic(kit: type[Kit], kafka: KafkaKit) -> str:
    name = kit.unique("topic")
    await kafka.create_topic(name)
    return name


async def test_a_fetched_batch_is_one_transaction_and_one_offset_commit(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db, topic: str
) -> None:
    name = kit.unique("batch")
    envelopes = [kit.envelope("case-1", version) for version in range(1, 21)]
    await kafka.produce(topic, [kit.record(e) for e in envelopes])
    transactions: set[int] = set()
    subscription = Subscription(name, (topic,), recording(pg_db, name, transactions))
    consumer, source = consumer_for(kafka, pg_db, subscription)

    with counting_commits(pg_db.engine) as commits:
        async with kit.running(consumer):
            await kit.eventually(lambda: len(source.commits) == 1, what="the offset commit")
            assert await source.committed(topic) == 20

    assert len(commits) == 1
    assert len(transactions) == 1
    assert source.commits == [{TopicPartition(topic, 0): 20}]
    assert kit.outcomes(name, "handled") == 20
    assert kit.batches(name) == 1
    assert [row[0] for row in await pg_db.effect_rows(name)] == [e.id for e in envelopes]
    assert await pg_db.count(pg_db.tables.inbox, name) == 20


async def test_offsets_acknowledged_within_the_commit_interval_go_in_one_commit(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db, topic: str
) -> None:
    """Two batches, the second produced once the first is handled: their offsets wait for
    the interval and go in one request, sent before a fetch once due."""
    name = kit.unique("interval")
    subscription = Subscription(name, (topic,), recording(pg_db, name))
    consumer, source = consumer_for(kafka, pg_db, subscription, commit_interval_ms=5_000)
    first = [kit.envelope("case-1", version) for version in range(1, 6)]
    second = [kit.envelope("case-1", version) for version in range(6, 11)]

    async with kit.running(consumer):
        await kafka.produce(topic, [kit.record(e) for e in first])
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 5, what="the first batch")
        await kafka.produce(topic, [kit.record(e) for e in second])
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 10, what="the second")
        assert source.commits == []  # handled, acknowledged, waiting for the interval
        await kit.eventually(lambda: source.commits != [], what="the offset commit")
        assert await source.committed(topic) == 10

    assert source.commits == [{TopicPartition(topic, 0): 10}]


def test_the_commit_interval_is_a_setting_of_100_ms_by_default() -> None:
    subscription = Subscription("interval-setting", ("t",), recording_nothing)
    settings = PlatformSettings(kafka_bootstrap="127.0.0.1:9092")
    assert KafkaSource.from_settings(settings, subscription)._commit_interval_s == 0.1
    settings = settings.model_copy(update={"kafka_commit_interval_ms": 0})
    assert KafkaSource.from_settings(settings, subscription)._commit_interval_s == 0


async def recording_nothing(tx: AsyncConnection, envelope: Envelope) -> None:
    return None


async def test_a_stopping_source_commits_the_offsets_still_pending(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db, topic: str
) -> None:
    name = kit.unique("pending-at-stop")
    subscription = Subscription(name, (topic,), recording(pg_db, name))
    consumer, source = consumer_for(kafka, pg_db, subscription, commit_interval_ms=600_000)
    await kafka.produce(topic, [kit.record(kit.envelope("case-1", v)) for v in range(1, 4)])

    async with kit.running(consumer):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 3, what="the batch")
        assert source.commits == []

    assert source.commits == [{TopicPartition(topic, 0): 3}]


async def test_a_crash_mid_batch_acknowledges_nothing_and_redelivers_only_duplicates(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db, topic: str
) -> None:
    name = kit.unique("batch-crash")
    envelopes = [kit.envelope(f"case-{n % 3}", n + 1) for n in range(10)]
    await kafka.produce(topic, [kit.record(e) for e in envelopes])
    subscription = Subscription(name, (topic,), recording(pg_db, name))
    crashing, source = consumer_for(
        kafka, pg_db, subscription, crash_before_ack=lambda message: message.offset == 5
    )

    with pytest.raises(SimulatedCrash):
        await asyncio.wait_for(crashing.run(asyncio.Event()), timeout=20)
    assert source.commits == []  # committed in the database, nothing acknowledged
    assert len(await pg_db.effect_rows(name)) == 10

    again, _ = consumer_for(kafka, pg_db, subscription)
    async with kit.running(again):
        await kit.eventually(lambda: kit.outcomes(name, "duplicate") == 10, what="redelivery")

    assert kit.outcomes(name, "handled") == 10
    assert [row[0] for row in await pg_db.effect_rows(name)] == [e.id for e in envelopes]


async def test_a_poison_message_in_a_batch_is_dead_lettered_alone(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db, topic: str
) -> None:
    name = kit.unique("batch-poison")
    first, second = kit.envelope("case-1", 1), kit.envelope("case-1", 2)
    doomed = kit.envelope("case-2", 1, type="case.doomed")
    third, fourth = kit.envelope("case-1", 3), kit.envelope("case-2", 2)
    records = [kit.record(first), kit.record(second), kit.record(doomed)]
    records += [(b"case-1", b"not an envelope", []), kit.record(third), kit.record(fourth)]
    await kafka.produce(topic, records)
    subscription = Subscription(name, (topic,), recording(pg_db, name))
    consumer, source = consumer_for(kafka, pg_db, subscription)

    async with kit.running(consumer):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 4, what="four handled")
        await kit.eventually(lambda: kit.lag(name, topic, 0) == 0, what="all acknowledged")

    handled = [first.id, second.id, third.id, fourth.id]
    assert [row[0] for row in await pg_db.effect_rows(name)] == handled
    assert kit.outcomes(name, "dead_lettered") == 2
    # the failed batch's three one by one, the bad bytes alone, then the last two together
    assert kit.batches(name) == 5
    assert kit.handler_failures(name, "case.doomed") == 3  # only the poison one was retried
    assert kit.handler_failures(name, "case.opened") == 0
    assert await pg_db.count(pg_db.tables.dead_letters, name) == 2
    assert await pg_db.count(pg_db.tables.inbox, name) == 4
    offsets = [commit[TopicPartition(topic, 0)] for commit in source.commits]
    assert offsets == sorted(offsets)
    assert offsets[-1] == 6


async def test_batch_handler_gets_the_new_events_in_partition_order(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db
) -> None:
    name, topic = kit.unique("batch-handler"), kit.unique("topic")
    await kafka.create_topic(topic, partitions=4)
    keys, versions = [f"case-{k}" for k in range(12)], range(1, 9)
    envelopes = [kit.envelope(key, version) for version in versions for key in keys]
    repeated = envelopes[5]  # delivered twice in the same fetch: handled once
    await kafka.produce(topic, [kit.record(e) for e in [*envelopes, repeated]])
    batches: list[int] = []

    async def handle_batch(tx: AsyncConnection, batch: Sequence[Envelope]) -> None:
        batches.append(len(batch))
        for envelope in batch:
            await pg_db.record(tx, name, envelope)

    async def per_event(tx: AsyncConnection, envelope: Envelope) -> None:
        raise AssertionError("the batch handler takes every event of a batch")

    subscription = Subscription(name, (topic,), per_event, batch_handler=handle_batch)
    consumer, _ = consumer_for(kafka, pg_db, subscription)
    async with kit.running(consumer):
        await kit.eventually(
            lambda: kit.outcomes(name, "handled") == len(envelopes), what="all handled"
        )
        await kit.eventually(lambda: kit.outcomes(name, "duplicate") == 1, what="the repeat")

    assert sum(batches) == len(envelopes)
    assert max(batches) > 1
    seen: dict[str, list[int]] = defaultdict(list)
    for _, stream_id, version in await pg_db.effect_rows(name):
        seen[stream_id].append(version)
    assert seen == {key: list(versions) for key in keys}
