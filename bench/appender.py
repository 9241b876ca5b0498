"""Writing generated cases into the case service's event store, as its commands would.

The harness appends through ``EventStore`` with the case service's own tables and outbox topic,
so the case service's relay publishes what was written exactly as after an HTTP command —
without the HTTP layer's cost in the figures of the later stages. Given the services' key
vault, it seals the personal values (the employee's and the manager's ids of a case opened, the
free text of a follow-up conversation, plan or meeting) with the employee's key as a command
does, so the consumers open them as they would in production.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.stories import Story
from naervaer.contracts import CONTRACTS
from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import EventStore, NewEvent
from naervaer.hosting import select_services
from naervaer.privacy.keyring import KeyRing
from naervaer.privacy.keyvault import KeyVault
from naervaer.privacy.sealer import Sealer, plan_of


@dataclass(frozen=True)
class CaseLog:
    """The case service's event store, opened by the harness."""

    store: EventStore
    engine: AsyncEngine
    sealer: Sealer | None = None  # None: the events stored as generated, nothing sealed

    @classmethod
    def open(
        cls,
        database_url: str,
        outbox_topic: str | None,
        pool_size: int,
        vault: KeyVault | None = None,
    ) -> CaseLog:
        """``outbox_topic`` None: no outbox rows (nothing will relay them); ``vault`` the
        services' key vault to seal with (closed with the log), None to seal nothing. The keys
        it seals with go to a ring of its own, not the process's: a rebuild run in the
        harness's process must ask the vault for them as a service would."""
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
        return cls(store, engine, None if vault is None else Sealer(vault, KeyRing()))

    async def append(self, tale: Story, events: list[NewEvent]) -> None:
        events = await self.as_stored(tale, events)
        await self.store.append(tale.case_id, events, tenant=tale.tenant, expected_version=None)

    async def as_stored(self, tale: Story, events: list[NewEvent]) -> list[NewEvent]:
        """One command's events as the log stores them: sealed if it seals."""
        return events if self.sealer is None else await sealed(self.sealer, tale, events)

    async def close(self) -> None:
        try:
            await self.engine.dispose()
        finally:
            if self.sealer is not None:
                await self.sealer.vault.dispose()


async def sealed(sealer: Sealer, tale: Story, events: list[NewEvent]) -> list[NewEvent]:
    """A command's events as the case service stores them: when one of them has a personal
    value, all sealed with the employee's key (``Sealer.for_employee``, which asks the vault,
    making the key on first use); otherwise as they are, asking for no key."""
    models = [CONTRACTS.get(event.type).model for event in events]
    if not any(plan_of(model) for model in models):
        return events
    payloads = [
        model.model_validate(event.data) for model, event in zip(models, events, strict=True)
    ]
    datas = await sealer.for_employee(tale.tenant, tale.employee_id, payloads)
    return [dataclasses.replace(e, data=data) for e, data in zip(events, datas, strict=True)]


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
