"""``kiosk-server seed-demo``: the demo library (``core.demo``) as rows in the server's database.

It refuses a database that holds data already (patrons, items, events, staff,
kiosks or transactions) unless forced: a demo must never land in a library's
real database. Forced again on a demo database, it brings the same rows back to
their demo values (it never duplicates them). The demo staff user ``petugas``
gets a new random password each time, which the command prints.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import exists, select

from core import demo
from server.auth import hash_password, hash_secret
from server.db import Database
from server.models import Event, Item, Kiosk, LoanPolicy, Patron, StaffUser, Transaction
from server.timeutil import local_date, utcnow


class NotEmpty(ValueError):
    """The database holds data already and the demo was not forced onto it."""


def holds_data(db: Database) -> bool:
    """Whether anything beyond what the migrations put in is there."""
    with db.read() as s:
        return any(
            s.execute(select(exists().select_from(table))).scalar()
            for table in (Patron, Item, Event, StaffUser, Kiosk, Transaction)
        )


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
    workshop = demo.WORKSHOP
    with db.write() as (s, v):
        for rule in demo.LOAN_RULES:
            pol = s.execute(
                select(LoanPolicy).where(
                    LoanPolicy.category == rule.category, LoanPolicy.item_type == rule.item_type
                )
            ).scalar()
            if pol is None:
                pol = LoanPolicy(category=rule.category, item_type=rule.item_type)
                s.add(pol)
            pol.loan_days, pol.max_loans = rule.loan_days, rule.max_loans
            pol.max_renewals, pol.fines_limit_idr = rule.max_renewals, rule.fines_limit_idr
        by_card: dict[str, Patron] = {}
        for dp in demo.PATRONS:
            p = s.execute(select(Patron).where(Patron.card == dp.card)).scalar()
            if p is None:
                p = Patron(card=dp.card, name=dp.name)
                s.add(p)
            p.name, p.category, p.status = dp.name, dp.category, dp.status
            p.blocked_reason, p.fines_idr = dp.blocked_reason, dp.fines_idr
            if dp.status == "expired" or p.expires_on is None or p.expires_on < today:
                p.expires_on = dp.expires_on(today)
            if dp.pin is None:
                p.pin_hash = None
            elif p.pin_hash is None:
                p.pin_hash = hash_secret(dp.pin)
            p.deleted, p.version = False, v
            by_card[dp.card] = p
        s.flush()
        for di in demo.ITEMS:
            it = s.execute(select(Item).where(Item.barcode == di.barcode)).scalar()
            if it is None:
                it = Item(barcode=di.barcode, title=di.title)
                s.add(it)
            it.title, it.author, it.isbn, it.item_type = di.title, di.author, di.isbn, di.item_type
            it.status, it.deleted, it.version = di.status, False, v
            it.hold_patron_id = by_card[di.hold_for].id if di.hold_for else None
        ev = s.execute(select(Event).where(Event.title == workshop.title)).scalar()
        if ev is None or ev.ends_at < now:
            if ev is None:
                ev = Event(title=workshop.title)
                s.add(ev)
            ev.starts_at = workshop.starts_at(today)
            ev.ends_at = workshop.ends_at(today)
            ev.registration_opens_at = now
            ev.registration_closes_at = ev.starts_at
        ev.description, ev.place = workshop.description, workshop.place
        ev.capacity, ev.waitlist, ev.version = workshop.capacity, workshop.waitlist, v
        login = demo.STAFF_LOGIN
        user = s.execute(select(StaffUser).where(StaffUser.name == login.name)).scalar()
        if user is None:
            user = StaffUser(name=login.name)
            s.add(user)
        # the demo's one staff user runs everything in the console, kiosks included
        user.password_hash, user.disabled, user.role = hash_password(password), False, "admin"
    return password
