"""Publishing document events: appended to the service's own event store in the caller's
transaction, so the outbox relays them (document-events topic) exactly when the change commits.

Their personal fields (signers, comments, file names, the parties still to sign) are sealed with
the case's key first: the event store, the topic and every consumer's copy hold them sealed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.app.sealing import CaseKeys
from naervaer.contracts import CONTRACTS
from naervaer.contracts._base import Contract
from naervaer.eventstore import EventStore, NewEvent


class DocumentEvents:
    def __init__(self, store: EventStore, keys: CaseKeys) -> None:
        self.store = store
        self.keys = keys

    async def publish(
        self,
        tx: AsyncConnection,
        *,
        tenant: str,
        document_id: str,
        key_id: str | None,
        events: Sequence[Contract],
    ) -> list[dict[str, Any]]:
        """Append ``events`` sealed with ``key_id`` to the document's stream (its id is the
        Kafka key); returns them as sealed. No key: only for a case of unknown parties, whose
        events then name nobody."""
        sealed = (
            [event.model_dump(mode="json") for event in events]
            if key_id is None
            else await self.keys.seal(key_id, events)
        )
        new = [
            NewEvent(
                type=CONTRACTS.type_of(event).name,
                data=data,
                schema_version=CONTRACTS.type_of(event).version,
            )
            for event, data in zip(events, sealed, strict=True)
        ]
        await self.store.append(
            document_id,
            new,
            tenant=tenant,
            expected_version=None,
            stream_type="document",
            connection=tx,
        )
        return sealed
