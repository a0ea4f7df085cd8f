"""The staff console over real HTTP with a year of a city library's data.

A generated year (20,000 patrons, 100,000 items, 500,000 transactions, 200
workshops, one of them with 1,000 registrations) is loaded into a throwaway
PostgreSQL database (``KIOSK_BENCH_PG_URL`` or ``KIOSK_TEST_PG_URL``; SQLite when
neither is set), ``kiosk-server serve`` runs on 127.0.0.1 and a signed-in browser
session is imitated with requests. Figures:

- ``console.dashboard_p95_ms``: the dashboard for its default period (30 days)
- ``console.dashboard_year_p95_ms``: the same page for a whole year
- ``console.event_page_p95_ms``: an event page with 1,000 registrations
- ``console.attendance_export_s``: that event's attendance as XLSX (CSV beside it)
"""

from __future__ import annotations

import random
import re
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import insert, update

from bench.servers import scratch_database, server_process
from server.admin import add_staff
from server.db import Database
from server.demo import seed_demo
from server.models import Event, Item, Patron, Registration, StaffUser, Transaction

PATRONS, ITEMS, TRANSACTIONS, WORKSHOPS, BIG_EVENT = 20_000, 100_000, 500_000, 200, 1_000
KINDS = (
    ["checkout"] * 45
    + ["checkin"] * 40
    + ["renew"] * 8
    + ["door_signin"] * 4
    + ["event_register"] * 3
)
ROUNDS = 20
CHUNK = 20_000


def _populate(db: Database, now: datetime) -> int:
    """Load the year; returns the id of the event with BIG_EVENT registrations."""
    seed_demo(db)
    rnd = random.Random(7)
    expires = now.date() + timedelta(days=700)
    with db.write() as (s, v):
        for start in range(0, PATRONS, CHUNK):
            s.execute(
                insert(Patron),
                [{"card": f"BP{i:06d}", "name": f"Anggota {i}", "category": "umum",
                  "status": "active", "expires_on": expires, "fines_idr": 0, "version": v,
                  "deleted": False} for i in range(start, min(PATRONS, start + CHUNK))],
            )  # fmt: skip
        for start in range(0, ITEMS, CHUNK):
            s.execute(
                insert(Item),
                [{"barcode": f"BI{i:07d}", "title": f"Judul Buku {i % 9000}",
                  "item_type": "book", "status": "available", "version": v, "deleted": False}
                 for i in range(start, min(ITEMS, start + CHUNK))],
            )  # fmt: skip
        year_ago = now - timedelta(days=365)
        events = []
        for w in range(WORKSHOPS):
            at = year_ago + timedelta(days=w * 365 / WORKSHOPS, hours=2)
            events.append(
                {"title": f"Lokakarya {w}", "description": "", "place": "Aula",
                 "starts_at": at, "ends_at": at + timedelta(hours=3), "capacity": 40,
                 "waitlist": w % 2 == 0, "version": v}
            )  # fmt: skip
        s.execute(insert(Event), events)
    with db.read() as s:
        from sqlalchemy import func, select

        big_id = int(s.execute(select(func.max(Event.id))).scalar_one())
    with db.write() as (s, v):
        s.execute(
            insert(Registration),
            [{"event_id": big_id, "ticket_code": f"T{i:07d}", "person_key": f"card:BP{i:06d}",
              "card": f"BP{i:06d}" if i % 3 else None,
              "guest_name": None if i % 3 else f"Tamu {i}",
              "guest_phone": None if i % 3 else f"08{i:09d}",
              "guest_institution": None if i % 3 else "SMA Negeri",
              "registered_at": now - timedelta(days=3, minutes=i), "waitlisted": i >= 900,
              "signed_in_at": now - timedelta(hours=1) if i % 2 else None,
              "signed_in_kiosk": "kiosk-pintu" if i % 2 else None, "version": v,
              "deleted": False} for i in range(BIG_EVENT)],
        )  # fmt: skip
    for start in range(0, TRANSACTIONS, CHUNK):
        rows = []
        for i in range(start, min(TRANSACTIONS, start + CHUNK)):
            at = now - timedelta(seconds=rnd.random() * 365 * 86400)
            kind = rnd.choice(KINDS)
            rows.append(
                {"id": f"{uuid.UUID(int=rnd.getrandbits(128))}", "kiosk": f"kiosk-{i % 6}",
                 "seq": i, "kind": kind, "at": at, "offline": rnd.random() < 0.12,
                 "card": f"BP{rnd.randrange(PATRONS):06d}",
                 "item": f"BI{int(rnd.paretovariate(1.2) * 50) % ITEMS:07d}"
                 if kind in ("checkout", "checkin", "renew") else None,
                 "event_id": rnd.randrange(1, big_id + 1)
                 if kind in ("door_signin", "event_register") else None,
                 "order_key": f"{at.isoformat()}|{i}", "effective": True, "status": "accepted",
                 "payload": "{}", "result": "{}", "received_at": at}
            )  # fmt: skip
        with db.write() as (s, _v):
            s.execute(insert(Transaction), rows)
    return big_id


def _sign_in(base: str, name: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/staff/login", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    done = http.post(
        base + "/staff/login",
        data={"csrf": token.group(1), "name": name, "password": password, "next": "/staff/"},
        timeout=30,
    )
    assert done.ok and "/staff/login" not in done.url, done.text[:500]
    return http


def _p95_ms(http: requests.Session, url: str) -> float:
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        r = http.get(url, timeout=60)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return statistics.quantiles(times, n=20)[18]


def run(rec) -> None:
    with scratch_database("bench-console") as scratch:
        db = Database(scratch.url)
        try:
            db.migrate()
            now = datetime.now(UTC)
            t0 = time.perf_counter()
            big_id = _populate(db, now)
            print(f"   (a year of data loaded in {time.perf_counter() - t0:.1f} s)")
            password = "bench-console-password"
            add_staff(db, "bench-admin", password)
            with db.write() as (s, _v):
                s.execute(
                    update(StaffUser).where(StaffUser.name == "bench-admin").values(role="admin")
                )
            scratch.analyze()
            with server_process(scratch) as base:
                _measure(rec, base, password, now, big_id)
        finally:
            db.dispose()


def _measure(rec, base: str, password: str, now: datetime, big_id: int) -> None:
    http = _sign_in(base, "bench-admin", password)
    rec.record("console.dashboard_p95_ms", _p95_ms(http, base + "/staff/"), "ms", "< 300")
    first = (now - timedelta(days=364)).date().isoformat()
    rec.record(
        "console.dashboard_year_p95_ms",
        _p95_ms(http, f"{base}/staff/?start={first}&end={now.date().isoformat()}"),
        "ms",
    )
    rec.record(
        "console.event_page_p95_ms",
        _p95_ms(http, f"{base}/staff/events/{big_id}"),
        "ms",
        "< 200",
    )
    t0 = time.perf_counter()
    xlsx = http.get(f"{base}/staff/events/{big_id}/attendance.xlsx", timeout=60)
    rec.record("console.attendance_export_s", time.perf_counter() - t0, "s", "< 1")
    assert xlsx.ok and xlsx.content[:2] == b"PK"
    t0 = time.perf_counter()
    csv_text = http.get(f"{base}/staff/events/{big_id}/attendance.csv", timeout=60).text
    rec.record("console.attendance_export_csv_s", time.perf_counter() - t0, "s")
    assert csv_text.count("\n") == BIG_EVENT + 1
