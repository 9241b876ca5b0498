"""Dead letters: messages a consumer gave up on, kept for inspection and replay.

Every sink writes a ``dead_letters`` row in the consumer's own database; the Kafka sink also
publishes the original message to ``<prefix><consumer>.dlq`` with headers that say why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.envelope import Envelope
from naervaer.messaging import inbox
from naervaer.messaging.source import IncomingMessage
from naervaer.messaging.tables import ConsumerTables
from naervaer.outbox import OutgoingMessage, Publisher

MAX_ERROR_CHARS = 4000


class DeadLetterSink(Protocol):
    """Where a message goes after its last failed attempt (or at once, when unparsable)."""

    async def send(
        self, message: IncomingMessage, error: BaseException, attempts: int, *, consumer: str
    ) -> None: ...


def describe_error(error: BaseException) -> str:
    """``Type: message``, cut to a size fit for a header or a log line."""
    return f"{type(error).__qualname__}: {error}"[:MAX_ERROR_CHARS]


class LocalDeadLetterSink:
    """Only the ``dead_letters`` row: the whole record in the embedded default (no Kafka)."""

    def __init__(self, engine: AsyncEngine, tables: ConsumerTables) -> None:
        self._engine = engine
        self._tables = tables

    async def send(
        self, message: IncomingMessage, error: BaseException, attempts: int, *, consumer: str
    ) -> None:
        envelope = _envelope_or_none(message.value)
        async with self._engine.begin() as tx:
            await inbox.record_dead_letter(
                tx,
                self._tables,
                consumer=consumer,
                event_id=envelope.id if envelope else None,
                event_type=envelope.type if envelope else None,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                position=envelope.globalposition if envelope else None,
                attempts=attempts,
                error=describe_error(error),
                key=message.key,
                payload=message.value,
            )


class KafkaDeadLetterSink:
    """The original record on ``<topic_prefix><consumer>.dlq``, plus the local row.

    The record keeps the original key, value and headers and adds ``dlq.*`` headers: error
    type and message, attempts, consumer, original topic/partition/offset and failure time.
    """

    def __init__(
        self, publisher: Publisher, topic_prefix: str, engine: AsyncEngine, tables: ConsumerTables
    ) -> None:
        self._publisher = publisher
        self._topic_prefix = topic_prefix
        self._local = LocalDeadLetterSink(engine, tables)

    def topic_for(self, consumer: str) -> str:
        return f"{self._topic_prefix}{consumer}.dlq"

    async def send(
        self, message: IncomingMessage, error: BaseException, attempts: int, *, consumer: str
    ) -> None:
        # The topic first: if the local write then fails, the message is retried and at worst
        # reaches the topic twice; the other order could lose it from the topic.
        record = OutgoingMessage(
            topic=self.topic_for(consumer),
            key=message.key or b"",
            value=message.value,
            headers=message.headers + _failure_headers(message, error, attempts, consumer),
        )
        await self._publisher.publish([record])
        await self._local.send(message, error, attempts, consumer=consumer)


def _failure_headers(
    message: IncomingMessage, error: BaseException, attempts: int, consumer: str
) -> tuple[tuple[str, bytes], ...]:
    values = {
        "dlq.error.type": type(error).__qualname__,
        "dlq.error.message": str(error)[:MAX_ERROR_CHARS],
        "dlq.attempts": str(attempts),
        "dlq.consumer": consumer,
        "dlq.original.topic": message.topic,
        "dlq.original.partition": str(message.partition),
        "dlq.original.offset": str(message.offset),
        "dlq.failed_at": datetime.now(UTC).isoformat(),
    }
    return tuple((name, value.encode()) for name, value in values.items())


def _envelope_or_none(raw: bytes) -> Envelope | None:
    try:
        return Envelope.from_json_bytes(raw)
    except ValidationError:
        return None
