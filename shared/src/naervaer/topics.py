"""Kafka topics: created when missing (deployments also run a topic-creation job)."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TypedDict

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore

log = structlog.get_logger("naervaer.topics")


class _StreamTypes(TypedDict, total=False):
    stream_types: Collection[str]
    exclude_stream_types: Collection[str]


async def ensure_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int, replication_factor: int = 1
) -> None:
    """Create each topic that does not exist yet; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="naervaer-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(names) - existing)
        if not missing:
            return
        # another replica may have created it first
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [NewTopic(name, partitions, replication_factor) for name in missing]
            )
        log.info("topics created", topics=missing, partitions=partitions)
    finally:
        await admin.close()


ACCESS_EVENTS = "access-events"
"""The topic of access records (``access.recorded``), which several services publish."""
ACCESS_STREAM_TYPE = "access"
"""Stream type of access records in a service's event store; routed to ``ACCESS_EVENTS``."""


@dataclass(frozen=True)
class TopicLog:
    """One producing event store seen through one topic: the embedded transport's partition.

    The access-events topic carries the store's access streams only; every other topic
    carries everything else, just as the outbox routes them (``topic_by_stream_type``).
    """

    store: EventStore
    topic: str  # without prefix

    async def read_all(
        self,
        after_position: int,
        limit: int,
        /,
        *,
        tenants: Collection[str] | None = None,
        up_to: int | None = None,
    ) -> list[Envelope]:
        return await self.store.read_all(
            after_position, limit, tenants=tenants, up_to=up_to, **self._types()
        )

    async def tenant_counts(self, up_to: int) -> dict[str, int]:
        return await self.store.tenant_counts(up_to, **self._types())

    def _types(self) -> _StreamTypes:
        """The store's stream types the topic carries."""
        if self.topic == ACCESS_EVENTS:
            return {"stream_types": (ACCESS_STREAM_TYPE,)}
        return {"exclude_stream_types": (ACCESS_STREAM_TYPE,)}

    async def head_position(self) -> int:
        return await self.store.head_position()
