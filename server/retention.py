"""``kiosk-server purge-history``: old history keeps its counts, not its patrons.

After ``keep_patron_history_days`` (Indonesia's personal data protection law, UU
PDP, expects a retention period) this drops the link to the patron from:

- loans returned before the cut-off: ``patron_id`` becomes null (the loan still
  counts for the item, the day and the kiosk);
- transactions of those loans: the card leaves the row and its payload, and the
  row stops being part of the item's history that replays rebuild loans from
  (an item's transactions are purged only before its earliest loan still kept,
  so a replay never needs one of them); conflict messages lose the card;
- registrations and transactions of events that ended before the cut-off: card
  and guest details go; the person key becomes a keyed hash made with a key
  thrown away after the run, so attendance still counts one per person;
- guest-book visits and group visits before the cut-off, and their
  transactions: the card, a visitor's name and contact, a group leader's name and
  phone go; whether a visit counted, and everything the reports count by, stay.

Patrons themselves, items and open loans are not touched. Rows already purged are
skipped, so running it daily costs little. Each part is its own short write.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from server.db import Database
from server.models import (
    Conflict,
    Event,
    GroupVisit,
    Item,
    Loan,
    Registration,
    Transaction,
    Visit,
)
from server.timeutil import utcnow

CHUNK = 2000
PURGED = "purged:"
_ITEM_KINDS = ("checkout", "checkin", "renew")
_VISIT_KINDS = ("visit", "group_visit")
#: What a purged group visit names as its leader (the column is required).
NO_LEADER = "-"


@dataclass
class PurgeReport:
    """How many rows lost their link to a patron in one run."""

    cutoff: datetime
    loans: int = 0
    transactions: int = 0
    registrations: int = 0
    visits: int = 0

    def summary(self) -> str:
        return (
            f"history before {self.cutoff:%Y-%m-%d}: loans {self.loans}, "
            f"transactions {self.transactions}, registrations {self.registrations}, "
            f"visits {self.visits} unlinked from their patrons"
        )


def purge_history(db: Database, keep_days: int, now: datetime | None = None) -> PurgeReport:
    """Unlink history older than ``keep_days`` from patrons (see the module docstring)."""
    if keep_days <= 0:
        raise ValueError("keep_days must be 1 or more")
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    report = PurgeReport(cutoff)
    key = secrets.token_bytes(32)  # never stored: purged person keys link to nobody
    report.transactions += _purge_item_transactions(db, cutoff)
    with db.write() as (s, _v):
        done = s.execute(
            update(Loan)
            .where(Loan.returned_at < cutoff, Loan.patron_id.is_not(None))
            .values(patron_id=None)
        )
        report.loans = int(done.rowcount)  # type: ignore[attr-defined]
    ended = select(Event.id).where(Event.ends_at < cutoff).scalar_subquery()
    report.registrations = _purge_registrations(db, ended, key)
    report.transactions += _purge_event_transactions(db, ended, key)
    report.visits = _purge_visits(db, cutoff)
    report.transactions += _purge_visit_transactions(db, cutoff)
    return report


def _purge_item_transactions(db: Database, cutoff: datetime) -> int:
    kept = aliased(Loan)
    item = aliased(Item)
    # a loan still kept (open, or returned after the cut-off) that began at or before
    # this transaction: its history must stay whole for a replay
    needed = exists().where(
        item.barcode == Transaction.item,
        kept.item_id == item.id,
        or_(kept.returned_at.is_(None), kept.returned_at >= cutoff),
        kept.issued_at <= Transaction.at,
    )
    todo = (
        select(Transaction.id, Transaction.card, Transaction.payload)
        .where(
            Transaction.kind.in_(_ITEM_KINDS),
            Transaction.at < cutoff,
            or_(Transaction.card.is_not(None), Transaction.effective.is_(True)),
            ~needed,
        )
        .limit(CHUNK)
    )
    total = 0
    while True:
        with db.write() as (s, _v):
            rows = s.execute(todo).all()
            for tid, card, payload in rows:
                s.execute(
                    update(Transaction)
                    .where(Transaction.id == tid)
                    .values(card=None, effective=False, payload=_scrub(payload))
                )
                _scrub_conflict(s, tid, card)
        total += len(rows)
        if len(rows) < CHUNK:
            return total


def _purge_registrations(db: Database, ended: Any, key: bytes) -> int:
    todo = (
        select(Registration)
        .where(Registration.event_id.in_(ended), ~Registration.person_key.startswith(PURGED))
        .limit(CHUNK)
    )
    total = 0
    while True:
        with db.write() as (s, v):
            rows = s.scalars(todo).all()
            for reg in rows:
                reg.person_key = _person(key, reg.person_key)
                reg.card = reg.guest_name = reg.guest_phone = None
                reg.guest_email = reg.guest_institution = None
                reg.version = v  # kiosks holding a copy get the scrubbed one
        total += len(rows)
        if len(rows) < CHUNK:
            return total


def _purge_event_transactions(db: Database, ended: Any, key: bytes) -> int:
    todo = (
        select(Transaction.id, Transaction.card, Transaction.person_key, Transaction.payload)
        .where(
            Transaction.event_id.in_(ended),
            or_(
                Transaction.person_key.is_(None),
                ~Transaction.person_key.startswith(PURGED),
            ),
        )
        .limit(CHUNK)
    )
    total = 0
    while True:
        with db.write() as (s, _v):
            rows = s.execute(todo).all()
            for tid, card, person, payload in rows:
                s.execute(
                    update(Transaction)
                    .where(Transaction.id == tid)
                    .values(
                        card=None,
                        person_key=_person(key, person or f"none:{tid}"),
                        payload=_scrub(payload),
                    )
                )
                _scrub_conflict(s, tid, card)
        total += len(rows)
        if len(rows) < CHUNK:
            return total


def _purge_visits(db: Database, cutoff: datetime) -> int:
    """Visits and group visits before ``cutoff`` lose who came; their counts stay.

    ``count_key`` (card and window) goes too: it names the card, and a window
    that old takes no more visits that could count twice."""
    with db.write() as (s, _v):
        done = s.execute(
            update(Visit)
            .where(
                Visit.at < cutoff,
                or_(Visit.card.is_not(None), Visit.name.is_not(None), Visit.contact.is_not(None)),
            )
            .values(card=None, count_key=None, name=None, contact=None)
        )
        groups = s.execute(
            update(GroupVisit)
            .where(GroupVisit.at < cutoff, GroupVisit.leader != NO_LEADER)
            .values(leader=NO_LEADER, phone=None)
        )
        return int(done.rowcount) + int(groups.rowcount)  # type: ignore[attr-defined]


def _purge_visit_transactions(db: Database, cutoff: datetime) -> int:
    # Keys a scrubbed payload no longer has; walked by id, so a value that merely
    # contains such a key's text is looked at once per run, not again and again.
    named = or_(
        Transaction.card.is_not(None),
        *(Transaction.payload.contains(f'"{k}"') for k in ("name", "contact", "phone")),
        and_(
            Transaction.payload.contains('"leader"'),
            ~Transaction.payload.contains(f'"leader": "{NO_LEADER}"'),
        ),
    )
    total, last = 0, ""
    while True:
        todo = (
            select(Transaction.id, Transaction.payload)
            .where(
                Transaction.kind.in_(_VISIT_KINDS),
                Transaction.at < cutoff,
                Transaction.id > last,
                named,
            )
            .order_by(Transaction.id)
            .limit(CHUNK)
        )
        with db.write() as (s, _v):
            rows = s.execute(todo).all()
            for tid, payload in rows:
                s.execute(
                    update(Transaction)
                    .where(Transaction.id == tid)
                    .values(card=None, payload=_scrub_visit(payload))
                )
        total += len(rows)
        if len(rows) < CHUNK:
            return total
        last = rows[-1][0]


def _scrub_visit(payload: str) -> str:
    data = json.loads(_scrub(payload))
    for part, fields in (("visit", ("name", "contact")), ("group", ("leader", "phone"))):
        if isinstance(data.get(part), dict):
            for field in fields:
                data[part].pop(field, None)
    if isinstance(data.get("group"), dict):
        data["group"]["leader"] = NO_LEADER  # required by the wire schema
    return json.dumps(data, ensure_ascii=False)


def _person(key: bytes, person: str) -> str:
    return PURGED + hmac.new(key, person.encode("utf-8"), hashlib.sha256).hexdigest()[:24]


def _scrub(payload: str) -> str:
    data = json.loads(payload)
    data.pop("card", None)
    data.pop("guest", None)
    return json.dumps(data, ensure_ascii=False)


def _scrub_conflict(s: Any, tid: str, card: str | None) -> None:
    if not card:
        return
    conflict = s.execute(
        select(Conflict).where(and_(Conflict.transaction_id == tid))
    ).scalar_one_or_none()
    if conflict is not None:
        conflict.message = conflict.message.replace(card, "****")
