"""The document service's database (SQLAlchemy Core, PostgreSQL and SQLite alike).

Its own event store (document events, published on document-events through the outbox), the
consumer bookkeeping, the case parties (with the id of the employee's key their case events are
sealed with), the erased cases, the access records held until their case is known, documents
with every version, signatures, attachments, the blobs they point to (content-addressed by
SHA-256), and the audit trail with its per-tenant head row and the public keys that signed it.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from naervaer.eventstore import UtcDateTime, event_store_tables
from naervaer.messaging import consumer_tables

metadata = MetaData()
event_store = event_store_tables(metadata)
consumers = consumer_tables(metadata)
_JSON = JSON().with_variant(JSONB(), "postgresql")
_HASH = String(64)

case_parties = Table(
    "case_parties",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False, index=True),
    Column("employee_id", String(128), nullable=False),
    Column("manager_id", String(128), nullable=False),
    Column("org_unit", String(128), nullable=False),
    Column("first_absence_day", Date, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The employee's key (crypto-shredding) the case's events are sealed with: this service
    # seals what it publishes about the case with the same key. None for a case whose events
    # came unsealed (before sealing); a key is then fetched by employee on first use.
    Column("key_id", String(32), nullable=True),
)

erased_cases = Table(
    "erased_cases",
    metadata,
    # Cases whose personal data was erased (slettet): never derive anything about them again,
    # whatever is redelivered or rebuilt. Holds no personal data: ids and times only.
    Column("tenant", String(128), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("erased_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

held_access_records = Table(
    "held_access_records",
    metadata,
    # Access records (innsynslogg) of a case this service does not know yet: without the case
    # there is no key to seal who read it with. Held (personal data in clear, like the case
    # parties) until the case's first event releases them into the audit trail, sealed, in the
    # order received; an erasure releases them nameless.
    # SQLite autoincrements only an INTEGER primary key.
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tenant", String(128), nullable=False),
    Column("source_id", String(255), nullable=False, doc="The audit entry's source id"),
    Column("kind", String(128), nullable=False),
    Column("case_id", String(64), nullable=False, index=True),
    Column("record", _JSON, nullable=False, doc="The access record as published"),
    Column("held_at", UtcDateTime, nullable=False, index=True),
    UniqueConstraint("tenant", "source_id", name="uq_held_access_records_source"),
)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", _HASH, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    # None once erased: the hash, size and type stay (the audit trail and versions point here).
    Column("content", LargeBinary, nullable=True),
    Column("stored_at", UtcDateTime, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("document_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("case_id", String(64), nullable=False, index=True),
    Column("kind", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

document_versions = Table(
    "document_versions",
    metadata,
    Column("document_id", String(64), ForeignKey("documents.document_id"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document_hash", _HASH, ForeignKey("blobs.sha256"), nullable=False),
    Column("title", Text, nullable=False),
    Column("required_roles", _JSON, nullable=False),
    Column("source_event_id", String(64), nullable=False),
    Column("source_event_type", String(128), nullable=False),
    Column("stored_at", UtcDateTime, nullable=False),
    # A redelivered event never makes a second version.
    UniqueConstraint("document_id", "source_event_id", name="uq_document_versions_source"),
)

signatures = Table(
    "signatures",
    metadata,
    Column("document_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("role", String(32), primary_key=True, doc="The party role the signer held"),
    Column("signer_id", String(128), nullable=False),
    Column("decision", String(16), nullable=False, doc="signed or refused"),
    Column("document_hash", _HASH, nullable=False),
    Column("comment", Text, nullable=True),
    Column("decided_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["document_id", "version"], ["document_versions.document_id", "document_versions.version"]
    ),
)

attachments = Table(
    "attachments",
    metadata,
    Column("attachment_id", String(64), primary_key=True),
    Column("document_id", String(64), ForeignKey("documents.document_id"), nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("sha256", _HASH, ForeignKey("blobs.sha256"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("uploaded_by", String(128), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index("ix_attachments_document_id", "document_id"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("tenant", String(128), primary_key=True),
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("source_id", String(255), nullable=False, doc="What the entry records, unique"),
    Column("kind", String(128), nullable=False, doc="The recorded event's type"),
    Column("case_id", String(64), nullable=True, index=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("content", _JSON, nullable=False),
    Column("content_hash", _HASH, nullable=False),
    Column("previous_hash", _HASH, nullable=False),
    Column("entry_hash", _HASH, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    UniqueConstraint("tenant", "source_id", name="uq_audit_entries_source"),
)

audit_heads = Table(
    "audit_heads",
    metadata,
    # One row per tenant: the lock appends take (FOR UPDATE) and where the chain ends.
    Column("tenant", String(128), primary_key=True),
    Column("sequence", BigInteger, nullable=False),
    Column("entry_hash", _HASH, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", String(64), primary_key=True, doc="RFC 7638 thumbprint"),
    Column("algorithm", String(16), nullable=False),
    Column("public_key", String(64), nullable=False, doc="Raw Ed25519 key, base64url"),
    Column("not_before", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=True),
)
