"""timeline digest

Each case remembers a digest of the timeline rows last written for it, so a recomputation
that finds the same obligations or timers skips rewriting them (issue 8).

Revision ID: deadline0004
Revises: deadline0003
Create Date: 2026-11-30 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "deadline0004"
down_revision: str | None = "deadline0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timeline_digest", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("timeline_digest")
