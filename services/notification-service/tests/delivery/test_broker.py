"""Through the real Kafka-protocol broker: a message redelivered after a crash before its
offset was committed still yields one email per recipient."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from naervaer.envelope import Envelope
from naervaer.messaging import (
    Consumer,
    KafkaSource,
    LocalDeadLetterSink,
    SimulatedCrash,
    Subscription,
)
from naervaer.topics import ensure_topics
from notification_service.adapters.tables import consumers
from notification_service.app.planner import DEADLINE_EVENT_TYPES

from ..conftest import Harness
from ..support import SmtpServer, deadline_payload, envelope, eventually

pytestmark = pytest.mark.integration


# PostgreSQL + Kafka is the deployment's combination; the transport does not care which.
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_broker_redelivery_sends_one_email(
    harness: Harness, smtp: SmtpServer, kafka_bootstrap: str
) -> None:
    smtp.start()
    await harness.recipient("mgr-1", email="leder@example.com")
    await harness.recipient("emp-1", email="ola@example.com")
    topic = f"deadline-events.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=1)
    subscription = Subscription(
        name=f"notification-test-{uuid.uuid4().hex[:8]}",
        topics=(topic,),
        handler=harness.planner.on_deadline_event,
        event_types=DEADLINE_EVENT_TYPES,
    )
    first = envelope(*deadline_payload("approaching"), stream="case-1")
    again = envelope(*deadline_payload("approaching"), stream="case-1")  # re-announced
    await _publish(kafka_bootstrap, topic, [first, again])

    # The first consumer handles what it fetched (the first message, or both as a batch),
    # commits its transaction, then crashes before committing the offset: the broker will
    # deliver it again.
    with pytest.raises(SimulatedCrash):
        await _consumer(harness, subscription, kafka_bootstrap, crash=True).run(asyncio.Event())
    assert len(await harness.deliveries()) == 2

    stop = asyncio.Event()
    survivor = _consumer(harness, subscription, kafka_bootstrap, crash=False)
    task = asyncio.create_task(survivor.run(stop))
    try:
        await eventually(lambda: _handled(subscription.name), what="the redelivery and the rest")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
    assert await harness.drain() == 2
    assert sorted(str(m["To"]) for m in smtp.messages) == ["leder@example.com", "ola@example.com"]


def _consumer(
    harness: Harness, subscription: Subscription, bootstrap: str, *, crash: bool
) -> Consumer:
    return Consumer(
        subscription,
        harness.engine,
        consumers,
        KafkaSource(bootstrap, subscription, session_timeout_ms=3000),
        LocalDeadLetterSink(harness.engine, consumers),
        service="notification-service",
        crash_before_ack=(lambda _message: True) if crash else None,
        lag_interval_s=0.0,
    )


async def _publish(bootstrap: str, topic: str, events: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topic, event.to_json_bytes(), key=event.streamid.encode())
    finally:
        await producer.stop()


async def _handled(consumer: str) -> bool:
    """Both messages handled once, and what the crash left unacknowledged came again as
    duplicates: one, or both when the first fetch brought both and they settled as a batch."""

    def count(outcome: str) -> float:
        labels = {"service": "notification-service", "consumer": consumer, "outcome": outcome}
        return REGISTRY.get_sample_value("naervaer_messages_handled_total", labels) or 0.0

    return count("duplicate") >= 1 and count("handled") == 2
