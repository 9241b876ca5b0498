"""erased cases keyed by tenant

An erasure counts only for its own tenant: ``erased_cases`` is keyed by (case_id, tenant)
instead of case_id alone, so an erasure event of one tenant naming another tenant's case id
neither hides that case's events nor keeps the other tenant's own erasure of it from being
recorded. The rows stay as they are (each already has its tenant).

Downgrading fails while two tenants have erased the same case id (the old key cannot hold
both); nothing is changed then.

Revision ID: notification0004
Revises: notification0003
Create Date: 2026-12-06 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from naervaer.eventstore.tables import UtcDateTime

revision: str = "notification0004"
down_revision: str | None = "notification0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _key_by("case_id", "tenant")


def downgrade() -> None:
    _key_by("case_id")


def _key_by(*columns: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("erased_cases_pkey", "erased_cases", type_="primary")
        op.create_primary_key("erased_cases_pkey", "erased_cases", list(columns))
        return
    # SQLite cannot alter a key: the batch copies the rows into a table of the shape given.
    keyed = sa.Table(
        "erased_cases",
        sa.MetaData(),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("erased_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*columns),
    )
    with op.batch_alter_table("erased_cases", copy_from=keyed, recreate="always"):
        pass
