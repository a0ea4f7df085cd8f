"""ils: write-back queue and connector state for SLiMS / INLISLite

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ils_writebacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("order_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ils_writebacks_transaction_id", "ils_writebacks", ["transaction_id"])
    op.create_index("ix_ils_writebacks_pending", "ils_writebacks", ["state", "order_key"])
    op.create_table(
        "ils_state",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.String(length=40), nullable=True),
        sa.Column("last_pull_at", sa.DateTime(), nullable=True),
        sa.Column("last_pull_s", sa.Double(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kind"),
    )


def downgrade() -> None:
    op.drop_table("ils_state")
    op.drop_index("ix_ils_writebacks_pending", table_name="ils_writebacks")
    op.drop_index("ix_ils_writebacks_transaction_id", table_name="ils_writebacks")
    op.drop_table("ils_writebacks")
