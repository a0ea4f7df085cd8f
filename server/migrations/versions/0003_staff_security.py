"""staff sessions that end, kiosks that can be revoked, loans that outlive their patron link

- ``staff_users.disabled``: ``kiosk-server disable-staff NAME`` refuses the user's logins
  and ends their sessions.
- ``staff_sessions.last_used_at``: the idle timeout; ``expires_at`` gets an index for
  the purge of expired sessions.
- ``kiosks.revoked_at``: ``kiosk-server revoke-kiosk NAME``; the kiosk's token stops,
  its transactions stay.
- ``loans.patron_id`` may be null: ``kiosk-server purge-history`` keeps old returned
  loans (they count) without the patron they were made to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_staff_sessions_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.alter_column("patron_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM loans WHERE patron_id IS NULL")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.alter_column("patron_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_expires_at"))
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("disabled")
