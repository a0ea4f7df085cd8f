"""``kiosk-server seed-demo``: the fixed demo library other parts of the project rely on.

It refuses a database that holds data already (patrons, items, events, staff,
kiosks or transactions) unless forced: a demo must never land in a library's
real database. Forced again on a demo database, it brings the same rows back to
their demo values (it never duplicates them). The demo staff user ``petugas``
gets a new random password each time, which the command prints.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select

from server.auth import hash_secret
from server.db import Database
from server.models import Event, Item, Kiosk, LoanPolicy, Patron, StaffUser, Transaction
from server.timeutil import WIB, local_date, utcnow

# card, name, category, status, blocked reason, fines, pin
PATRONS = [
    ("AGT0001", "Siti Rahmawati", "umum", "active", None, 0, None),
    ("AGT0002", "Budi Santoso", "umum", "active", None, 0, "1234"),
    (
        "AGT0003",
        "Dewi Lestari",
        "umum",
        "blocked",
        "denda belum dibayar (unpaid fines)",
        25000,
        None,
    ),
    ("AGT0004", "Ahmad Fauzi", "umum", "expired", None, 0, None),
    ("STF0001", "Petugas Perpustakaan", "staf", "active", None, 0, None),
]

# barcode, title, author, isbn, type, status
ITEMS = [
    ("B000101", "Laskar Pelangi", "Andrea Hirata", "9789793062792", "book", "available"),
    ("B000102", "Bumi Manusia", "Pramoedya Ananta Toer", "9789799731234", "book", "available"),
    ("B000103", "Ronggeng Dukuh Paruk", "Ahmad Tohari", "9789792256475", "book", "available"),
    ("B000104", "Cantik Itu Luka", "Eka Kurniawan", "9786020312583", "book", "available"),
    ("B000105", "Negeri 5 Menara", "Ahmad Fuadi", "9789792222487", "book", "available"),
    ("B000106", "Perahu Kertas", "Dee Lestari", "9789793551180", "book", "available"),
    ("B000107", "Pulang", "Leila S. Chudori", "9789799124708", "book", "available"),
    ("B000108", "Laut Bercerita", "Leila S. Chudori", "9786024242633", "book", "available"),
    (
        "B000109",
        "Kamus Besar Bahasa Indonesia",
        "Badan Pengembangan dan Pembinaan Bahasa",
        "9789794610428",
        "reference",
        "not_for_loan",
    ),
    ("B000110", "Sang Pemimpi", "Andrea Hirata", "9789793062808", "book", "available"),
]
HOLD = ("B000108", "AGT0002")
WORKSHOP = "Lokakarya Menulis Cerpen"
STAFF_NAME = "petugas"


class NotEmpty(ValueError):
    """The database holds data already and the demo was not forced onto it."""


def holds_data(db: Database) -> bool:
    """Whether anything beyond what the migrations put in is there."""
    with db.read() as s:
        return any(
            s.execute(select(exists().select_from(table))).scalar()
            for table in (Patron, Item, Event, StaffUser, Kiosk, Transaction)
        )


def next_saturday(today: date) -> date:
    days = (5 - today.weekday()) % 7 or 7
    return today + timedelta(days=days)


def seed_demo(
    db: Database,
    now: datetime | None = None,
    *,
    force: bool = False,
    staff_password: str | None = None,
) -> str:
    """Load the demo library; returns the demo staff password (random unless given).

    Raises :class:`NotEmpty` on a database with data unless ``force``.
    """
    if not force and holds_data(db):
        raise NotEmpty(
            "this database holds data already; seed-demo is for an empty demo database "
            "(use --force only on a demo database)"
        )
    password = staff_password or secrets.token_urlsafe(9)
    now = now or utcnow()
    today = local_date(now)
    with db.write() as (s, v):
        for cat, item_type, days, loans, renewals, fines in (
            ("umum", "*", 14, 5, 2, 20000),
            ("umum", "book", 14, 5, 2, 20000),
            ("staf", "*", 30, 10, 5, 100000),
        ):
            pol = s.execute(
                select(LoanPolicy).where(
                    LoanPolicy.category == cat, LoanPolicy.item_type == item_type
                )
            ).scalar()
            if pol is None:
                pol = LoanPolicy(category=cat, item_type=item_type)
                s.add(pol)
            pol.loan_days, pol.max_loans, pol.max_renewals, pol.fines_limit_idr = (
                days,
                loans,
                renewals,
                fines,
            )
        by_card: dict[str, Patron] = {}
        for card, name, cat, status, why, fines, pin in PATRONS:
            p = s.execute(select(Patron).where(Patron.card == card)).scalar()
            if p is None:
                p = Patron(card=card, name=name)
                s.add(p)
            p.name, p.category, p.status, p.blocked_reason, p.fines_idr = (
                name,
                cat,
                status,
                why,
                fines,
            )
            if status == "expired":
                p.expires_on = today - timedelta(days=30)
            elif p.expires_on is None or p.expires_on < today:
                p.expires_on = today.replace(year=today.year + 2, day=min(today.day, 28))
            if pin is None:
                p.pin_hash = None
            elif p.pin_hash is None:
                p.pin_hash = hash_secret(pin)
            p.deleted, p.version = False, v
            by_card[card] = p
        s.flush()
        for barcode, title, author, isbn, item_type, status in ITEMS:
            it = s.execute(select(Item).where(Item.barcode == barcode)).scalar()
            if it is None:
                it = Item(barcode=barcode, title=title)
                s.add(it)
            it.title, it.author, it.isbn, it.item_type = title, author, isbn, item_type
            it.status, it.deleted, it.version = status, False, v
            it.hold_patron_id = by_card[HOLD[1]].id if barcode == HOLD[0] else None
        ev = s.execute(select(Event).where(Event.title == WORKSHOP)).scalar()
        if ev is None or ev.ends_at < now:
            day = next_saturday(today)
            if ev is None:
                ev = Event(title=WORKSHOP)
                s.add(ev)
            ev.starts_at = datetime.combine(day, time(9, 0), tzinfo=WIB)
            ev.ends_at = datetime.combine(day, time(12, 0), tzinfo=WIB)
            ev.registration_opens_at = now
            ev.registration_closes_at = ev.starts_at
        ev.description = (
            "Belajar menulis cerita pendek bersama penulis lokal Probolinggo. "
            "Terbuka untuk umum, gratis."
        )
        ev.place, ev.capacity, ev.waitlist, ev.version = "Ruang Serbaguna Lt. 2", 20, True, v
        user = s.execute(select(StaffUser).where(StaffUser.name == STAFF_NAME)).scalar()
        if user is None:
            user = StaffUser(name=STAFF_NAME)
            s.add(user)
        user.password_hash, user.disabled = hash_secret(password), False
    return password
