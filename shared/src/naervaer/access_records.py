"""Access records kept as events: each one is appended to the service's own event store as an
``access`` stream, so the outbox publishes it on the access-events topic (or the embedded
transport delivers it) to the document service's audit trail, in the same way as case events.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from naervaer.auth.access import ACCESS_RECORDED, AccessRecord
from naervaer.eventstore import EventStore, NewEvent
from naervaer.topics import ACCESS_STREAM_TYPE


@dataclass(frozen=True)
class StoreAccessRecorder:
    """The ``AccessRecorder`` of a service with an event store: one access stream per record."""

    store: EventStore

    async def __call__(self, record: AccessRecord) -> None:
        await self.store.append(
            f"access-{uuid4()}",
            [NewEvent(ACCESS_RECORDED, record)],
            tenant=record.tenant,
            expected_version=0,
            stream_type=ACCESS_STREAM_TYPE,
            correlation_id=record.correlation_id,
        )
