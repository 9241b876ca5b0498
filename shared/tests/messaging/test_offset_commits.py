"""When a Kafka consumer commits its offsets (issue 8): at most every commit interval, and
the rest at the next fetch once it has passed, and on stop — each commit is a broker request,
and what a crash redelivers meanwhile the inbox skips."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from naervaer.messaging import IncomingMessage, KafkaSource, Subscription
from shared.tests.messaging.kits import KafkaKit, make_envelope, unique


async def _ignore(*_: object) -> None:
    return None


async def _topic_with(kafka: KafkaKit, count: int) -> str:
    topic = unique("commits")
    await kafka.create_topic(topic)
    envelopes = [make_envelope("case-1", v) for v in range(1, count + 1)]
    await kafka.produce(topic, [(e.streamid.encode(), e.to_json_bytes(), ()) for e in envelopes])
    return topic


@contextlib.asynccontextmanager
async def _source(kafka: KafkaKit, topic: str, interval_ms: int) -> AsyncIterator[KafkaSource]:
    subscription = Subscription(unique("group"), (topic,), _ignore)
    source = KafkaSource(
        kafka.bootstrap,
        subscription,
        session_timeout_ms=kafka.session_timeout_ms,
        fetch_max_wait_ms=20,
        commit_interval_ms=interval_ms,
    )
    await source.start()
    try:
        yield source
    finally:
        await source.stop()


async def _fetch(source: KafkaSource, count: int) -> list[IncomingMessage]:
    messages: list[IncomingMessage] = []
    async with asyncio.timeout(20):
        while len(messages) < count:
            messages += await source.fetch(count - len(messages), 0.2)
    return messages


async def _committed(kafka: KafkaKit, group: str, topic: str) -> int | None:
    """The group's committed offset of the topic's partition, as the broker has it."""
    reader = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=group)
    await reader.start()
    try:
        offset: int | None = await reader.committed(TopicPartition(topic, 0))
        return offset
    finally:
        await reader.stop()


async def test_offsets_wait_for_the_interval_and_the_next_fetch_commits_them(
    kafka: KafkaKit,
) -> None:
    topic = await _topic_with(kafka, 3)
    async with _source(kafka, topic, interval_ms=1_000) as source:
        first, second, third = await _fetch(source, 3)
        await source.acknowledge_many([first])  # nothing committed yet: at once
        assert await _committed(kafka, source.group_id, topic) == 1
        await source.acknowledge_many([second, third])  # within the interval: held
        assert await _committed(kafka, source.group_id, topic) == 1

        await asyncio.sleep(1.1)
        assert await source.fetch(10, 0.05) == []  # the interval has passed: committed first
        assert await _committed(kafka, source.group_id, topic) == 3


async def test_stop_commits_what_was_settled(kafka: KafkaKit) -> None:
    topic = await _topic_with(kafka, 2)
    async with _source(kafka, topic, interval_ms=60_000) as source:
        first, second = await _fetch(source, 2)
        await source.acknowledge_many([first])
        await source.acknowledge_many([second])
        assert await _committed(kafka, source.group_id, topic) == 1
    assert await _committed(kafka, source.group_id, topic) == 2


async def test_an_interval_of_zero_commits_every_batch(kafka: KafkaKit) -> None:
    topic = await _topic_with(kafka, 2)
    async with _source(kafka, topic, interval_ms=0) as source:
        first, second = await _fetch(source, 2)
        await source.acknowledge_many([first])
        await source.acknowledge_many([second])
        assert await _committed(kafka, source.group_id, topic) == 2
