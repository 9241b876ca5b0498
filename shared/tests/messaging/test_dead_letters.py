"""Poison messages and handlers that always fail end on the dead-letter topic, not in a loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.envelope import Envelope
from naervaer.messaging import KafkaDeadLetterSink, KafkaSource, Subscription
from naervaer.outbox import KafkaPublisher

if TYPE_CHECKING:
    from shared.tests.messaging.kits import Db, KafkaKit, Kit

pytestmark = pytest.mark.integration

PREFIX = "naervaer-test."


@pytest.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[KafkaPublisher]:
    publisher = KafkaPublisher(kafka_bootstrap, client_id="dead-letter-test")
    await publisher.start()
    yield publisher
    await publisher.stop()


async def test_poison_and_failing_messages_go_to_the_dlq_and_the_consumer_moves_on(
    kit: type[Kit], kafka: KafkaKit, pg_db: Db, publisher: KafkaPublisher
) -> None:
    name, topic = kit.unique("dlq"), kit.unique("topic")
    await kafka.create_topic(topic)
    doomed, fine = kit.envelope("case-1", 1, type="case.doomed"), kit.envelope("case-1", 2)
    await kafka.produce(
        topic,
        [
            (b"case-1", b"this is not json {", [("traceparent", b"00-abc")]),
            kit.record(doomed),
            kit.record(fine),
        ],
    )

    async def handle(tx: AsyncConnection, envelope: Envelope) -> None:
        if envelope.type == "case.doomed":
            raise RuntimeError("deadline rule blew up")
        await pg_db.record(tx, name, envelope)

    subscription = Subscription(name, (topic,), handle)
    sink = KafkaDeadLetterSink(publisher, PREFIX, pg_db.engine, pg_db.tables)
    source = KafkaSource(kafka.bootstrap, subscription, session_timeout_ms=2000)
    consumer = pg_db.consumer(
        subscription,
        source,
        dead_letters=sink,
        max_attempts=3,
        retry_base_s=0.01,
        poll_timeout_s=0.2,
    )
    async with kit.running(consumer):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 1, what="the next message")

    assert kit.outcomes(name, "dead_lettered") == 2
    assert kit.handler_failures(name, "case.doomed") == 3
    assert [row[0] for row in await pg_db.effect_rows(name)] == [fine.id]

    poison, failed = await kafka.read(f"{PREFIX}{name}.dlq", 2)
    assert poison.key == b"case-1"
    assert poison.value == b"this is not json {"
    poison_headers = dict(poison.headers)
    assert poison_headers["traceparent"] == b"00-abc"  # the original headers stay
    assert poison_headers["dlq.error.type"] == b"ValidationError"
    assert poison_headers["dlq.attempts"] == b"1"
    assert poison_headers["dlq.original.topic"] == topic.encode()
    assert poison_headers["dlq.original.partition"] == b"0"
    assert poison_headers["dlq.original.offset"] == b"0"
    assert poison_headers["dlq.consumer"] == name.encode()

    assert failed.value == doomed.to_json_bytes()
    failed_headers = dict(failed.headers)
    assert failed_headers["dlq.error.type"] == b"RuntimeError"
    assert failed_headers["dlq.error.message"] == b"deadline rule blew up"
    assert failed_headers["dlq.attempts"] == b"3"
    assert failed_headers["dlq.original.offset"] == b"1"

    letters = pg_db.tables.dead_letters
    async with pg_db.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(letters.c.event_id, letters.c.offset, letters.c.attempts, letters.c.error)
                .where(letters.c.consumer == name)
                .order_by(letters.c.id)
            )
        ).all()
    assert [tuple(row[:3]) for row in rows] == [(None, 0, 1), (doomed.id, 1, 3)]
    assert rows[1].error == "RuntimeError: deadline rule blew up"
