"""Kafka as a message source: one consumer group per subscription, offsets committed by hand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.messaging.source import IncomingMessage
from naervaer.messaging.subscription import Subscription
from naervaer.settings import PlatformSettings

log = structlog.get_logger(__name__)

COMMIT_TIMEOUT_S = 5.0
"""How long an offset commit may take: a broker that is gone must hold up neither the next
fetch (whose own failure then restarts the consumer) nor a stop. The offsets are kept for the
next try, and a commit never sent only means redelivered duplicates."""


class KafkaSource:
    """Reads a subscription's topics as the consumer group ``subscription.name``.

    Auto-commit is off: the offset of a message is committed only after its database
    transaction, so a crash in between redelivers it and the inbox recognises the duplicate.

    ``fetch_max_wait_ms`` bounds how long a fetch request waits on the broker for new data.
    The default is the Kafka client's: Kafka answers a waiting fetch as soon as data arrives.
    Tansu answers only when the wait ends, so there the wait becomes the pipeline's latency
    (measured on an in-memory Tansu: produce → received p50 ~130 ms at 500, ~2 ms at 10), and
    a short wait is worth it. It is not the default because each idle consumer then polls
    every few tens of milliseconds, and a Tansu that keeps its log in storage answers every
    poll with storage reads: with S3 the polls of a few services saturated the storage and
    delivery slowed to one batch every few seconds (the fault-injection suite's redelivery
    timed out).

    ``fetch_min_bytes`` is the data a fetch waits for (up to ``fetch_max_wait_ms``) before the
    broker answers it; 1, the client's default, answers as soon as anything is there. More
    gathers more messages a fetch at moderate rates, so the consumer settles fewer, larger
    batches (fewer transactions and offset commits an event), for up to the wait in latency.

    ``commit_interval_ms`` is how long an acknowledged offset may wait before it is committed,
    with the ones acknowledged after it in one request (0: after every batch). Only offsets
    of messages whose transactions committed are ever sent, so nothing is lost; what a crash
    or a rebalance redelivers is at most that much more, and the inbox sees it as duplicates.
    A pending commit goes before the next fetch once due (the fetch waits no longer than
    that) and when the source stops; it names only partitions still assigned (a revoked
    one's new owner redelivers) and waits at most ``COMMIT_TIMEOUT_S`` (its offsets are then
    kept for the next try).
    """

    def __init__(
        self,
        bootstrap: str,
        subscription: Subscription,
        *,
        session_timeout_ms: int = 10_000,
        client_id: str | None = None,
        fetch_max_wait_ms: int = 500,
        fetch_min_bytes: int = 1,
        commit_interval_ms: int = 0,
        group_id: str | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._group = group_id or subscription.name
        self._topics = subscription.topics
        self._session_timeout_ms = session_timeout_ms
        self._client_id = client_id or subscription.name
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._fetch_min_bytes = fetch_min_bytes
        self._commit_interval_s = commit_interval_ms / 1000
        self._consumer: AIOKafkaConsumer | None = None
        self._next_offsets: dict[TopicPartition, int] = {}  # acknowledged: for the lag
        self._pending: dict[TopicPartition, int] = {}  # acknowledged, not committed yet
        self._pending_since = 0.0  # when the oldest of them was acknowledged

    @classmethod
    def from_settings(cls, settings: PlatformSettings, subscription: Subscription) -> KafkaSource:
        if settings.kafka_bootstrap is None:
            raise ValueError("KafkaSource needs NAERVAER_KAFKA_BOOTSTRAP")
        return cls(
            settings.kafka_bootstrap,
            subscription,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            fetch_min_bytes=settings.kafka_fetch_min_bytes,
            commit_interval_ms=settings.kafka_commit_interval_ms,
            group_id=consumer_group(settings, subscription),
        )

    @property
    def group_id(self) -> str:
        return self._group

    async def start(self) -> None:
        # A fresh client on every start: an AIOKafkaConsumer cannot be restarted after stop().
        self._next_offsets.clear()
        self._pending.clear()
        self._consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self._group,
            client_id=self._client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(100, self._session_timeout_ms // 3),
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            fetch_min_bytes=self._fetch_min_bytes,
        )
        await self._consumer.start()

    async def stop(self) -> None:
        try:
            if self._consumer is not None and self._pending:
                await self._commit_pending()
        finally:
            consumer, self._consumer = self._consumer, None
            if consumer is not None:
                await consumer.stop()

    async def fetch(self, max_messages: int, timeout_s: float) -> list[IncomingMessage]:
        if self._pending:
            due_in = self._pending_since + self._commit_interval_s - time.monotonic()
            if due_in <= 0:
                await self._commit_pending()
            else:
                timeout_s = min(timeout_s, due_in)  # back in time to send it
        batches = await self._client.getmany(
            timeout_ms=int(timeout_s * 1000), max_records=max_messages
        )
        # getmany keeps each partition's records in offset order; partitions come one after
        # the other, so processing the list in turn keeps the per-key order.
        return [_incoming(record) for records in batches.values() for record in records]

    async def before_commit(self, tx: AsyncConnection, message: IncomingMessage) -> None:
        """Nothing to do: Kafka keeps the position (see ``acknowledge``)."""

    async def acknowledge(self, message: IncomingMessage) -> None:
        await self.acknowledge_many([message])

    async def acknowledge_many(self, messages: Sequence[IncomingMessage]) -> None:
        """Commit the next offset of every partition in ``messages`` in one request, now or
        with the next ones within ``commit_interval_ms``."""
        offsets = {
            TopicPartition(message.topic, message.partition): message.offset + 1
            for message in messages  # in offset order per partition: the last one wins
        }
        if not offsets:
            return
        self._next_offsets.update(offsets)
        if not self._pending:
            self._pending_since = time.monotonic()
        self._keep(offsets)
        if time.monotonic() - self._pending_since >= self._commit_interval_s:
            await self._commit_pending()

    async def _commit_pending(self) -> None:
        """Commit the pending offsets of the partitions still assigned (a revoked one's new
        owner redelivers from its last commit; the inbox sees duplicates)."""
        pending, self._pending = self._pending, {}
        client = self._client
        assigned = client.assignment()
        offsets = {tp: offset for tp, offset in pending.items() if tp in assigned}
        if not offsets:
            return
        try:
            async with asyncio.timeout(COMMIT_TIMEOUT_S):
                await client.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
        except TimeoutError:
            log.warning("offset commit timed out", partitions=sorted(map(str, offsets)))
            self._keep(offsets)  # tried again with the next ones
            self._pending_since = time.monotonic()
        except (CommitFailedError, IllegalStateError) as exc:
            # A partition went to another member in a rebalance; it will redeliver the
            # messages and the inbox will see them as duplicates.
            log.warning(
                "offset commit failed", partitions=sorted(map(str, offsets)), error=str(exc)
            )

    def _keep(self, offsets: dict[TopicPartition, int]) -> None:
        """Add ``offsets`` to the pending ones; a partition's highest wins."""
        for partition, offset in offsets.items():
            self._pending[partition] = max(offset, self._pending.get(partition, offset))

    async def lag(self) -> dict[tuple[str, int], int]:
        client = self._client
        lags: dict[tuple[str, int], int] = {}
        for partition in client.assignment():
            highwater = client.highwater(partition)
            if highwater is None:  # nothing fetched from it yet
                continue
            done = self._next_offsets.get(partition)
            if done is None:
                try:
                    done = await client.position(partition)
                except (KafkaError, IllegalStateError):
                    continue
            lags[(partition.topic, partition.partition)] = max(0, highwater - done)
        return lags

    @property
    def _client(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("KafkaSource is not started")
        return self._consumer


def _incoming(record: Any) -> IncomingMessage:
    return IncomingMessage(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value or b"",  # a tombstone (None) is poison: no envelope
        headers=tuple((name, bytes(value)) for name, value in record.headers or ()),
    )


def consumer_group(settings: PlatformSettings, subscription: Subscription) -> str:
    """The subscription's Kafka consumer group, under the deployment's topic prefix: two
    deployments sharing a cluster (``staging.``, ``prod.``) must never share a group, or a
    rebalance would hand one's partitions to the other's consumers."""
    return f"{settings.topic_prefix}{subscription.name}"
