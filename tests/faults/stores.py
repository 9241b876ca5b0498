"""Read-only access to every service's own store, and what the services declare: which topics
each publishes from which store, and which events each consumer wants.

The consumers are taken from the services' own wiring (``ServiceRuntime``, built but never
started, as ``naervaer rebuild`` does), so a consumer added later is checked without a change
here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select

from naervaer.db import create_engine
from naervaer.messaging import Subscription
from naervaer.migrations import target_for
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec, discover_services, producers_of
from naervaer.settings import PlatformSettings


@dataclass(frozen=True)
class TopicEvent:
    """One event a producing store sent (or has yet to send) to a topic through its outbox."""

    event_id: uuid.UUID
    type: str
    source: str


class Stores:
    """One small engine per service schema; ``pool_pre_ping`` rides out PostgreSQL restarts."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self.specs: dict[str, ServiceSpec] = discover_services()
        self._engines: dict[str, AsyncEngine] = {
            key: create_engine(target_for(spec, settings), pool_size=2, pool_pre_ping=True)
            for key, spec in self.specs.items()
        }

    def table(self, key: str, name: str) -> Table:
        return self.specs[key].metadata.tables[name]

    async def rows(self, key: str, statement: Select[Any]) -> Sequence[Row[Any]]:
        async with self._engines[key].connect() as connection:
            rows: Sequence[Row[Any]] = (await connection.execute(statement)).all()
            return rows

    async def scalar(self, key: str, statement: Select[Any]) -> Any:
        async with self._engines[key].connect() as connection:
            return (await connection.execute(statement)).scalar_one()

    async def topic_events(self, topic: str) -> list[TopicEvent]:
        """Every event the producers of ``topic`` (full name) put in their outbox for it."""
        short = topic.removeprefix(self.settings.topic_prefix)
        found: list[TopicEvent] = []
        for producer in producers_of(short, self.specs):
            assert producer.event_store is not None
            events, outbox = producer.event_store.events, producer.event_store.outbox
            query = (
                select(events.c.event_id, events.c.type)
                .join(  # an append's row names its events, first to last
                    outbox,
                    events.c.global_position.between(
                        outbox.c.global_position,
                        func.coalesce(outbox.c.last_position, outbox.c.global_position),
                    ),
                )
                .where(outbox.c.topic == topic)
            )
            rows = await self.rows(producer.key, query)
            found += [TopicEvent(row.event_id, row.type, producer.name) for row in rows]
        return found

    async def pending_outbox(self) -> dict[str, int]:
        """Outbox rows not yet acknowledged by the broker, per publishing service."""
        pending = {}
        for key, spec in self.specs.items():
            if spec.event_store is None or not spec.publishes:
                continue
            outbox = spec.event_store.outbox
            query = select(func.count()).where(outbox.c.published_at.is_(None))
            pending[key] = int(await self.scalar(key, query))
        return pending

    async def close(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()


@dataclass(frozen=True)
class Consumer:
    """A subscription of a service, as its runtime wires it."""

    service: str  # key, e.g. "deadline"
    subscription: Subscription


async def declared_consumers(settings: PlatformSettings) -> list[Consumer]:
    """Every service's subscriptions, as ``naervaer serve`` would wire them with ``settings``."""
    specs = discover_services()
    found = []
    for key, spec in specs.items():
        runtime = ServiceRuntime(spec, settings, specs)
        try:
            found += [Consumer(key, s) for s in runtime.wiring.subscriptions]
        finally:
            await runtime.engine.dispose()
    return found
