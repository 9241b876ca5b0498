"""The embedded transport: consumers read the producing service's event log directly.

No broker: the producer's global log (gap-free positions) is the partition, the position is the
offset, and the consumer keeps its checkpoint in its *own* database, in the same transaction as
the inbox row and the handler's effects. So it needs no separate acknowledgement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.envelope import CLOUDEVENTS_CONTENT_TYPE, Envelope
from naervaer.messaging import inbox
from naervaer.messaging.source import IncomingMessage
from naervaer.messaging.subscription import Subscription
from naervaer.messaging.tables import ConsumerTables


class EventLog(Protocol):
    """What the embedded transport needs of a producing service's event store."""

    async def read_all(self, after_position: int, limit: int, /) -> list[Envelope]: ...

    async def head_position(self) -> int: ...


Partition = tuple[str, int]  # (topic, partition): one producing log of a topic


class EmbeddedLogSource:
    """Reads each subscribed topic from the event store(s) that produce it.

    ``stores`` maps a topic to its producing log, or to several (a topic that more than one
    service publishes, such as access records): each log is one totally ordered partition,
    numbered in the order given, with its own checkpoint.
    """

    def __init__(
        self,
        stores: Mapping[str, EventLog | Sequence[EventLog]],
        subscription: Subscription,
        engine: AsyncEngine,
        tables: ConsumerTables,
        *,
        poll_interval_s: float = 0.2,
    ) -> None:
        missing = set(subscription.topics) - set(stores)
        if missing:
            raise ValueError(f"{subscription.name}: no event store for topics {sorted(missing)}")
        self._logs: dict[Partition, EventLog] = {
            (topic, index): log
            for topic, logs in stores.items()
            for index, log in enumerate(logs if isinstance(logs, Sequence) else [logs])
        }
        self._consumer = subscription.name
        self._engine = engine
        self._tables = tables
        self._poll_interval_s = poll_interval_s
        self._fetched: dict[Partition, int] = {}
        self._done: dict[Partition, int] = {}

    async def start(self) -> None:
        async with self._engine.connect() as connection:
            saved = await inbox.load_checkpoints(connection, self._tables, self._consumer)
        self._done = {part: saved.get(checkpoint_source(*part), 0) for part in self._logs}
        self._fetched = dict(self._done)

    async def stop(self) -> None:
        """Nothing to release: the stores' engines belong to whoever built them."""

    async def fetch(self, max_messages: int, timeout_s: float) -> list[IncomingMessage]:
        deadline = time.monotonic() + timeout_s
        while True:
            messages = await self._read(max_messages)
            remaining = deadline - time.monotonic()
            if messages or remaining <= 0:
                return messages
            await asyncio.sleep(min(self._poll_interval_s, remaining))

    async def before_commit(self, tx: AsyncConnection, message: IncomingMessage) -> None:
        source = checkpoint_source(message.topic, message.partition)
        await inbox.save_checkpoint(tx, self._tables, self._consumer, source, message.offset)

    async def acknowledge(self, message: IncomingMessage) -> None:
        self._done[(message.topic, message.partition)] = message.offset

    async def acknowledge_many(self, messages: Sequence[IncomingMessage]) -> None:
        """Only the lag bookkeeping: the checkpoints committed with the batch's transaction."""
        for message in messages:  # in position order per log: the last one wins
            self._done[(message.topic, message.partition)] = message.offset

    async def lag(self) -> dict[tuple[str, int], int]:
        return {
            part: max(0, await log.head_position() - self._done.get(part, 0))
            for part, log in self._logs.items()
        }

    async def _read(self, max_messages: int) -> list[IncomingMessage]:
        # Share the batch between the logs so a busy one cannot starve a quiet one.
        share = max(1, max_messages // len(self._logs))
        messages: list[IncomingMessage] = []
        for (topic, partition), log in self._logs.items():
            for envelope in await log.read_all(self._fetched[(topic, partition)], share):
                messages.append(_incoming(topic, partition, envelope))
                self._fetched[(topic, partition)] = messages[-1].offset
        return messages


def checkpoint_source(topic: str, partition: int) -> str:
    """The checkpoint row's ``source``: the topic, and the partition when there are several."""
    return topic if partition == 0 else f"{topic}#{partition}"


def _incoming(topic: str, partition: int, envelope: Envelope) -> IncomingMessage:
    if envelope.globalposition is None:
        raise ValueError(f"event {envelope.id} read from the log has no global position")
    return IncomingMessage(
        topic=topic,
        partition=partition,
        offset=envelope.globalposition,
        key=envelope.streamid.encode(),
        value=envelope.to_json_bytes(),
        headers=_headers(envelope),
    )


def _headers(envelope: Envelope) -> tuple[tuple[str, bytes], ...]:
    """Kafka-like headers, with the trace context the event was recorded in."""
    headers = [("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())]
    if envelope.traceparent:
        headers.append(("traceparent", envelope.traceparent.encode()))
    if envelope.tracestate:
        headers.append(("tracestate", envelope.tracestate.encode()))
    return tuple(headers)
