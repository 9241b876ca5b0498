"""What goes into and comes out of the event store, and how rows become envelopes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from naervaer.envelope import Envelope


def utc_now() -> datetime:
    """The wall clock in UTC (the default clock of the store)."""
    return datetime.now(UTC)


def dataschema_uri(event_type: str, schema_version: int) -> str:
    return f"urn:naervaer:schema:{event_type}:v{schema_version}"


@dataclass(frozen=True)
class NewEvent:
    """An event to append; ``event_id`` defaults to a fresh uuid4."""

    type: str
    data: Mapping[str, Any] | BaseModel
    schema_version: int = 1
    event_id: UUID | None = None


@dataclass(frozen=True)
class AppendResult:
    """Outcome of an append: the version reached and the stored envelopes.

    ``duplicate`` is True when the command had been appended before: nothing new was written
    and ``version``/``envelopes`` are those of that first append.
    """

    stream_id: str
    version: int
    envelopes: tuple[Envelope, ...]
    duplicate: bool


@dataclass(frozen=True)
class LoggedCommand:
    """A command id in the command log: the stream it wrote to and its request fingerprint."""

    stream_id: str
    fingerprint: str | None


@dataclass(frozen=True)
class PendingEvent:
    """A new event with its payload serialised once, before positions are known."""

    event_id: UUID
    type: str
    schema_version: int
    data_json: str

    @property
    def data(self) -> dict[str, Any]:
        # Read back from the JSON text so the returned envelope equals a later read.
        return json.loads(self.data_json)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class OutboxDraft:
    """What the outbox rows of an append carry besides the event (transaktional utboks)."""

    topic: str
    created_at: datetime


@dataclass(frozen=True)
class AppendBatch:
    """One append, validated and serialised, ready for a backend to write."""

    stream_id: str
    stream_type: str
    tenant: str
    expected_version: int | None
    command_id: str | None
    command_fingerprint: str | None
    correlation_id: str | None
    causation_id: str | None
    recorded_at: datetime
    events: tuple[PendingEvent, ...]
    outbox: OutboxDraft | None
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def count(self) -> int:
        return len(self.events)

    def event_rows(self, first_position: int, first_version: int) -> list[dict[str, Any]]:
        """Rows of the ``events`` table, given the first global position and stream version."""
        return [
            {
                "global_position": first_position + index,
                "event_id": event.event_id,
                "stream_id": self.stream_id,
                "stream_version": first_version + index,
                "stream_type": self.stream_type,
                "tenant": self.tenant,
                "type": event.type,
                "schema_version": event.schema_version,
                "data": event.data,
                "recorded_at": self.recorded_at,
                "correlation_id": self.correlation_id,
                "causation_id": self.causation_id,
                "command_id": self.command_id,
                "traceparent": self.traceparent,
                "tracestate": self.tracestate,
            }
            for index, event in enumerate(self.events)
        ]

    def outbox_rows(self, first_position: int) -> list[dict[str, Any]]:
        if self.outbox is None:
            return []
        return [
            {
                "global_position": first_position + index,
                "topic": self.outbox.topic,
                "message_key": self.stream_id,
                "created_at": self.outbox.created_at,
                "published_at": None,
            }
            for index in range(self.count)
        ]


def payload_json(data: Mapping[str, Any] | BaseModel) -> str:
    """The event payload as JSON text; pydantic models in their JSON mode."""
    if isinstance(data, BaseModel):
        return json.dumps(data.model_dump(mode="json"))
    return json.dumps(dict(data))


def envelope_from_row(row: Mapping[Any, Any], source: str) -> Envelope:
    """Rebuild the CloudEvents envelope of a stored event (a row of ``events``)."""
    return Envelope(
        id=row["event_id"],
        source=source,
        type=row["type"],
        subject=row["stream_id"],
        time=row["recorded_at"],
        dataschema=dataschema_uri(row["type"], row["schema_version"]),
        data=row["data"],
        tenant=row["tenant"],
        streamid=row["stream_id"],
        streamversion=row["stream_version"],
        globalposition=row["global_position"],
        correlationid=row["correlation_id"],
        causationid=row["causation_id"],
        schemaversion=row["schema_version"],
        traceparent=row["traceparent"],
        tracestate=row["tracestate"],
    )
