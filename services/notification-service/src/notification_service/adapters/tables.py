"""The notification service's database (SQLAlchemy Core, PostgreSQL and SQLite alike).

- ``case_parties`` and ``meetings``: what the service knows of each case (a projection);
- ``recipients``, ``tenant_policies``, ``templates``: what each tenant set through the API;
- ``deliveries``: every message decided on, unique per (subject, stage, recipient, channel):
  the row is written in the same transaction as the consumer's inbox row, so an event is
  turned into messages exactly once; ``delivery_attempts`` logs every try at sending one;
- ``erased_cases``: cases whose personal data was erased (slettet): nothing about them may be
  written again. It holds no personal data, only the case id, its tenant and the destroyed
  key's id. Keyed by tenant too: an erasure counts for its own tenant's events only.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from naervaer.eventstore.tables import UtcDateTime
from naervaer.messaging import consumer_tables

metadata = MetaData()
consumers = consumer_tables(metadata)
Json = JSON().with_variant(JSONB(), "postgresql")

case_parties = Table(
    "case_parties",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False, index=True),
    Column("employee_id", String(128), nullable=False),
    Column("manager_id", String(128), nullable=False, index=True),
    Column("org_unit", String(128), nullable=True),
    # The employee's key (the sealed fields' key id): erasure destroys it, so a delivery whose
    # key is gone is about an erased case, even before the erasure event arrives.
    Column("key_id", String(32), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

meetings = Table(
    "meetings",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("meeting_id", String(128), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("meeting_number", Integer, nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("participants", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

recipients = Table(
    "recipients",
    metadata,
    Column("tenant", String(128), primary_key=True),
    Column("party_id", String(128), primary_key=True),
    Column("display_name", String(200), nullable=True),
    Column("email", String(254), nullable=True),
    Column("phone", String(20), nullable=True),
    Column("language", String(2), nullable=False),
    Column("channels", Json, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

tenant_policies = Table(
    "tenant_policies",
    metadata,
    Column("tenant", String(128), primary_key=True),
    Column("policy", Json, nullable=False),
    # HMAC key of the tenant's webhooks: kept out of the policy document so it is never shown.
    Column("webhook_secret", Text, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

templates = Table(
    "templates",
    metadata,
    Column("tenant", String(128), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("language", String(2), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("sms", Text, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("case_id", String(64), nullable=True, index=True),
    Column("subject_key", String(255), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("audience", String(32), nullable=False),
    Column("recipient_id", String(128), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("template", String(64), nullable=False),
    Column("facts", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("send_after", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("attempt_id", Uuid, nullable=True),
    Column("lease_expires_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("source_event_id", Uuid, nullable=True),
    Column("key_id", String(32), nullable=True, index=True),
    # What the message's subject line said, kept once it is sent (for the export, art. 15).
    Column("rendered_subject", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    UniqueConstraint(
        "tenant", "subject_key", "stage", "recipient_id", "channel", name="uq_deliveries_once"
    ),
)
Index("ix_deliveries_due", deliveries.c.status, deliveries.c.send_after)
Index("ix_deliveries_recipient", deliveries.c.tenant, deliveries.c.recipient_id)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    # SQLite autoincrements only an INTEGER primary key.
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("attempt_id", Uuid, nullable=False, unique=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("error", Text, nullable=True),
)

erased_cases = Table(
    "erased_cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("tenant", String(128), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("erased_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)
