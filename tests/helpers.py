"""Shared test data: a demo-like snapshot for kiosk-side tests with no server."""

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
    TransactionResult,
)
from devices.printer.base import Printer
from devices.sim.fake_printer import FakeEscposPrinter
from sync.secrets import SECRETS_FILE, KioskKeys
from sync.store import LocalStore, OutboxRow

#: Keys for kiosk-side tests with no server (a server issues real ones).
_CARD_KEY = hashlib.sha256(b"test card key").digest()
_PIN_KEY = hashlib.sha256(b"test pin key").digest()
TEST_SECRETS = KioskSecrets(
    card_key=base64.urlsafe_b64encode(_CARD_KEY).decode(),
    pin_key=base64.urlsafe_b64encode(_PIN_KEY).decode(),
    key_id=key_id(_CARD_KEY),
)


def kiosk_keys(data_dir: Path | None = None) -> KioskKeys:
    """Kiosk keys matching ``tag`` and ``seal``; saved in ``data_dir`` when given, where
    a kiosk process started on that folder finds them."""
    keys = KioskKeys(data_dir / SECRETS_FILE if data_dir is not None else None)
    keys.save(TEST_SECRETS)
    return keys


def tag(card: str) -> str:
    """The snapshot's card tag for ``card`` under the test keys."""
    return card_tag(_CARD_KEY, card)


def seal(pin_hash: str, card: str) -> str:
    """A PIN hash sealed for the test kiosk, as the server ships it."""
    return seal_pin_hash(_PIN_KEY, pin_hash, card)


TITLES = {
    "B000101": "Laskar Pelangi",
    "B000102": "Bumi Manusia",
    "B000103": "Ronggeng Dukuh Paruk",
    "B000104": "Cantik Itu Luka",
    "B000105": "Negeri 5 Menara",
    "B000108": "Laut Bercerita",
    "B000109": "Kamus Besar Bahasa Indonesia",
}


def demo_snapshot(now: datetime | None = None) -> Snapshot:
    now = now or datetime.now(UTC)
    later = date.today() + timedelta(days=700)
    items = [
        SnapshotItem(barcode=b, title=t, status="available", loan_days=14)
        for b, t in TITLES.items()
    ]
    items = [
        i.model_copy(update={"hold_for": tag("AGT0002")}) if i.barcode == "B000108" else i
        for i in items
    ]
    items = [
        i.model_copy(update={"status": "not_for_loan"}) if i.barcode == "B000109" else i
        for i in items
    ]
    return Snapshot(
        cursor="1",
        full=True,
        generated_at=now,
        patrons=[
            SnapshotPatron(
                card="AGT0001",
                first_name="Siti",
                status=PatronStatus.ACTIVE,
                expires_on=later,
                loan_count=0,
                loan_limit=5,
            ),
            SnapshotPatron(
                card="AGT0003",
                first_name="Dewi",
                status=PatronStatus.BLOCKED,
                expires_on=later,
                loan_count=0,
                loan_limit=5,
            ),
            SnapshotPatron(
                card="AGT0004",
                first_name="Ahmad",
                status=PatronStatus.ACTIVE,
                expires_on=date.today() - timedelta(days=1),
                loan_count=0,
                loan_limit=5,
            ),
        ],
        items=items,
        events=[
            EventView(
                id=1,
                title="Lokakarya Menulis Cerpen",
                starts_at=now + timedelta(days=3),
                ends_at=now + timedelta(days=3, hours=3),
                place="Ruang Serbaguna Lt. 2",
                capacity=20,
                seats_left=20,
                waitlist=True,
            )
        ],
    )


def fake_of(printer: Printer) -> FakeEscposPrinter:
    """The fake ESC/POS printer behind a ``fake-printer:`` printer (``open_fake_printer``
    hangs it on the printer as ``printer.fake``)."""
    fake = getattr(printer, "fake", None)
    assert isinstance(fake, FakeEscposPrinter), f"{printer!r} carries no fake printer"
    return fake


def outbox_row(store: LocalStore, tx_id: str) -> OutboxRow:
    """``store.row(tx_id)``; fails the test if the outbox does not hold that transaction."""
    row = store.row(tx_id)
    assert row is not None, f"no outbox row for {tx_id}"
    return row


def server_result(row: OutboxRow) -> TransactionResult:
    """The server's answer stored on ``row``; fails the test if none was stored."""
    assert row.server_result is not None, f"no server result stored for {row.tx.id}"
    return row.server_result
