"""case keys and erasure: the key id per case, erased cases, blobs whose content can be erased

Revision ID: document0003
Revises: document0002
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import naervaer.eventstore.tables  # noqa: F401  (custom column types)

revision: str = 'document0003'
down_revision: str | None = 'document0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('erased_cases',
    sa.Column('tenant', sa.String(length=128), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('erased_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', naervaer.eventstore.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'case_id')
    )
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=True)

    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.drop_column('key_id')

    # Erased contents cannot come back: a downgrade keeps their rows as empty content.
    op.execute(sa.text("UPDATE blobs SET content = :empty WHERE content IS NULL").bindparams(
        sa.bindparam('empty', b'', type_=sa.LargeBinary())
    ))
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=False)

    op.drop_table('erased_cases')
