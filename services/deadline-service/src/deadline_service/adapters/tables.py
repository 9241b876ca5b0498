"""The deadline service's database: consumer bookkeeping and the case projection."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, MetaData, String, Table

from naervaer.messaging import consumer_tables

metadata = MetaData()
consumers = consumer_tables(metadata)

case_starts = Table(
    "case_starts",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False, index=True),
    Column("manager_id", String(128), nullable=False, index=True),
    Column("org_unit", String(128), nullable=False),
    Column("case_start", Date, nullable=False, doc="S: the first day of the case"),
    Column("version", Integer, nullable=False, doc="Case stream version last applied"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
