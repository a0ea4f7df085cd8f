"""Guest book (Buku Tamu): visits, group visits, anonymous feedback and its chips.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kiosk", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("card", sa.String(64)),
        sa.Column("member", sa.Boolean(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("count_key", sa.String(120), unique=True),
        sa.Column("name", sa.String(200)),
        sa.Column("gender", sa.String(10)),
        sa.Column("education", sa.String(60)),
        sa.Column("occupation", sa.String(60)),
        sa.Column("institution", sa.String(200)),
        sa.Column("purpose", sa.String(60)),
        sa.Column("contact", sa.String(200)),
    )
    op.create_index("ix_visits_day", "visits", ["day", "counted"])
    op.create_table(
        "group_visits",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kiosk", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False, index=True),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("institution", sa.String(200), nullable=False),
        sa.Column("male", sa.Integer(), nullable=False),
        sa.Column("female", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(60)),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kiosk", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False, index=True),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), index=True),
    )
    op.create_table(
        "feedback_chips",
        sa.Column("feedback_id", sa.String(64), sa.ForeignKey("feedback.id"), primary_key=True),
        sa.Column("chip", sa.String(60), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("feedback_chips")
    op.drop_table("feedback")
    op.drop_table("group_visits")
    op.drop_index("ix_visits_day", table_name="visits")
    op.drop_table("visits")
