"""The embedded transport: the same Consumer reads a producing EventStore's log by position."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

import naervaer.db
from naervaer.envelope import Envelope
from naervaer.messaging import (
    Consumer,
    EmbeddedLogSource,
    IncomingMessage,
    SimulatedCrash,
    Subscription,
)

if TYPE_CHECKING:
    from shared.tests.messaging.conftest import LogSetup
    from shared.tests.messaging.kits import Kit

pytestmark = pytest.mark.integration

TOPIC = "naervaer.case-events"


def embedded_consumer(
    setup: LogSetup,
    subscription: Subscription,
    *,
    crash_before_ack: Callable[[IncomingMessage], bool] | None = None,
) -> Consumer:
    db = setup.db
    source = EmbeddedLogSource(
        {TOPIC: setup.store}, subscription, db.engine, db.tables, poll_interval_s=0.02
    )
    return db.consumer(
        subscription,
        source,
        max_attempts=2,
        retry_base_s=0.01,
        crash_before_ack=crash_before_ack,
        poll_timeout_s=0.1,
        lag_interval_s=0.0,
        batch_size=4,  # several fetches, so resuming mid-log is exercised
    )


def subscription_for(setup: LogSetup, name: str) -> Subscription:
    async def handle(tx: AsyncConnection, envelope: Envelope) -> None:
        if envelope.type == "case.broken":
            raise ValueError("cannot handle a broken case")
        await setup.db.record(tx, name, envelope)

    wanted = frozenset({"case.opened", "case.noted", "case.broken"})
    return Subscription(name, (TOPIC,), handle, event_types=wanted)


async def checkpoint(setup: LogSetup, name: str) -> int | None:
    table = setup.db.tables.checkpoints
    async with setup.db.engine.connect() as connection:
        statement = select(table.c.position).where(
            table.c.consumer == name, table.c.source == TOPIC
        )
        return (await connection.execute(statement)).scalar_one_or_none()


async def test_consumes_in_log_order_and_resumes_at_the_checkpoint(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    name = kit.unique(f"embedded-{log_setup.backend}")
    for case in ("case-1", "case-2", "case-3"):
        await log_setup.append(case, "case.opened", "case.closed", "case.noted")
    await log_setup.append("case-2", "case.broken", "case.noted")
    subscription = subscription_for(log_setup, name)

    async with kit.running(embedded_consumer(log_setup, subscription)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 7, what="7 handled")
        await kit.eventually(lambda: kit.outcomes(name, "skipped") == 3, what="3 skipped")
        # reported after the fetch's messages are settled, so waited for as well
        await kit.eventually(lambda: kit.lag(name, TOPIC, 0) == 0, what="no lag reported")

    log = await log_setup.store.read_all(0, 100)
    assert await checkpoint(log_setup, name) == log[-1].globalposition == 11
    handled = [e.id for e in log if e.type in {"case.opened", "case.noted"}]
    assert [row[0] for row in await log_setup.db.effect_rows(name)] == handled
    assert kit.outcomes(name, "dead_lettered") == 1
    assert await log_setup.db.count(log_setup.db.tables.dead_letters, name) == 1

    await log_setup.append("case-4", "case.opened", "case.noted")
    async with kit.running(embedded_consumer(log_setup, subscription)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 9, what="2 more handled")

    assert kit.outcomes(name, "duplicate") == 0  # resumed exactly where it stopped
    rows = await log_setup.db.effect_rows(name)
    assert len(rows) == len({row[0] for row in rows}) == 9
    assert await checkpoint(log_setup, name) == 13


async def test_checkpoint_commits_with_the_effect_so_a_crash_redelivers_nothing(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    name = kit.unique(f"embedded-crash-{log_setup.backend}")
    await log_setup.append("case-1", "case.opened", "case.noted", "case.noted")
    subscription = subscription_for(log_setup, name)
    crashing = embedded_consumer(
        log_setup, subscription, crash_before_ack=lambda message: message.offset == 2
    )

    with pytest.raises(SimulatedCrash):
        await asyncio.wait_for(crashing.run(asyncio.Event()), timeout=15)
    # The three events are one batch: committed with the effects, so no ack is needed.
    assert await checkpoint(log_setup, name) == 3

    async with kit.running(embedded_consumer(log_setup, subscription)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 3, what="3 handled")

    assert kit.outcomes(name, "duplicate") == 0
    assert len(await log_setup.db.effect_rows(name)) == 3


class FailingOnce:
    """A source that loses its connection on the first fetch, as a restarted database would."""

    def __init__(self, inner: EmbeddedLogSource) -> None:
        self.inner, self.starts, self.failed = inner, 0, False

    async def start(self) -> None:
        self.starts += 1
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def fetch(self, max_messages: int, timeout_s: float) -> list[IncomingMessage]:
        messages = await self.inner.fetch(max_messages, timeout_s)
        if messages and not self.failed:
            self.failed = True
            raise ConnectionResetError("connection to the log lost")
        return messages

    async def before_commit(self, tx: AsyncConnection, message: IncomingMessage) -> None:
        await self.inner.before_commit(tx, message)

    async def acknowledge(self, message: IncomingMessage) -> None:
        await self.inner.acknowledge(message)

    async def acknowledge_many(self, messages: Sequence[IncomingMessage]) -> None:
        await self.inner.acknowledge_many(messages)

    async def lag(self) -> dict[tuple[str, int], int]:
        return await self.inner.lag()


async def test_run_restarts_the_source_after_an_infrastructure_failure(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    name = kit.unique(f"embedded-restart-{log_setup.backend}")
    await log_setup.append("case-1", "case.opened", "case.noted")
    subscription = subscription_for(log_setup, name)
    db = log_setup.db
    source = FailingOnce(
        EmbeddedLogSource({TOPIC: log_setup.store}, subscription, db.engine, db.tables)
    )
    consumer = db.consumer(subscription, source, retry_base_s=0.01, poll_timeout_s=0.1)

    async with kit.running(consumer):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 2, what="both handled")

    assert source.failed
    assert source.starts == 2
    assert len(await db.effect_rows(name)) == 2


@pytest.mark.parametrize("log_setup", ["postgresql"], indirect=True)  # SQLite: no statistics
async def test_a_consumer_analyses_its_tables_as_a_backlog_fills_them(
    kit: type[Kit], log_setup: LogSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Working through a backlog fills the tables faster than autovacuum analyses them: the
    consumer analyses its schema once the messages it took pass the first threshold (here 3)
    and not again before twice that."""
    monkeypatch.setattr(naervaer.db, "ANALYSE_FIRST_AT", 3)
    name = kit.unique("analysed")
    await log_setup.append("case-1", "case.opened", "case.noted", "case.noted")
    await log_setup.append("case-2", "case.opened", "case.noted")
    subscription = subscription_for(log_setup, name)

    assert await log_setup.db.effects_planned_for() == -1  # never analysed
    seen = log_setup.db.analyses(monkeypatch, name, slow_s=0.5)  # stopping waits for it
    async with kit.running(embedded_consumer(log_setup, subscription)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 5, what="5 handled")
    # The first fetch (4 messages) passed 3: analysed then (beside the consumer, so 4 rows
    # or 5), not again: 5 < 6. Over when the consumer has stopped.
    assert len(seen) == 1
    assert seen[0] >= 4
    assert await log_setup.db.effects_planned_for() >= 4
