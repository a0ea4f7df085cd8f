"""Staff roles for the console, cancelled events, and an index for its reports.

Staff users who existed before roles keep every right they had: they become
``admin``; new users are ``librarian`` unless made admin.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="librarian")
        )
    op.execute("UPDATE staff_users SET role = 'admin'")
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.create_index("ix_transactions_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.drop_index("ix_transactions_at")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("role")
