"""case read side: case summaries and the consumer tables (inbox, checkpoints, dead letters)

Revision ID: case0002
Revises: case0001
Create Date: 2026-11-30 18:26:22.663802
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import naervaer.eventstore.tables  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

revision: str = 'case0002'
down_revision: str | None = 'case0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_summaries',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('employee_id', sa.String(length=128), nullable=False),
    sa.Column('manager_id', sa.String(length=128), nullable=False),
    sa.Column('org_unit', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('began_with', sa.String(length=32), nullable=False),
    sa.Column('case_start', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('last_absence_day', sa.Date(), nullable=True),
    sa.Column('current_grade', sa.Integer(), nullable=True),
    sa.Column('days_absent', sa.Integer(), nullable=False),
    sa.Column('employer_period_end', sa.Date(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('meetings_held', sa.Integer(), nullable=False),
    sa.Column('absence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('case_summaries', schema=None) as batch_op:
        batch_op.create_index('ix_case_summaries_tenant_employee', ['tenant', 'employee_id'], unique=False)
        batch_op.create_index('ix_case_summaries_tenant_manager', ['tenant', 'manager_id'], unique=False)
        batch_op.create_index('ix_case_summaries_tenant_start', ['tenant', 'case_start', 'case_id'], unique=False)
        batch_op.create_index('ix_case_summaries_tenant_unit', ['tenant', 'org_unit', 'case_start'], unique=False)

    op.create_table('checkpoints',
    sa.Column('consumer', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'source')
    )
    op.create_table('dead_letters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('consumer', sa.Text(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=True),
    sa.Column('event_type', sa.Text(), nullable=True),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=True),
    sa.Column('offset', sa.BigInteger(), nullable=True),
    sa.Column('position', sa.BigInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('key', sa.LargeBinary(), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_index('ix_dead_letters_consumer_failed_at', ['consumer', 'failed_at'], unique=False)

    op.create_table('inbox',
    sa.Column('consumer', sa.Text(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )


def downgrade() -> None:
    op.drop_table('inbox')
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_index('ix_dead_letters_consumer_failed_at')

    op.drop_table('dead_letters')
    op.drop_table('checkpoints')
    with op.batch_alter_table('case_summaries', schema=None) as batch_op:
        batch_op.drop_index('ix_case_summaries_tenant_unit')
        batch_op.drop_index('ix_case_summaries_tenant_start')
        batch_op.drop_index('ix_case_summaries_tenant_manager')
        batch_op.drop_index('ix_case_summaries_tenant_employee')

    op.drop_table('case_summaries')
