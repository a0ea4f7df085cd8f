"""Indonesian national public holidays 2026 and 2027 as closed days.

2026 follows the joint ministerial decree (SKB 3 Menteri). For 2027 the lunar
holidays (Islamic, Imlek, Nyepi, Waisak) are the expected dates; the decree may
move them by a day, and staff correct them with ``/staff/closed-days``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HOLIDAYS: list[tuple[date, str]] = [
    (date(2026, 1, 1), "Tahun Baru 2026 Masehi"),
    (date(2026, 1, 16), "Isra Mikraj Nabi Muhammad SAW"),
    (date(2026, 2, 17), "Tahun Baru Imlek 2577 Kongzili"),
    (date(2026, 3, 19), "Hari Suci Nyepi (Tahun Baru Saka 1948)"),
    (date(2026, 3, 20), "Idul Fitri 1447 Hijriah"),
    (date(2026, 3, 21), "Idul Fitri 1447 Hijriah"),
    (date(2026, 4, 3), "Wafat Yesus Kristus"),
    (date(2026, 4, 5), "Kebangkitan Yesus Kristus (Paskah)"),
    (date(2026, 5, 1), "Hari Buruh Internasional"),
    (date(2026, 5, 14), "Kenaikan Yesus Kristus"),
    (date(2026, 5, 27), "Idul Adha 1447 Hijriah"),
    (date(2026, 5, 31), "Hari Raya Waisak 2570 BE"),
    (date(2026, 6, 1), "Hari Lahir Pancasila"),
    (date(2026, 6, 16), "Tahun Baru Islam 1448 Hijriah"),
    (date(2026, 8, 17), "Hari Kemerdekaan Republik Indonesia"),
    (date(2026, 8, 25), "Maulid Nabi Muhammad SAW"),
    (date(2026, 12, 25), "Hari Raya Natal"),
    (date(2027, 1, 1), "Tahun Baru 2027 Masehi"),
    (date(2027, 1, 5), "Isra Mikraj Nabi Muhammad SAW"),
    (date(2027, 2, 6), "Tahun Baru Imlek 2578 Kongzili"),
    (date(2027, 3, 8), "Hari Suci Nyepi (Tahun Baru Saka 1949)"),
    (date(2027, 3, 10), "Idul Fitri 1448 Hijriah"),
    (date(2027, 3, 11), "Idul Fitri 1448 Hijriah"),
    (date(2027, 3, 26), "Wafat Yesus Kristus"),
    (date(2027, 3, 28), "Kebangkitan Yesus Kristus (Paskah)"),
    (date(2027, 5, 1), "Hari Buruh Internasional"),
    (date(2027, 5, 6), "Kenaikan Yesus Kristus"),
    (date(2027, 5, 17), "Idul Adha 1448 Hijriah"),
    (date(2027, 5, 20), "Hari Raya Waisak 2571 BE"),
    (date(2027, 6, 1), "Hari Lahir Pancasila"),
    (date(2027, 6, 6), "Tahun Baru Islam 1449 Hijriah"),
    (date(2027, 8, 15), "Maulid Nabi Muhammad SAW"),
    (date(2027, 8, 17), "Hari Kemerdekaan Republik Indonesia"),
    (date(2027, 12, 25), "Hari Raya Natal"),
]

closed_days = sa.table("closed_days", sa.column("day", sa.Date), sa.column("reason", sa.String))


def upgrade() -> None:
    op.bulk_insert(closed_days, [{"day": d, "reason": r} for d, r in HOLIDAYS])


def downgrade() -> None:
    op.execute(closed_days.delete().where(closed_days.c.day.in_([d for d, _ in HOLIDAYS])))
