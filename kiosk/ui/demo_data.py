"""A local snapshot that mirrors the server's demo data, for offline UI runs.

UI tests, screenshots and the benchmark run the kiosk with no server: they
seed the kiosk's LocalStore with this snapshot, and every decision is then
made offline by the policy, exactly as in a network outage.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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


def _tag(card: str) -> str:
    return card_tag(_DEMO_CARD_KEY, card)


TITLES = {
    "B000101": "Laskar Pelangi",
    "B000102": "Bumi Manusia",
    "B000103": "Ronggeng Dukuh Paruk",
    "B000104": "Cantik Itu Luka",
    "B000105": "Negeri 5 Menara",
    "B000106": "Perahu Kertas",
    "B000107": "Pulang",
    "B000108": "Sang Pemimpi",
    "B000109": "Kamus Besar Bahasa Indonesia",
    "B000110": "Supernova: Ksatria, Puteri, dan Bintang Jatuh",
}


def demo_snapshot(now: datetime | None = None, *, pin_hash: str | None = None) -> Snapshot:
    """Patrons AGT0001-4, items B000101-110, two events; AGT0001 has two loans (one overdue).

    B000108 is on loan to AGT0003 with a hold for AGT0002; B000109 is not for loan.
    """
    now = now or datetime.now(UTC)
    today = now.date()
    if pin_hash is None:
        from argon2 import PasswordHasher

        pin_hash = PasswordHasher().hash("1234")
    patrons = [
        SnapshotPatron(
            card="AGT0001",
            first_name="Siti",
            status=PatronStatus.ACTIVE,
            expires_on=today + timedelta(days=300),
            loan_count=2,
            loan_limit=5,
        ),
        SnapshotPatron(
            card="AGT0002",
            first_name="Budi",
            status=PatronStatus.ACTIVE,
            expires_on=today + timedelta(days=200),
            loan_count=1,
            loan_limit=5,
            pin_hash=seal_pin_hash(_DEMO_PIN_KEY, pin_hash, "AGT0002"),
            pin_required=True,
        ),
        SnapshotPatron(
            card="AGT0003", first_name="Dewi", status=PatronStatus.BLOCKED, loan_limit=5
        ),
        SnapshotPatron(
            card="AGT0004",
            first_name="Ahmad",
            status=PatronStatus.EXPIRED,
            expires_on=date(2025, 12, 31),
            loan_limit=5,
        ),
    ]
    items = []
    for code, title in TITLES.items():
        status = "not_for_loan" if code == "B000109" else "available"
        items.append(SnapshotItem(barcode=code, title=title, status=status, loan_days=14))
    items[4] = items[4].model_copy(
        update={
            "status": "on_loan",
            "on_loan_to": _tag("AGT0001"),
            "due_at": now - timedelta(days=3),
        }
    )
    items[5] = items[5].model_copy(
        update={
            "status": "on_loan",
            "on_loan_to": _tag("AGT0001"),
            "due_at": now + timedelta(days=9),
        }
    )
    items[6] = items[6].model_copy(
        update={
            "status": "on_loan",
            "on_loan_to": _tag("AGT0002"),
            "due_at": now + timedelta(days=4),
        }
    )
    # On loan to Dewi and on hold for Budi: returning it says "hand this to staff".
    items[7] = items[7].model_copy(
        update={
            "status": "on_loan",
            "on_loan_to": _tag("AGT0003"),
            "due_at": now + timedelta(days=2),
            "hold_for": _tag("AGT0002"),
        }
    )
    start = (now + timedelta(days=5)).replace(hour=2, minute=0, second=0, microsecond=0)
    events = [
        EventView(
            id=1,
            title="Lokakarya Menulis Cerpen",
            description="Belajar menulis cerita pendek bersama penulis lokal.",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            place="Ruang Serbaguna, Lantai 2",
            capacity=30,
            registered=12,
            seats_left=18,
            waitlist=True,
            attended=0,
        ),
        EventView(
            id=2,
            title="Dongeng Anak Sabtu Pagi",
            description="Mendongeng untuk anak usia 4-8 tahun.",
            starts_at=start + timedelta(days=1),
            ends_at=start + timedelta(days=1, hours=1),
            place="Pojok Anak",
            capacity=20,
            registered=20,
            seats_left=0,
            waitlist=True,
        ),
    ]
    registrations = [
        SnapshotRegistration(event_id=1, ticket="T-DEMO-0002", card=_tag("AGT0002")),
        SnapshotRegistration(event_id=1, ticket="T-DEMO-G001", guest_name="Rina"),
    ]
    return Snapshot(
        cursor="demo-1",
        full=True,
        generated_at=now,
        patrons=patrons,
        items=items,
        events=events,
        registrations=registrations,
        key_id=DEMO_SECRETS.key_id,
    )


def seed_store(data_dir: Path, kiosk: str = "kiosk-1") -> None:
    """Write the demo snapshot into the kiosk's store in ``data_dir`` (created if needed),
    and the demo keys its card tags and sealed PIN hash were made with."""
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = KioskKeys(data_dir / SECRETS_FILE)
    keys.save(DEMO_SECRETS)
    store = LocalStore(data_dir / "kiosk.sqlite3", kiosk=kiosk, keys=keys)
    try:
        store.apply_snapshot(demo_snapshot())
    finally:
        store.close()
