"""Broker outage: the relay keeps going, reports its lag and drains the backlog in order."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator

from aiokafka.structs import ConsumerRecord
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore, EventStoreTables, NewEvent
from naervaer.outbox import KafkaPublisher, OutboxRelay
from naervaer.testing.servers import LocalKafka

Consume = Callable[[str, str, int], Awaitable[list[ConsumerRecord]]]
Until = Callable[[Callable[[], Awaitable[bool]], str], Awaitable[None]]
Running = Callable[[OutboxRelay], contextlib.AbstractAsyncContextManager[None]]


@contextlib.contextmanager
def broker(port: int | None = None) -> Iterator[LocalKafka]:
    kafka = LocalKafka() if port is None else LocalKafka(port=port)
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.kill()


def metric(name: str, service: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": service}) or 0.0


async def test_backlog_drains_in_order_after_a_broker_outage(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    topic: str,
    service: str,
    consume: Consume,
    until: Until,
    running: Running,
) -> None:
    store = make_store(engine, tables)
    cases = [f"case-{n}" for n in range(4)]
    with broker() as first:
        publisher = KafkaPublisher(first.bootstrap, client_id="outage", request_timeout_ms=1000)
        relay = OutboxRelay(
            engine,
            tables,
            publisher,
            service=service,
            poll_interval_s=0.2,
            retry_base_s=0.05,
            retry_cap_s=0.5,
        )

        async def pending(count: int) -> bool:
            return (await relay.lag()).pending == count

        async def failed() -> bool:
            return metric("naervaer_outbox_publish_failures_total", service) > 0

        async def gauge_shows_backlog() -> bool:
            return metric("naervaer_outbox_pending", service) == 20

        async with running(relay):
            await store.append(
                "warm-up", [NewEvent("case.noted", {})], tenant="t", expected_version=0
            )
            await until(lambda: pending(0), "the warm-up event to be published")

            first.kill()  # Tansu is memory-only: the restarted broker below starts empty
            for version in range(5):
                for case in cases:
                    await store.append(
                        case,
                        [NewEvent("case.noted", {"v": version})],
                        tenant="t",
                        expected_version=version,
                    )
            await until(failed, "a failed publish")
            lag = await relay.lag()
            assert lag.pending == 20
            assert lag.oldest_age_s > 0
            await until(gauge_shows_backlog, "the pending gauge")

            with broker(port=first.port) as second:
                await until(lambda: pending(0), "the backlog to drain")
                records = await consume(second.bootstrap, topic, 20)
        await publisher.stop()

    envelopes = [Envelope.from_json_bytes(r.value) for r in records]
    assert sorted(e.globalposition or 0 for e in envelopes) == list(range(2, 22))
    by_partition: dict[int, list[int]] = defaultdict(list)
    by_case: dict[str, list[int]] = defaultdict(list)
    for record, envelope in zip(records, envelopes, strict=True):
        by_partition[record.partition].append(envelope.globalposition or 0)
        by_case[envelope.streamid].append(envelope.streamversion)
    assert all(p == sorted(p) for p in by_partition.values())
    assert by_case == {case: [1, 2, 3, 4, 5] for case in cases}
    assert metric("naervaer_outbox_oldest_age_seconds", service) == 0
