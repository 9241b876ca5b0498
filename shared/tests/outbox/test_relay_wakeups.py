"""The relay wakes on its own schema's appends only: services sharing one database (and one
NOTIFY channel) must not make each other's relays drain on every append."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import NOTIFY_CHANNEL, EventStoreTables
from naervaer.outbox import OutboxRelay, relay
from naervaer.outbox.listener import NotifyListener


class CountingEvent(asyncio.Event):
    def __init__(self) -> None:
        super().__init__()
        self.sets = 0

    def set(self) -> None:
        self.sets += 1
        super().set()


def test_a_filtered_listener_ignores_other_payloads() -> None:
    wake = CountingEvent()
    filtered = NotifyListener("postgresql://unused", NOTIFY_CHANNEL, wake, payload="case_service")
    for payload in ("deadline_service", "", "case_service_2", "case_service"):
        filtered._notified(None, 1, NOTIFY_CHANNEL, payload)
    assert wake.sets == 1

    everything = NotifyListener("postgresql://unused", NOTIFY_CHANNEL, wake)
    everything._notified(None, 1, NOTIFY_CHANNEL, "deadline_service")
    assert wake.sets == 2


async def test_the_relay_listens_for_its_own_schema(
    pg_engine: AsyncEngine, pg_tables: EventStoreTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads: list[str | None] = []

    class Recording(NotifyListener):
        def __init__(self, *args: Any, payload: str | None = None, **kwargs: Any) -> None:
            payloads.append(payload)
            super().__init__(*args, payload=payload, **kwargs)

    monkeypatch.setattr(relay, "NotifyListener", Recording)
    stop = asyncio.Event()
    stop.set()  # one pass is enough: the listener is made before the first drain
    await OutboxRelay(pg_engine, pg_tables, _NoPublisher(), service="wakeups").run(stop)

    async with pg_engine.connect() as conn:  # what the store's NOTIFY carries
        schema = await conn.scalar(text("SELECT coalesce(current_schema(), '')"))
    assert payloads == [schema] == ["outbox_test"]


async def test_without_a_database_the_relay_wakes_on_everything(
    pg_tables: EventStoreTables,
) -> None:
    # Nothing listens on port 1: the schema cannot be asked for, so no NOTIFY is filtered out
    # (the relay still starts, and polling covers what NOTIFY would have said).
    down = create_engine(DatabaseTarget("postgresql+asyncpg://nobody@127.0.0.1:1/none", "s"))
    try:
        own = OutboxRelay(down, pg_tables, _NoPublisher(), service="wakeups")
        wakeups = await own._wakeups(asyncio.Event())
    finally:
        await down.dispose()
    assert isinstance(wakeups, NotifyListener)
    assert wakeups._payload is None


class _NoPublisher:
    async def publish(self, messages: Any) -> None:
        raise AssertionError("nothing is pending")
