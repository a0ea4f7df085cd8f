"""The offline snapshot: a full copy, or the rows changed since a cursor.

Built straight from column tuples and streamed as JSON in chunks, because a
full copy for 100k patrons and 300k items would take seconds and hundreds of
megabytes as pydantic objects. The field names are those of ``core.wire.Snapshot``
(tests check the stream parses into that model).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from core.gcpause import gc_paused
from server.calendar import Policies
from server.db import Database, current_counter
from server.models import Event, Item, Loan, Patron, Registration
from server.queries import event_views
from server.timeutil import local_date, utcnow

CHUNK = 2000


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dump_rows(rows: list[dict]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))[1:-1].encode("utf-8")


def _array(name: str, chunks: Iterator[list[dict]], first: bool) -> Iterator[bytes]:
    yield (b"" if first else b",") + f'"{name}":['.encode()
    started = False
    while True:
        # Each chunk is fetched, built and dumped with the cyclic collector paused
        # (core.gcpause: its thousands of short-lived dicts and tuples hold no cycles;
        # sync.snapshot_full_s shows it). Never across a yield: an abandoned stream
        # must not leave it paused.
        with gc_paused():
            rows = next(chunks, None)
            if rows is None:
                break
            if not rows:
                continue
            data = _dump_rows(rows)
        yield (b"," if started else b"") + data
        started = True
    yield b"]"


def _patrons(s: Session, since: int | None, pins: bool) -> Iterator[list[dict]]:
    today = local_date(utcnow())
    policies = Policies(s)
    counts = (
        select(Loan.patron_id, func.count().label("n"))
        .where(Loan.returned_at.is_(None))
        .group_by(Loan.patron_id)
        .subquery()
    )
    q = select(
        Patron.card,
        Patron.name,
        Patron.status,
        Patron.expires_on,
        Patron.category,
        Patron.pin_hash,
        Patron.deleted,
        counts.c.n,
    ).outerjoin(counts, counts.c.patron_id == Patron.id)
    if since is not None:
        q = q.where(Patron.version > since)
    result = s.execute(q.order_by(Patron.id).execution_options(yield_per=CHUNK))
    for part in result.partitions(CHUNK):
        out = []
        for card, name, status, expires, category, pin_hash, deleted, n in part:
            if status == "active" and expires is not None and expires < today:
                status = "expired"
            row = {
                "card": card,
                "first_name": name.split()[0] if name.split() else "",
                "status": status,
                "expires_on": _iso(expires),
                "loan_count": int(n or 0),
                "loan_limit": policies.lookup(category).max_loans,
                "deleted": bool(deleted),
            }
            if pins and pin_hash:
                row["pin_hash"] = pin_hash
            out.append(row)
        yield out


def _items(s: Session, since: int | None) -> Iterator[list[dict]]:
    policies = Policies(s)
    holder = aliased(Patron)
    hold = aliased(Patron)
    q = (
        select(
            Item.barcode,
            Item.title,
            Item.status,
            Item.item_type,
            Item.deleted,
            holder.card,
            Loan.due_at,
            hold.card,
        )
        .outerjoin(Loan, and_(Loan.item_id == Item.id, Loan.returned_at.is_(None)))
        .outerjoin(holder, holder.id == Loan.patron_id)
        .outerjoin(hold, hold.id == Item.hold_patron_id)
    )
    if since is not None:
        q = q.where(Item.version > since)
    result = s.execute(q.order_by(Item.id).execution_options(yield_per=CHUNK))
    for part in result.partitions(CHUNK):
        out = []
        for barcode, title, status, item_type, deleted, on_loan_to, due_at, hold_for in part:
            out.append(
                {
                    "barcode": barcode,
                    "title": title,
                    "status": "on_loan" if on_loan_to else status,
                    "on_loan_to": on_loan_to,
                    "due_at": _iso(due_at),
                    "hold_for": hold_for,
                    "loan_days": policies.lookup("*", item_type).loan_days,
                    "deleted": bool(deleted),
                }
            )
        yield out


def _registrations(s: Session, since: int | None) -> Iterator[list[dict]]:
    q = select(
        Registration.event_id,
        Registration.ticket_code,
        Registration.card,
        Registration.guest_name,
        Registration.signed_in_at,
        Registration.deleted,
    )
    if since is not None:
        q = q.where(Registration.version > since)
    result = s.execute(q.order_by(Registration.id).execution_options(yield_per=CHUNK))
    for part in result.partitions(CHUNK):
        yield [
            {
                "event_id": eid,
                "ticket": code,
                "card": card,
                "guest_name": guest.split()[0] if guest and guest.split() else guest,
                "signed_in_at": _iso(at),
                "deleted": bool(deleted),
            }
            for eid, code, card, guest, at, deleted in part
        ]


def stream_snapshot(
    db: Database, since: int | None, public_key: str, pins: bool = False
) -> Iterator[bytes]:
    """Yield the snapshot JSON in pieces; ``since=None`` means a full copy."""
    with db.read() as s:
        cursor = current_counter(s)
        if since is not None and since > cursor:
            since = None  # the server's database was replaced: start the kiosk over
        head = {
            "cursor": str(cursor),
            "full": since is None,
            "generated_at": utcnow().isoformat(),
            "ticket_public_key": public_key,
        }
        yield json.dumps(head)[:-1].encode() + b","
        yield from _array("patrons", _patrons(s, since, pins), True)
        yield from _array("items", _items(s, since), False)
        q = select(Event)
        if since is not None:
            q = q.where(Event.version > since)
        events = [
            v.model_dump(mode="json") for v in event_views(s, s.scalars(q.order_by(Event.id)))
        ]
        yield from _array("events", iter([events]), False)
        yield from _array("registrations", _registrations(s, since), False)
        yield b"}"
