"""The case service's database: the event store (with its outbox), the consumer bookkeeping
and the read side's tables (case summaries)."""

from __future__ import annotations

from sqlalchemy import MetaData

from case_service.adapters.read_tables import read_tables
from naervaer.eventstore import event_store_tables
from naervaer.messaging import consumer_tables

metadata = MetaData()
event_store = event_store_tables(metadata)
# The case service consumes its own topic to keep its read side (case summaries) up to date.
consumers = consumer_tables(metadata)
read_models = read_tables(metadata)
