"""The demo library (``core.demo``) as an offline kiosk's snapshot, for tests and rigs.

``library_snapshot()`` is what the server sends a kiosk right after
``kiosk-server seed-demo``: every patron and item, the workshop, no loans.
``scene_snapshot()`` is the same library a few days on, as the UI tests,
screenshots and the UI benchmark show it (``seed_store``): Siti has two loans
(one overdue), Budi one and a ticket for the workshop, a guest signed up too,
and a second, full event shows the waiting list. No Kivy, no server.

As a server's snapshot does, both name patrons in loans, holds and sign-ups by
card tag and carry Budi's PIN hash sealed, here with the demo kiosk's keys
(``DEMO_SECRETS``): a store that reads them needs those keys (``demo_keys``).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from core import demo
from core.patronkeys import card_tag, key_id, seal_pin_hash
from core.wire import (
    EventView,
    KioskSecrets,
    PatronStatus,
    Snapshot,
    SnapshotItem,
    SnapshotPatron,
    SnapshotRegistration,
)
from sync.secrets import SECRETS_FILE, KioskKeys
from sync.store import LocalStore

# The demo kiosk's keys (public on purpose: demo data only, never a real library's).
_DEMO_CARD_KEY = hashlib.sha256(b"pustaka demo card key").digest()
_DEMO_PIN_KEY = hashlib.sha256(b"pustaka demo pin key").digest()
DEMO_SECRETS = KioskSecrets(
    card_key=base64.urlsafe_b64encode(_DEMO_CARD_KEY).decode(),
    pin_key=base64.urlsafe_b64encode(_DEMO_PIN_KEY).decode(),
    key_id=key_id(_DEMO_CARD_KEY),
)

#: The scene's loans: (barcode, card, days until due; negative is overdue).
SCENE_LOANS: tuple[tuple[str, str, int], ...] = (
    ("B000105", "AGT0001", -3),
    ("B000106", "AGT0001", 9),
    ("B000107", "AGT0002", 4),
)
#: The scene's sign-ups for the workshop (event 1): (ticket, card, guest name).
SCENE_REGISTRATIONS: tuple[tuple[str, str | None, str | None], ...] = (
    ("T-DEMO-0002", "AGT0002", None),
    ("T-DEMO-G001", None, "Rina"),
)
WORKSHOP_ID = 1
FULL_EVENT_TITLE = "Dongeng Anak Sabtu Pagi"


def demo_keys(data_dir: Path | None = None) -> KioskKeys:
    """The demo kiosk's keys, which open the demo snapshots' tags and sealed PIN; saved
    in ``data_dir`` when given, where a kiosk process started on that folder finds them."""
    keys = KioskKeys(data_dir / SECRETS_FILE if data_dir is not None else None)
    keys.save(DEMO_SECRETS)
    return keys


def tag(card: str) -> str:
    """The snapshot's card tag for ``card`` under the demo keys."""
    return card_tag(_DEMO_CARD_KEY, card)


def seal(pin_hash: str, card: str) -> str:
    """A PIN hash sealed for the demo kiosk, as the server ships it."""
    return seal_pin_hash(_DEMO_PIN_KEY, pin_hash, card)


@cache
def demo_pin_hash(pin: str) -> str:
    """An argon2 hash of ``pin`` with cheap parameters (the kiosk verifies any argon2 hash)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024).hash(pin)


def _patron(p: demo.DemoPatron, now: datetime, loans: int) -> SnapshotPatron:
    today = now.astimezone(demo.WIB).date()
    return SnapshotPatron(
        card=p.card,
        first_name=p.first_name,
        status=PatronStatus(p.status),
        expires_on=p.expires_on(today),
        loan_count=loans,
        loan_limit=demo.loan_rule(p.category).max_loans,
        pin_hash=seal(demo_pin_hash(p.pin), p.card) if p.pin else None,
        pin_required=p.pin is not None,
    )


def _item(it: demo.DemoItem) -> SnapshotItem:
    return SnapshotItem(
        barcode=it.barcode,
        title=it.title,
        status="not_for_loan" if it.status == "not_for_loan" else "available",
        hold_for=tag(it.hold_for) if it.hold_for else None,
        loan_days=demo.loan_rule("umum", it.item_type).loan_days,
    )


def _workshop(now: datetime, registered: int) -> EventView:
    w = demo.WORKSHOP
    today = now.astimezone(demo.WIB).date()
    return EventView(
        id=WORKSHOP_ID,
        title=w.title,
        description=w.description,
        starts_at=w.starts_at(today),
        ends_at=w.ends_at(today),
        place=w.place,
        capacity=w.capacity,
        registered=registered,
        seats_left=w.capacity - registered,
        waitlist=w.waitlist,
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=w.starts_at(today),
    )


def library_snapshot(now: datetime | None = None) -> Snapshot:
    """The demo library as the server's first full snapshot gives it: nothing on loan."""
    now = now or datetime.now(UTC)
    return Snapshot(
        cursor="1",
        full=True,
        generated_at=now,
        patrons=[_patron(p, now, 0) for p in demo.PATRONS],
        items=[_item(it) for it in demo.ITEMS],
        events=[_workshop(now, 0)],
        key_id=DEMO_SECRETS.key_id,
    )


def scene_snapshot(now: datetime | None = None) -> Snapshot:
    """The demo library with the scene's loans, sign-ups and a second, full event."""
    now = now or datetime.now(UTC)
    lent = {code: (card, now + timedelta(days=days)) for code, card, days in SCENE_LOANS}
    items = []
    for it in demo.ITEMS:
        row = _item(it)
        if it.barcode in lent:
            card, due = lent[it.barcode]
            row = row.model_copy(
                update={"status": "on_loan", "on_loan_to": tag(card), "due_at": due}
            )
        items.append(row)
    patrons = [
        _patron(p, now, sum(1 for _c, card, _d in SCENE_LOANS if card == p.card))
        for p in demo.PATRONS
    ]
    workshop = _workshop(now, len(SCENE_REGISTRATIONS))
    full_start = workshop.starts_at + timedelta(days=7)
    full = EventView(
        id=WORKSHOP_ID + 1,
        title=FULL_EVENT_TITLE,
        description="Mendongeng untuk anak usia 4-8 tahun.",
        starts_at=full_start,
        ends_at=full_start + timedelta(hours=1),
        place="Pojok Anak",
        capacity=20,
        registered=20,
        seats_left=0,
        waitlist=True,
    )
    registrations = [
        SnapshotRegistration(
            event_id=WORKSHOP_ID, ticket=ticket, card=tag(card) if card else None, guest_name=guest
        )
        for ticket, card, guest in SCENE_REGISTRATIONS
    ]
    return Snapshot(
        cursor="1",
        full=True,
        generated_at=now,
        patrons=patrons,
        items=items,
        events=[workshop, full],
        registrations=registrations,
        key_id=DEMO_SECRETS.key_id,
    )


def seed_store(data_dir: Path, kiosk: str = "kiosk-1") -> None:
    """Write the scene into the kiosk's store in ``data_dir`` (created if needed), and
    beside it the demo keys its card tags and sealed PIN hash were made with."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = LocalStore(data_dir / "kiosk.sqlite3", kiosk=kiosk, keys=demo_keys(data_dir))
    try:
        store.apply_snapshot(scene_snapshot())
    finally:
        store.close()
