"""Publishing document events: appended to the service's own event store in the caller's
transaction, so the outbox relays them (document-events topic) exactly when the change commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.contracts import CONTRACTS
from naervaer.contracts._base import Contract
from naervaer.eventstore import EventStore, NewEvent


class DocumentEvents:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def publish(
        self, tx: AsyncConnection, *, tenant: str, document_id: str, events: Sequence[Contract]
    ) -> None:
        """Append ``events`` to the document's stream (its id is the Kafka key)."""
        new = [
            NewEvent(
                type=CONTRACTS.type_of(event).name,
                data=event,
                schema_version=CONTRACTS.type_of(event).version,
            )
            for event in events
        ]
        await self.store.append(
            document_id,
            new,
            tenant=tenant,
            expected_version=None,
            stream_type="document",
            connection=tx,
        )
