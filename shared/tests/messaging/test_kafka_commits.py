"""The offset commit's edges that a live broker does not show on demand: a partition revoked
while its offset waited, and a broker that stops answering. Pure (a stand-in client)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.structs import TopicPartition

from naervaer.messaging import KafkaSource, Subscription, kafka_source
from naervaer.messaging.source import IncomingMessage

KEPT, REVOKED = TopicPartition("t", 0), TopicPartition("t", 1)


async def _ignore(*_: object) -> None:
    return None


class Client:
    """What ``KafkaSource`` asks of aiokafka's consumer when it commits."""

    def __init__(self, *, hangs: bool = False) -> None:
        self.hangs = hangs
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return {KEPT}

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        if self.hangs:
            await asyncio.Event().wait()  # a broker that never answers
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})


def source_with(client: Client) -> KafkaSource:
    source = KafkaSource("127.0.0.1:9", Subscription("commits", ("t",), _ignore))
    source._consumer = client  # type: ignore[assignment]
    return source


def message(partition: int, offset: int) -> IncomingMessage:
    return IncomingMessage("t", partition, offset, None, b"", ())


async def test_only_the_partitions_still_assigned_are_committed() -> None:
    """aiokafka refuses the whole request when one partition is no longer assigned: the
    others' offsets must not go down with it."""
    client = Client()
    source = source_with(client)

    await source.acknowledge_many([message(0, 4), message(1, 6)])

    assert client.commits == [{KEPT: 5}]


async def test_a_commit_the_broker_never_answers_is_kept_for_the_next_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kafka_source, "COMMIT_TIMEOUT_S", 0.05)
    client = Client(hangs=True)
    source = source_with(client)

    await source.acknowledge_many([message(0, 4)])  # returns: the wait is bounded
    client.hangs = False
    await source.acknowledge_many([message(0, 2)])  # an older offset never wins

    assert client.commits == [{KEPT: 5}]
