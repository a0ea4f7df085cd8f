"""ils: the write-back queue carries guest-book visits as well as items

``ils_writebacks.what`` says what a queue row's ``item`` names: an item's barcode
(``item``, every row before this revision) or the id of a visit or group visit
to write into the ILS's own guest book.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ils_writebacks") as batch_op:
        batch_op.add_column(
            sa.Column("what", sa.String(length=16), nullable=False, server_default="item")
        )


def downgrade() -> None:
    op.execute("DELETE FROM ils_writebacks WHERE what <> 'item'")
    with op.batch_alter_table("ils_writebacks") as batch_op:
        batch_op.drop_column("what")
