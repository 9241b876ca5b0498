"""documents, signatures, attachments, signed audit trail, document event store

The audit trail of document0001 was an unsigned placeholder: its entries cannot be verified under
the signed chain (no key signed them, and the entry hash now binds the time), and no deployment
holds any. ``audit_entries`` is therefore recreated rather than altered; the case events it held
are consumed again by the new ``document-service.case-events`` subscription (new inbox name), so
the trail is rebuilt from the case service's log, signed.

Revision ID: document0002
Revises: document0001
Create Date: 2026-11-30 18:33:22.007930
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import naervaer.eventstore.tables  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

revision: str = 'document0002'
down_revision: str | None = 'document0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_heads',
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant')
    )
    op.create_table('blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('stored_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('case_parties',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('employee_id', sa.String(length=128), nullable=False),
    sa.Column('manager_id', sa.String(length=128), nullable=False),
    sa.Column('org_unit', sa.String(length=128), nullable=False),
    sa.Column('first_absence_day', sa.Date(), nullable=False),
    sa.Column('updated_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_parties_tenant'), ['tenant'], unique=False)

    op.create_table('command_log',
    sa.Column('command_id', sa.Text(), nullable=False),
    sa.Column('stream_id', sa.Text(), nullable=False),
    sa.Column('recorded_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('command_id')
    )
    op.create_table('documents',
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('created_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('document_id')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_case_id'), ['case_id'], unique=False)

    op.create_table('event_log_head',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name='ck_event_log_head_single_row'),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(
        sa.table('event_log_head', sa.column('id', sa.SmallInteger()), sa.column('position', sa.BigInteger())),
        [{'id': 1, 'position': 0}],
    )
    op.create_table('events',
    sa.Column('global_position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('stream_id', sa.Text(), nullable=False),
    sa.Column('stream_version', sa.Integer(), nullable=False),
    sa.Column('stream_type', sa.Text(), nullable=False),
    sa.Column('tenant', sa.Text(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('recorded_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('correlation_id', sa.Text(), nullable=True),
    sa.Column('traceparent', sa.Text(), nullable=True),
    sa.Column('tracestate', sa.Text(), nullable=True),
    sa.Column('causation_id', sa.Text(), nullable=True),
    sa.Column('command_id', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('global_position'),
    sa.UniqueConstraint('event_id', name='uq_events_event_id'),
    sa.UniqueConstraint('stream_id', 'stream_version', name='uq_events_stream_version')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_command_id', ['command_id'], unique=False)

    op.create_table('outbox',
    sa.Column('global_position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('message_key', sa.Text(), nullable=False),
    sa.Column('created_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('published_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('global_position')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unpublished', ['global_position'], unique=False, postgresql_where=sa.text('published_at IS NULL'), sqlite_where=sa.text('published_at IS NULL'))

    op.create_table('signing_keys',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('not_before', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('not_after', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id')
    )
    op.create_table('streams',
    sa.Column('stream_id', sa.Text(), nullable=False),
    sa.Column('stream_type', sa.Text(), nullable=False),
    sa.Column('tenant', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('stream_id')
    )
    op.create_table('attachments',
    sa.Column('attachment_id', sa.String(length=64), nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=128), nullable=False),
    sa.Column('uploaded_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], ),
    sa.PrimaryKeyConstraint('attachment_id')
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('ix_attachments_document_id', ['document_id'], unique=False)

    op.create_table('document_versions',
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('document_hash', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('required_roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source_event_id', sa.String(length=64), nullable=False),
    sa.Column('source_event_type', sa.String(length=128), nullable=False),
    sa.Column('stored_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_hash'], ['blobs.sha256'], ),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], ),
    sa.PrimaryKeyConstraint('document_id', 'version'),
    sa.UniqueConstraint('document_id', 'source_event_id', name='uq_document_versions_source')
    )
    op.create_table('signatures',
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('signer_id', sa.String(length=128), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('document_hash', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('decided_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id', 'version'], ['document_versions.document_id', 'document_versions.version'], ),
    sa.PrimaryKeyConstraint('document_id', 'version', 'role')
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_case_id'))
    op.drop_table('audit_entries')
    op.create_table('audit_entries',
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('sequence', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('source_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=128), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'sequence'),
    sa.UniqueConstraint('tenant', 'source_id', name='uq_audit_entries_source')
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_case_id'), ['case_id'], unique=False)
    # The placeholder trail's inbox rows: without them the case events are sealed anew.
    op.execute(sa.text("DELETE FROM inbox WHERE consumer = 'document-service.audit-trail'"))
    op.execute(sa.text("DELETE FROM checkpoints WHERE consumer = 'document-service.audit-trail'"))



def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_case_id'))
    op.drop_table('audit_entries')
    op.create_table('audit_entries',
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('sequence', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('source_event_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=128), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'sequence'),
    sa.UniqueConstraint('tenant', 'source_event_id', name='uq_audit_entries_source_event')
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_case_id'), ['case_id'], unique=False)

    op.drop_table('signatures')
    op.drop_table('document_versions')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_document_id')

    op.drop_table('attachments')
    op.drop_table('streams')
    op.drop_table('signing_keys')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished', postgresql_where=sa.text('published_at IS NULL'), sqlite_where=sa.text('published_at IS NULL'))

    op.drop_table('outbox')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_command_id')

    op.drop_table('events')
    op.drop_table('event_log_head')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_case_id'))

    op.drop_table('documents')
    op.drop_table('command_log')
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_parties_tenant'))

    op.drop_table('case_parties')
    op.drop_table('blobs')
    op.drop_table('audit_heads')
