"""patron access: durable wrong-PIN counts and short patron sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pin_failures",
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("last_kiosk", sa.String(length=100), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["patron_id"], ["patrons.id"]),
        sa.PrimaryKeyConstraint("patron_id"),
    )
    op.create_table(
        "patron_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("kiosk", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patron_id"], ["patrons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("patron_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patron_sessions_kiosk"), ["kiosk"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_patron_sessions_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("patron_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patron_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_patron_sessions_kiosk"))
    op.drop_table("patron_sessions")
    op.drop_table("pin_failures")
