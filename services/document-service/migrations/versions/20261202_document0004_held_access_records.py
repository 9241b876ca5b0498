"""held access records: access records waiting for their case's first event (innsynslogg)

Revision ID: document0004
Revises: document0003
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import naervaer.eventstore.tables  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

revision: str = 'document0004'
down_revision: str | None = 'document0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('held_access_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('source_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=128), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('held_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'source_id', name='uq_held_access_records_source')
    )
    with op.batch_alter_table('held_access_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_access_records_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_access_records_held_at'), ['held_at'], unique=False)


def downgrade() -> None:
    # Records still held go with the table: the code before this revision cannot keep them.
    with op.batch_alter_table('held_access_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_access_records_held_at'))
        batch_op.drop_index(batch_op.f('ix_held_access_records_case_id'))
    op.drop_table('held_access_records')
