"""A small SLiMS library for the connector tests (and the benchmark's big one)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.ils.slims_schema import create_slims_tables

FINE_PER_DAY = 500
LOAN_DAYS = 7


def seed_slims(
    engine: Engine,
    members: int = 4,
    items: int = 6,
    today: date | None = None,
    age_days: int = 0,
) -> None:
    """Member type "Standard" (7 days, 3 loans, 1 renewal, Rp500 a day, no grace),
    members M0001.. (M0003 pending), items B00001.. of one title each, Sundays
    closed. Rows look last changed ``age_days`` ago. Bulk inserts, so the benchmark
    can make 20,000 members this way."""
    today = today or date.today()
    create_slims_tables(engine)
    now = datetime.now().replace(microsecond=0) - timedelta(days=age_days)
    changed = today - timedelta(days=age_days)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO mst_member_type (member_type_id, member_type_name, loan_limit, "
                "loan_periode, member_periode, reborrow_limit, fine_each_day, grace_periode, "
                "input_date, last_update) VALUES (1, 'Standard', 3, :days, 365, 1, :fine, 0, "
                ":d, :d)"
            ),
            {"days": LOAN_DAYS, "fine": FINE_PER_DAY, "d": today},
        )
        conn.execute(
            text("INSERT INTO holiday (holiday_dayname, holiday_date, description) "
                 "VALUES ('Sun', NULL, NULL)")
        )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO member (member_id, member_name, gender, member_type_id, "
                "expire_date, is_pending, input_date, last_update) VALUES "
                "(:id, :name, 1, 1, :exp, :pending, :d, :d)"
            ),
            [
                {"id": f"M{n:04d}", "name": f"Anggota {n}", "exp": today + timedelta(days=365),
                 "pending": 1 if n == 3 else 0, "d": changed}
                for n in range(1, members + 1)
            ],
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO biblio (biblio_id, gmd_id, title, input_date, last_update) "
                 "VALUES (:id, 1, :title, :t, :t)"),
            [{"id": n, "title": f"Judul Buku {n}", "t": now} for n in range(1, items + 1)],
        )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO item (biblio_id, coll_type_id, item_code, location_id, "
                "item_status_id, input_date, last_update) VALUES (:b, 1, :code, 'SL', '0', "
                ":t, :t)"
            ),
            [{"b": n, "code": f"B{n:05d}", "t": now} for n in range(1, items + 1)],
        )


def _at_desk(engine: Engine, sql: str, **params: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def add_member_at_desk(engine: Engine, member_id: str, name: str) -> None:
    """A member the SLiMS desk registers today, behind the server's back."""
    _at_desk(
        engine,
        "INSERT INTO member (member_id, member_name, gender, member_type_id, expire_date, "
        "is_pending, input_date, last_update) VALUES (:m, :name, 0, 1, "
        "CURDATE() + INTERVAL 1 YEAR, 0, CURDATE(), CURDATE())",
        m=member_id,
        name=name,
    )


def lend_at_desk(engine: Engine, item_code: str, member_id: str) -> None:
    """A loan the SLiMS desk makes today, behind the server's back."""
    _at_desk(
        engine,
        "INSERT INTO loan (item_code, member_id, loan_date, due_date, is_lent, is_return, "
        "input_date, last_update) VALUES (:i, :m, CURDATE(), CURDATE() + INTERVAL 7 DAY, "
        "1, 0, NOW(), NOW())",
        i=item_code,
        m=member_id,
    )
