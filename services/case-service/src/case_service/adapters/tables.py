"""The case service's database: the event store (with its outbox)."""

from __future__ import annotations

from sqlalchemy import MetaData

from naervaer.eventstore import event_store_tables

metadata = MetaData()
event_store = event_store_tables(metadata)
