"""Writing generated cases into the case service's event store, as its commands would.

The harness appends through ``EventStore`` with the case service's own tables and outbox topic,
so the case service's relay publishes what was written exactly as after an HTTP command —
without the HTTP layer's cost in the figures of the later stages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.stories import Story
from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import EventStore, NewEvent
from naervaer.hosting import select_services


@dataclass(frozen=True)
class CaseLog:
    """The case service's event store, opened by the harness."""

    store: EventStore
    engine: AsyncEngine

    @classmethod
    def open(cls, database_url: str, outbox_topic: str | None, pool_size: int) -> CaseLog:
        """``outbox_topic`` None: no outbox rows (nothing will relay them)."""
        (spec,) = select_services(["case"])
        assert spec.event_store is not None
        engine = create_engine(
            DatabaseTarget(database_url, "case_service"), pool_size=pool_size, max_overflow=0
        )
        store = EventStore(
            engine,
            spec.event_store,
            source="/case-service",
            outbox_topic=outbox_topic,
            service="case-service",
        )
        return cls(store, engine)

    async def append(self, tale: Story, events: list[NewEvent]) -> None:
        await self.store.append(tale.case_id, events, tenant=tale.tenant, expected_version=None)

    async def close(self) -> None:
        await self.engine.dispose()


Job = Callable[[], Awaitable[None]]


async def bounded(jobs: Iterable[Job], concurrency: int) -> None:
    """Run the jobs with at most ``concurrency`` in flight; the first failure stops the rest."""
    gate = asyncio.Semaphore(concurrency)
    failures: list[Exception] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(job: Job) -> None:
        try:
            await job()
        except Exception as error:
            failures.append(error)
        finally:
            gate.release()

    for job in jobs:
        await gate.acquire()
        if failures:
            gate.release()
            break
        task = asyncio.create_task(one(job))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    if failures:
        raise failures[0]
