"""Guest-book report benchmark: a year of 300,000 visits, ``report visits --by month``.

Runs on PostgreSQL when ``KIOSK_BENCH_PG_URL`` or ``KIOSK_TEST_PG_URL`` is set (a
throwaway database is made and dropped), else on SQLite in a temp folder. The
visits are spread over a year, two kiosks, members (a few hundred cards, some
scanned twice a day) and visitors without a card, plus school groups.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from bench.servers import scratch_database
from server.db import Database
from server.models import GroupVisit, Visit
from server.timeutil import WIB
from server.visit_reports import visits_report

VISITS = 300_000
GROUPS = 2_000
RUNS = 5
CHUNK = 10_000


def _rows(rng: random.Random, start: date) -> list[dict]:
    rows = []
    seen: set[str] = set()
    for i in range(VISITS):
        day = start + timedelta(days=rng.randrange(365))
        hour = rng.randrange(8, 20)
        at = datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=WIB)
        member = rng.random() < 0.6
        card = f"AGT{rng.randrange(1, 5000):06d}" if member else None
        key = f"{card}|{day.isoformat()}" if card else None
        counted = key is None or key not in seen
        if key is not None and counted:
            seen.add(key)
        rows.append(
            {
                "id": f"v{i:07d}",
                "kiosk": rng.choice(("kiosk-1", "kiosk-2")),
                "at": at.astimezone(UTC),
                "day": day,
                "hour": hour,
                "card": card,
                "member": member,
                "counted": counted,
                "count_key": key if counted else None,
                "name": None if member else "Tamu",
                "gender": None if member else rng.choice(("male", "female")),
                "education": None if member else rng.choice(("SD", "SMP", "SMA/SMK", "S1")),
                "occupation": None if member else rng.choice(("Pelajar", "Mahasiswa", "Lainnya")),
                "institution": None,
                "purpose": rng.choice(("Membaca", "Internet", "Mengerjakan tugas", None)),
                "contact": None,
            }
        )
    return rows


def _groups(rng: random.Random, start: date) -> list[dict]:
    rows = []
    for i in range(GROUPS):
        day = start + timedelta(days=rng.randrange(365))
        at = datetime(day.year, day.month, day.day, 9, 0, tzinfo=WIB)
        rows.append(
            {
                "id": f"g{i:07d}", "kiosk": "kiosk-1", "at": at.astimezone(UTC), "day": day,
                "hour": 9, "leader": "Bu Guru", "phone": "0812", "institution": "SDN 1",
                "male": rng.randrange(20), "female": rng.randrange(1, 20), "purpose": "Membaca",
            }
        )  # fmt: skip
    return rows


def run(rec) -> None:
    with scratch_database("bench-visits") as scratch:
        db = Database(scratch.url)
        try:
            db.migrate()
            _measure(rec, db, scratch.postgres)
        finally:
            db.dispose()


def _measure(rec, db: Database, pg: bool) -> None:
    rng = random.Random(2026)
    start = date(2026, 1, 1)
    t0 = time.perf_counter()
    rows = _rows(rng, start)
    with db.write() as (session, _v):
        for i in range(0, len(rows), CHUNK):
            session.execute(insert(Visit), rows[i : i + CHUNK])
        session.execute(insert(GroupVisit), _groups(rng, start))
    print(f"   ({VISITS} visits and {GROUPS} groups loaded in {time.perf_counter() - t0:.1f} s)")
    if pg:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE visits")
            conn.exec_driver_sql("ANALYZE group_visits")
            conn.commit()
    took = []
    for _ in range(RUNS):
        t = time.perf_counter()
        with db.read() as s:
            rep = visits_report(s, start, date(2026, 12, 31), "month")
        took.append(time.perf_counter() - t)
    print(f"   ({rep.total.total} persons counted; runs {[round(x, 3) for x in took]} s)")
    name = "server.visits_report_year_s" if pg else "server.visits_report_year_sqlite_s"
    rec.record(name, statistics.median(took), "s", "< 1 s (300,000 visits, PostgreSQL)")
