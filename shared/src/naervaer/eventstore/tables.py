"""Event store tables (SQLAlchemy Core), added to each service's own MetaData.

The service's Alembic migration creates them. ``event_log_head`` holds one row (id 1), the
gap-free global position counter; the store inserts it idempotently on first use, and a
migration may seed it with ``op.bulk_insert(tables.event_log_head, [HEAD_SEED])``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

# An outbox range is marked published only with the end that was published (see _outbox).
# A NULL comparison would pass a check, hence the explicit IS NOT NULL.
OUTBOX_RANGE_PUBLISHED_WHOLE = (
    "published_at IS NULL OR last_position IS NULL"
    " OR (published_through IS NOT NULL AND published_through = last_position)"
)

HEAD_ID = 1
HEAD_SEED: dict[str, int] = {"id": HEAD_ID, "position": 0}
STREAM_VERSION_CONSTRAINT = "uq_events_stream_version"
COMMAND_ID_GIVEN = "command_id IS NOT NULL"
"""The rows ``ix_events_command_id`` holds: the events appended with a command id."""


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC (which keeps text comparisons such as ``recorded_at <= :as_of`` correct) and come back
    with ``tzinfo=UTC`` attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware UTC datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class EventStoreTables:
    """The tables of one service's event store."""

    streams: Table
    events: Table
    event_log_head: Table
    command_log: Table
    outbox: Table


def event_store_tables(metadata: MetaData) -> EventStoreTables:
    """Define the event store tables on ``metadata`` and return them."""
    return EventStoreTables(
        streams=_streams(metadata),
        events=_events(metadata),
        event_log_head=_event_log_head(metadata),
        command_log=_command_log(metadata),
        outbox=_outbox(metadata),
    )


def _streams(metadata: MetaData) -> Table:
    return Table(
        "streams",
        metadata,
        Column("stream_id", Text, primary_key=True),
        Column("stream_type", Text, nullable=False),
        Column("tenant", Text, nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


def _events(metadata: MetaData) -> Table:
    return Table(
        "events",
        metadata,
        # Assigned from event_log_head, never by a sequence: sequences leave gaps on rollback.
        Column("global_position", BigInteger, primary_key=True, autoincrement=False),
        Column("event_id", Uuid, nullable=False),
        Column("stream_id", Text, nullable=False),
        Column("stream_version", Integer, nullable=False),
        Column("stream_type", Text, nullable=False),
        Column("tenant", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("data", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        Column("recorded_at", UtcDateTime, nullable=False),
        Column("correlation_id", Text, nullable=True),
        Column("traceparent", Text, nullable=True),
        Column("tracestate", Text, nullable=True),
        Column("causation_id", Text, nullable=True),
        Column("command_id", Text, nullable=True),
        UniqueConstraint("event_id", name="uq_events_event_id"),
        # The last line of optimistic concurrency: two writers can never share a version.
        UniqueConstraint("stream_id", "stream_version", name=STREAM_VERSION_CONSTRAINT),
        # Only events appended with a command id are looked up by it (``command_id = …``):
        # the others (access records, a document's events, commands sent without an
        # Idempotency-Key, imports) write no entry.
        Index(
            "ix_events_command_id",
            "command_id",
            postgresql_where=text(COMMAND_ID_GIVEN),
            sqlite_where=text(COMMAND_ID_GIVEN),
        ),
    )


def _event_log_head(metadata: MetaData) -> Table:
    return Table(
        "event_log_head",
        metadata,
        Column("id", SmallInteger, primary_key=True, autoincrement=False),
        Column("position", BigInteger, nullable=False),
        CheckConstraint(f"id = {HEAD_ID}", name="ck_event_log_head_single_row"),
    )


def _command_log(metadata: MetaData) -> Table:
    return Table(
        "command_log",
        metadata,
        Column("command_id", Text, primary_key=True),
        Column("stream_id", Text, nullable=False),
        Column("recorded_at", UtcDateTime, nullable=False),
        # Hash of the request that carried the command: a retry must match it (idempotency).
        Column("fingerprint", Text, nullable=True),
    )


def _outbox(metadata: MetaData) -> Table:
    """A row per event, or per append (``outbox_row_per_append``: an append's events share
    their stream, the key, and their topic).

    The row names the events from ``global_position`` to ``last_position`` (NULL: its own
    event alone). A relay that reads ranges marks a row with its range's end in
    ``published_through``; the check refuses to mark a range published without it, so a
    relay of a build before ranges (which would send the first event alone) fails its update
    instead of losing the rest: the range stays pending for a relay that reads it whole.
    """
    outbox = Table(
        "outbox",
        metadata,
        Column("global_position", BigInteger, primary_key=True, autoincrement=False),
        Column("topic", Text, nullable=False),
        Column("message_key", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Column("last_position", BigInteger, nullable=True),
        Column("published_through", BigInteger, nullable=True),
        CheckConstraint(OUTBOX_RANGE_PUBLISHED_WHOLE, name="ck_outbox_range_published_whole"),
    )
    # Partial index: the relay only ever looks for what is still unpublished.
    unpublished = outbox.c.published_at.is_(None)
    Index(
        "ix_outbox_unpublished",
        outbox.c.global_position,
        postgresql_where=unpublished,
        sqlite_where=unpublished,
    )
    return outbox
