"""event platform tables

Revision ID: case0001
Revises: 
Create Date: 2026-11-30 18:16:22.083254
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import naervaer.eventstore.tables  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

revision: str = 'case0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('command_log',
    sa.Column('command_id', sa.Text(), nullable=False),
    sa.Column('stream_id', sa.Text(), nullable=False),
    sa.Column('recorded_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('command_id')
    )
    op.create_table('event_log_head',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name='ck_event_log_head_single_row'),
    sa.PrimaryKeyConstraint('id')
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

    op.create_table('streams',
    sa.Column('stream_id', sa.Text(), nullable=False),
    sa.Column('stream_type', sa.Text(), nullable=False),
    sa.Column('tenant', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('stream_id')
    )
    op.bulk_insert(
        sa.table('event_log_head', sa.column('id', sa.SmallInteger()), sa.column('position', sa.BigInteger())),
        [{'id': 1, 'position': 0}],
    )


def downgrade() -> None:
    op.drop_table('streams')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished', postgresql_where=sa.text('published_at IS NULL'), sqlite_where=sa.text('published_at IS NULL'))

    op.drop_table('outbox')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_command_id')

    op.drop_table('events')
    op.drop_table('event_log_head')
    op.drop_table('command_log')
