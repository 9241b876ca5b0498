"""The document service's database: consumer bookkeeping and the audit trail."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, MetaData, String, Table, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB

from naervaer.messaging import consumer_tables

metadata = MetaData()
consumers = consumer_tables(metadata)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("tenant", String(128), primary_key=True),
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("source_event_id", String(64), nullable=False),
    Column("kind", String(128), nullable=False, doc="The recorded event's type"),
    Column("case_id", String(64), nullable=True, index=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("content", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    UniqueConstraint("tenant", "source_event_id", name="uq_audit_entries_source_event"),
)
