"""The relay wakes on its own schema's appends only: services sharing one database (and one
NOTIFY channel) must not make each other's relays drain on every append. Woken, it lingers
as long as it is told before it drains (``NAERVAER_OUTBOX_LINGER_MS``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import NOTIFY_CHANNEL, EventStore, EventStoreTables, NewEvent
from naervaer.outbox import OutboxRelay, relay
from naervaer.outbox.listener import NotifyListener
from shared.tests.outbox.publishers import RecordingPublisher

Until = Callable[[Callable[[], Awaitable[bool]], str], Awaitable[None]]
Running = Callable[[OutboxRelay], contextlib.AbstractAsyncContextManager[None]]


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


async def test_a_lingering_relay_sends_the_appends_of_its_linger_in_one_batch(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
    until: Until,
    running: Running,
) -> None:
    store = make_store(pg_engine, pg_tables)
    publisher = RecordingPublisher()
    # Polling every minute: the drain after the appends is the first NOTIFY's, 2 s later.
    relay = _Counted(
        pg_engine, pg_tables, publisher, service=service, poll_interval_s=60, linger_s=2.0
    )
    async with running(relay):
        await _settled(relay, pg_engine, until)
        for n, case in enumerate(("a", "b", "c")):
            await _noted(store, case, n)
            await asyncio.sleep(0.1)  # a relay that did not linger would drain each alone
        await until(lambda: _published(publisher, 3), "the appends to be published")
    assert publisher.sizes == [3]


async def test_a_wake_during_a_drain_still_waits_the_whole_linger_after_it(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
    until: Until,
    running: Running,
) -> None:
    store = make_store(pg_engine, pg_tables)
    gate = asyncio.Event()
    publisher = RecordingPublisher(gate)
    relay = _Counted(
        pg_engine, pg_tables, publisher, service=service, poll_interval_s=60, linger_s=2.0
    )
    async with running(relay):
        await _settled(relay, pg_engine, until)
        await _noted(store, "a", 1)
        await asyncio.wait_for(publisher.entered.wait(), timeout=20)  # draining "a", held
        await _noted(store, "b", 2)
        await asyncio.sleep(2.2)  # the NOTIFY of "b" is older than the linger when it ends
        gate.set()
        await asyncio.sleep(0.3)  # the relay lingers 2 s after the drain, not after the NOTIFY
        await _noted(store, "c", 3)
        await until(lambda: _published(publisher, 3), "the appends to be published")
    assert publisher.sizes == [1, 2]


async def test_a_lingering_relay_stops_when_asked(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
    until: Until,
    running: Running,
) -> None:
    store = make_store(pg_engine, pg_tables)
    publisher = RecordingPublisher()
    relay = OutboxRelay(
        pg_engine, pg_tables, publisher, service=service, poll_interval_s=60, linger_s=3600
    )
    async with running(relay):  # waits 15 s at most for the relay to stop
        await until(lambda: _listening(pg_engine), "the relay to LISTEN")
        await _noted(store, "a", 1)
        await asyncio.sleep(0.3)  # woken (by the NOTIFY or the listener's catch-up): lingering
    assert publisher.sizes == []


async def test_a_relay_that_does_not_lead_takes_over_at_its_poll_without_lingering(
    pg_engine: AsyncEngine,
    pg_tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    service: str,
    until: Until,
    running: Running,
) -> None:
    store = make_store(pg_engine, pg_tables)
    leader = OutboxRelay(pg_engine, pg_tables, RecordingPublisher(), service=service)
    publisher = RecordingPublisher()
    # It lingers an hour after an append's NOTIFY, but one that does not lead waits for its
    # poll, not for NOTIFYs (next step 34): the appends' NOTIFYs must not make it linger.
    follower = OutboxRelay(
        pg_engine, pg_tables, publisher, service=service, poll_interval_s=0.2, linger_s=3600
    )
    async with contextlib.aclosing(leader):
        assert await leader.drain_once() == 0  # it leads from now on
        async with running(follower):
            await until(lambda: _listening(pg_engine), "the follower to LISTEN")
            await _noted(store, "a", 1)
            await asyncio.sleep(0.5)  # the follower's polls pass; the leader drains nothing
            await leader.aclose()
            await until(lambda: _published(publisher, 1), "the follower to take over")
    assert publisher.sizes == [1]


class _Counted(OutboxRelay):
    """A relay that counts its drains."""

    drains = 0

    async def drain_once(self) -> int:
        published = await super().drain_once()
        self.drains += 1
        return published


async def _drained(relay: _Counted, count: int) -> bool:
    return relay.drains >= count


async def _settled(relay: _Counted, engine: AsyncEngine, until: Until) -> None:
    """Once the relay listens, has drained once and is past the linger of the listener's
    catch-up wake, if any: its next drain is an append's."""
    await until(lambda: _listening(engine), "the relay to LISTEN")
    await until(lambda: _drained(relay, 1), "the relay's first drain")
    await asyncio.sleep(relay._linger_s + 0.5)


async def _noted(store: EventStore, case: str, n: int) -> None:
    await store.append(case, [NewEvent("case.noted", {"n": n})], tenant="t", expected_version=0)


async def _published(publisher: RecordingPublisher, count: int) -> bool:
    return sum(publisher.sizes) >= count


async def _listening(engine: AsyncEngine) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
        "'naervaer-outbox-listener' AND query LIKE 'LISTEN%' AND datname = current_database()"
    )
    async with engine.connect() as conn:
        return bool(await conn.scalar(query))
