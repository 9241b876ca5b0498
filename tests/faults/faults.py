"""The faults: SIGKILL (never a polite shutdown) of the broker, PostgreSQL and each service, and
a consumer killed between its transaction and its offset commit.

Each outage lasts until it has met the stream of commands (a condition polled with a
deadline): commands retried against a dead case service or database, events appended while the
broker or a consumer was gone. Then the component comes back and every service must be ready.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from naervaer.testing.processes import ServiceProcesses

from .client import Ledger
from .infra import CrashablePostgres, DurableBroker
from .stores import Stores
from .workload import Pacer

OUTAGE_TIMEOUT_S = 30.0
CRASH_TIMEOUT_S = 60.0
CRASH_LINE = "dev crash before ack"
TRICKLE_S = 0.5


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[], Awaitable[None]]


@dataclass
class Injector:
    """Kills and restores the parts of the running system."""

    system: ServiceProcesses
    postgres: CrashablePostgres
    broker: DurableBroker
    stores: Stores
    ledger: Ledger
    pacer: Pacer
    injected: list[tuple[str, float]] = field(default_factory=list)
    """(fault, seconds from the kill until every service was ready again)."""
    caught_before_ack: list[tuple[str, str]] = field(default_factory=list)
    """(consumer, event id) of each message a consumer died on after its commit."""
    _trickled_at: float = float("-inf")

    def schedule(self, rounds: int, consumers: list[tuple[str, str]]) -> list[Fault]:
        """Each round: broker, PostgreSQL, every service, one consumer before its ack (the
        next of ``consumers``, ``(service key, consumer name)``, each round)."""
        faults = []
        for round_ in range(rounds):
            faults += [Fault("broker", self.crash_broker), Fault("postgres", self.crash_postgres)]
            faults += [Fault(key, self._service_crash(key)) for key in self.system.services]
            key, consumer = consumers[round_ % len(consumers)]
            faults.append(Fault(f"{consumer} before ack", self._consumer_crash(key, consumer)))
        return faults

    async def inject(self, fault: Fault) -> None:
        started = time.monotonic()
        await fault.inject()
        self.injected.append((fault.name, time.monotonic() - started))

    async def crash_broker(self) -> None:
        self.broker.kill()
        await self._outage("outbox rows waiting for the broker", self._outbox_waits)
        self.broker.start()
        await self.all_ready()

    async def crash_postgres(self) -> None:
        self.postgres.crash()
        await self._outage("commands retried against the dead database", self._retried())
        await asyncio.to_thread(self.postgres.start)
        await self.all_ready()

    def _service_crash(self, key: str) -> Callable[[], Awaitable[None]]:
        async def crash() -> None:
            self.system.kill(key)
            if key == "case":
                probe = self._retried()
            else:
                probe = await self._appended()
            await self._outage(f"the stream met {key}-service down", probe)
            await self.system.start(key)

        return crash

    def _consumer_crash(self, key: str, consumer: str) -> Callable[[], Awaitable[None]]:
        async def crash() -> None:
            await self.system.stop(key)  # SIGTERM first: nothing half-done before the run
            service = self.system.services[key]
            log_start = service.log.stat().st_size if service.log.exists() else 0
            crash_env = {"NAERVAER_DEV_CRASH_BEFORE_ACK": consumer}
            config = self.system.config
            service.spawn({**config.environment(), **crash_env}, config.data_dir)
            code = await self._while_flowing(service.wait(CRASH_TIMEOUT_S))
            assert code == -9, f"{consumer} did not die before its ack ({code}):\n{service.tail()}"
            self.caught_before_ack.append((consumer, _caught_event(service.log, log_start)))
            await self.system.start(key)
            await self._outage(
                f"{consumer} gets the message again and finds it in its inbox",
                lambda: self._duplicate_seen(service.url, consumer),
            )

        return crash

    async def _while_flowing(self, waiting: Awaitable[int | None]) -> int | None:
        """Await ``waiting`` while commands keep coming, so a consumer waiting for its first
        message (to die on) is sure to get one."""
        task = asyncio.ensure_future(waiting)
        while not task.done():
            await self._keep_flowing()
            await asyncio.wait({task}, timeout=0.2)
        return task.result()

    async def _keep_flowing(self) -> None:
        """When the stream has used up its share, let one more command through now and then
        (a trickle: the commands left are the next faults' share)."""
        now = time.monotonic()
        if self.pacer.sent >= self.pacer.limit and now - self._trickled_at >= TRICKLE_S:
            self._trickled_at = now
            await self.pacer.allow(self.pacer.limit + 1)

    async def all_ready(self) -> None:
        await asyncio.gather(*(self.system.wait_ready(key) for key in self.system.services))

    async def _outage(self, what: str, met: Callable[[], Awaitable[bool]]) -> None:
        deadline = time.monotonic() + OUTAGE_TIMEOUT_S
        while not await met():
            if time.monotonic() > deadline:
                raise AssertionError(f"outage without traffic: {what}")
            await self._keep_flowing()
            await asyncio.sleep(0.05)

    @staticmethod
    async def _duplicate_seen(base_url: str, consumer: str) -> bool:
        return await _duplicates_seen(base_url, consumer) >= 1

    async def _outbox_waits(self) -> bool:
        return any((await self.stores.pending_outbox()).values())

    def _retried(self) -> Callable[[], Awaitable[bool]]:
        before = self.ledger.attempts - len(self.ledger.answered)

        async def probe() -> bool:
            return self.ledger.attempts - len(self.ledger.answered) > before + 2

        return probe

    async def _appended(self) -> Callable[[], Awaitable[bool]]:
        before = await self._head()

        async def probe() -> bool:
            return await self._head() >= before + 5

        return probe

    async def _head(self) -> int:
        spec = self.stores.specs["case"]
        assert spec.event_store is not None
        head = spec.event_store.event_log_head
        return int(await self.stores.scalar("case", select(head.c.position)))


def _caught_event(log: Path, offset: int) -> str:
    """The event id of the dev crash line the dying process wrote after ``offset``."""
    with log.open("rb") as lines:
        lines.seek(offset)
        for raw in lines:
            if CRASH_LINE.encode() in raw:
                return str(json.loads(raw)["event_id"])
    raise AssertionError(f"no '{CRASH_LINE}' line in {log}")


async def _duplicates_seen(base_url: str, consumer: str) -> float:
    """``naervaer_messages_handled_total`` with outcome duplicate for ``consumer``."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        text = (await client.get("/metrics")).text
    total = 0.0
    for line in text.splitlines():
        labels = line.partition("}")[0]
        if (
            line.startswith("naervaer_messages_handled_total{")
            and f'consumer="{consumer}"' in labels
            and 'outcome="duplicate"' in labels
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total
