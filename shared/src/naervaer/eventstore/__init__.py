"""Event store (hendelseslager): streams of events with optimistic concurrency, a gap-free
global log, idempotent appends by command id and the transactional outbox rows."""

from naervaer.eventstore.errors import (
    ConcurrencyConflict,
    IdempotencyKeyReused,
    StreamOfAnotherTenant,
)
from naervaer.eventstore.model import AppendResult, NewEvent, envelope_from_row, utc_now
from naervaer.eventstore.postgres import NOTIFY_CHANNEL
from naervaer.eventstore.store import EventStore
from naervaer.eventstore.tables import (
    HEAD_SEED,
    EventStoreTables,
    UtcDateTime,
    event_store_tables,
)

__all__ = [
    "HEAD_SEED",
    "NOTIFY_CHANNEL",
    "AppendResult",
    "ConcurrencyConflict",
    "EventStore",
    "EventStoreTables",
    "IdempotencyKeyReused",
    "NewEvent",
    "StreamOfAnotherTenant",
    "UtcDateTime",
    "envelope_from_row",
    "event_store_tables",
    "utc_now",
]
