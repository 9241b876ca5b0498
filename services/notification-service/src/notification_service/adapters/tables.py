"""The notification service's database: consumer bookkeeping and who the parties are."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table

from naervaer.messaging import consumer_tables

metadata = MetaData()
consumers = consumer_tables(metadata)

case_parties = Table(
    "case_parties",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False, index=True),
    Column("employee_id", String(128), nullable=False),
    Column("manager_id", String(128), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
