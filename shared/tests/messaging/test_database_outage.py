"""A database that is down is not the message's fault: the consumer restarts and tries again
later, and never dead-letters the message. Found by the fault-injection suite: messages were
dead-lettered while PostgreSQL restarted, because asyncpg raises a refused connection as a bare
``ConnectionRefusedError`` (see ``test_outages`` for what counts as an outage)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.db import DatabaseTarget, create_engine
from naervaer.envelope import Envelope
from naervaer.messaging import Consumer, IncomingMessage, Subscription, consumer_tables
from naervaer.testing.servers import free_port

if TYPE_CHECKING:
    from shared.tests.messaging.kits import Kit


class OneMessage:
    """A source that delivers the same unacknowledged message after every restart."""

    def __init__(self, envelope: Envelope) -> None:
        self.message = IncomingMessage("naervaer.case-events", 0, 0, b"k", envelope.to_json_bytes())
        self.starts = 0
        self._delivered = False

    async def start(self) -> None:
        self.starts += 1
        self._delivered = False

    async def stop(self) -> None:
        pass

    async def fetch(self, max_messages: int, timeout_s: float) -> list[IncomingMessage]:
        if self._delivered:
            await asyncio.sleep(timeout_s)
            return []
        self._delivered = True
        return [self.message]

    async def before_commit(self, tx: AsyncConnection, message: IncomingMessage) -> None:
        pass

    async def acknowledge(self, message: IncomingMessage) -> None:
        raise AssertionError("nothing can be acknowledged while the database is down")

    async def lag(self) -> dict[tuple[str, int], int]:
        return {}


class DeadLetters:
    def __init__(self) -> None:
        self.sent: list[IncomingMessage] = []

    async def send(
        self, message: IncomingMessage, error: BaseException, attempts: int, *, consumer: str
    ) -> None:
        self.sent.append(message)


async def _never_called(_tx: AsyncConnection, _envelope: Envelope) -> None:
    raise AssertionError("the handler runs only inside a database transaction")


async def test_a_database_that_refuses_connections_restarts_the_consumer(
    kit: type[Kit],
) -> None:
    name = kit.unique("outage")
    down = DatabaseTarget(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x", "s")
    engine = create_engine(down)
    source, dead_letters = OneMessage(kit.envelope()), DeadLetters()
    consumer = Consumer(
        Subscription(name, ("naervaer.case-events",), _never_called),
        engine,
        consumer_tables(MetaData()),
        source,
        dead_letters,
        service="test-service",
        max_attempts=2,
        retry_base_s=0.01,
        poll_timeout_s=0.05,
    )
    try:
        async with kit.running(consumer):
            # Before the fix the first round already dead-lettered it (max_attempts=2).
            await kit.eventually(lambda: source.starts >= 2, what="a restart", timeout_s=60)
    finally:
        await engine.dispose()

    assert dead_letters.sent == []
    assert kit.handler_failures(name, "case.opened") == 0
