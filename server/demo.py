"""``kiosk-server seed-demo``: the demo library (``core.demo``) as rows in the server's database.

Running it again brings the same rows back to their demo values (it never
duplicates them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core import demo
from server.auth import hash_secret
from server.db import Database
from server.models import Event, Item, LoanPolicy, Patron, StaffUser
from server.timeutil import local_date, utcnow


def seed_demo(db: Database, now: datetime | None = None) -> None:
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
            s.add(StaffUser(name=login.name, password_hash=hash_secret(login.password)))
