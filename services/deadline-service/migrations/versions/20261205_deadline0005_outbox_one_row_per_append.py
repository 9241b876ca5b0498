"""outbox: one row per append

An append's events share their stream (the record key) and their topic, so one outbox row
names them all, from ``global_position`` to ``last_position`` (NULL: the row's own event
alone, as every row written before this revision). Issue 8, twenty-first round: W2 writes
one row per append instead of one per event.

Ranges are written only with ``NAERVAER_OUTBOX_ROW_PER_APPEND`` on (off by default): a relay
of an older build reads a row's first event only, so turn it on once no such replica runs.
Should one meet a range anyway, the check refuses to mark the range published without
``published_through``, which only a relay that reads ranges sets: its mark fails, so it never
marks a range it sent in part and nothing is lost (though what it sent past the range may
reach consumers ahead of the range's later events). On PostgreSQL the check is added NOT
VALID: it holds for every row written from now on, and the rows already there (all with NULL
ranges, so all pass) are not scanned under the table's lock.

Downgrading refuses while a range is unpublished (on PostgreSQL with the table locked against
new rows): the old relay would lose all but its first event. Turn the setting off and let the
relay drain first.

Revision ID: deadline0005
Revises: deadline0004
Create Date: 2026-12-05 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "deadline0005"
down_revision: str | None = "deadline0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A NULL comparison would pass a check, hence the explicit IS NOT NULL.
CHECK = (
    "published_at IS NULL OR last_position IS NULL"
    " OR (published_through IS NOT NULL AND published_through = last_position)"
)
CHECK_NAME = "ck_outbox_range_published_whole"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_position", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("published_through", sa.BigInteger(), nullable=True))
        if not postgres:  # SQLite: the batch rebuilds the table, with its check
            batch_op.create_check_constraint(CHECK_NAME, sa.text(CHECK))
    if postgres:
        op.create_check_constraint(CHECK_NAME, "outbox", sa.text(CHECK), postgresql_not_valid=True)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # no writer may add a range after the count
        op.execute("LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE")
    pending = bind.scalar(
        sa.text(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL AND last_position IS NOT NULL"
        )
    )
    if pending:
        raise RuntimeError(f"{pending} outbox ranges are unpublished: let the relay drain first")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(CHECK_NAME, type_="check")
        batch_op.drop_column("published_through")
        batch_op.drop_column("last_position")
