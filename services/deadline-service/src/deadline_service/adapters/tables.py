"""The deadline service's database: consumer bookkeeping, the case projection, the timeline,
the durable timers and its own event store (the source of the deadline-events topic)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from naervaer.eventstore import UtcDateTime, event_store_tables
from naervaer.messaging import consumer_tables

metadata = MetaData()
consumers = consumer_tables(metadata)
event_store = event_store_tables(metadata)
_json = JSON().with_variant(JSONB(), "postgresql")

cases = Table(
    "cases",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("tenant", Text, nullable=False, index=True),
    Column("employee_id", Text, nullable=False, index=True),
    Column("manager_id", Text, nullable=False, index=True),
    Column("org_unit", Text, nullable=False),
    Column("case_start", Date, nullable=True, doc="S, once an absence day is known"),
    Column("version", Integer, nullable=False, doc="Case stream version last applied"),
    Column("updated_at", UtcDateTime, nullable=False),
    # What later cases of the same employee need for their max date (ftrl § 8-12).
    Column("sick_pay_days", _json, nullable=False, doc="ISO dates of known sick-pay weekdays"),
    Column("last_sick_day", Date, nullable=True),
    Column(
        "key_id",
        Text,
        nullable=True,
        doc="The employee's key the case's events are sealed with; its notices are sealed "
        "with it too (None while the case's events carry no sealed value)",
    ),
    Column(
        "timeline_digest",
        Text,
        nullable=True,
        doc="Digest of the obligation rows and the wanted timers last written, as "
        "'<obligations>:<timers>': a recomputation that finds the same skips the writes",
    ),
)

case_events = Table(
    "case_events",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", _json, nullable=False),
    PrimaryKeyConstraint("case_id", "stream_version"),
)
"""The events a timeline is folded from (only the types that can change one)."""

obligations = Table(
    "obligations",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("tenant", Text, nullable=False),
    Column("due_date", Date, nullable=True),
    Column("state", Text, nullable=False, doc="open, fulfilled, not_required or waived"),
    Column("milestone", Boolean, nullable=False),
    Column("responsible", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("fulfilled_by", Text, nullable=True, doc="Id of the event that settled it"),
    Column("rule_version", Text, nullable=False),
    Column("manager_id", Text, nullable=False),
    Column("org_unit", Text, nullable=False),
    Column("employee_id", Text, nullable=False),
    PrimaryKeyConstraint("case_id", "kind"),
    Index("ix_obligations_tenant_due", "tenant", "due_date"),
    Index("ix_obligations_manager", "tenant", "manager_id"),
)
"""The timeline without today: upcoming/due_soon/overdue are derived when read."""

timers = Table(
    "timers",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("tenant", Text, nullable=False),
    Column("fire_on", Date, nullable=False),
    Column("fired_at", UtcDateTime, nullable=True),
    Column("event_id", Uuid, nullable=True),
    PrimaryKeyConstraint("case_id", "kind", "stage", "due_date"),
)
"""One row per deadline event to emit; a fired row stays as the record that it was sent."""
_unfired = timers.c.fired_at.is_(None)
Index("ix_timers_unfired", timers.c.fire_on, postgresql_where=_unfired, sqlite_where=_unfired)

erased_cases = Table(
    "erased_cases",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("tenant", Text, primary_key=True),
    Column("key_id", Text, nullable=False),
    Column("erased_on", Date, nullable=False),
)
"""Cases whose personal data was erased (slettet): their late or redelivered events are
ignored, so nothing about them is ever stored again. Holds no personal data. Keyed by tenant
too: an erasure counts only for its own tenant's events, whatever case ids it names."""
