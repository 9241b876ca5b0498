"""event platform tables

Revision ID: notification0001
Revises:
Create Date: 2026-11-30 18:14:56.624585
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import naervaer.eventstore.tables  # noqa: F401  (custom column types)


revision: str = "notification0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_parties",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("employee_id", sa.String(length=128), nullable=False),
        sa.Column("manager_id", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    with op.batch_alter_table("case_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_parties_manager_id"), ["manager_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_parties_tenant"), ["tenant"], unique=False)

    op.create_table(
        "checkpoints",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "source"),
    )
    op.create_table(
        "dead_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=True),
        sa.Column("offset", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dead_letters_consumer_failed_at", ["consumer", "failed_at"], unique=False
        )

    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )


def downgrade() -> None:
    op.drop_table("inbox")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ix_dead_letters_consumer_failed_at")

    op.drop_table("dead_letters")
    op.drop_table("checkpoints")
    with op.batch_alter_table("case_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_parties_tenant"))
        batch_op.drop_index(batch_op.f("ix_case_parties_manager_id"))

    op.drop_table("case_parties")
