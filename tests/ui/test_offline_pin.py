"""Issue 18 in the real window: an offline PIN card is let through only with a PIN it can check.

The app runs under Xvfb with no server configured, so every decision is the
offline policy's, from a snapshot this test writes: the demo scene with Budi
(AGT0002, PIN 1234) marked as needing a PIN, his PIN hash either not shipped
(the server's default) or sealed for this kiosk with the demo keys. The flow
level is covered in ``tests/flows/test_checkout_return.py``; this proves the
screen shows the refusal and that no checkout can follow it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.wire import Kind, Status
from sync.store import LocalStore, OutboxRow
from tests.demo_library import demo_keys, demo_pin_hash, scene_snapshot, seal
from tests.ui.harness import run_scenario

pytestmark = pytest.mark.xvfb

KIOSK = "kiosk-ui-test"  # the kiosk name tests.ui.harness writes into its config
CARD = "AGT0002"  # Budi, PIN 1234 in the demo library
BOOK = "B000101"  # Laskar Pelangi, on the shelf in the demo scene

WORDS = {
    "id": {
        "refusal": "Kartu ini memakai PIN. Saat jaringan terputus PIN tidak dapat diperiksa;"
        " silakan ke meja petugas.",
        "card_first": "Ini kode buku. Pindai kartu anggota Anda terlebih dahulu.",
        "enter_pin": "Masukkan PIN Anda.",
        "welcome": "Selamat datang, Budi",
        "wrong_pin": "PIN salah. Coba lagi.",
        "offline": "Luring (Offline)",
    },
    "en": {
        "refusal": "This card uses a PIN. While the network is down the PIN cannot be"
        " checked; please go to the staff desk.",
        "card_first": "That is a book barcode. Please scan your library card first.",
        "enter_pin": "Enter your PIN.",
        "welcome": "Welcome, Budi",
        "wrong_pin": "Wrong PIN. Please try again.",
        "offline": "Offline (Luring)",
    },
}


def _store(tmp: Path) -> LocalStore:
    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    return LocalStore(data / "kiosk.sqlite3", kiosk=KIOSK, keys=demo_keys(data))


def _seed_budi(tmp: Path, pin_hash: str | None) -> None:
    """The demo scene in the kiosk's store, Budi needing a PIN with ``pin_hash`` as
    shipped (None: no hash, as the server sends unless ``offline_pin_hashes`` is on)."""
    snap = scene_snapshot()
    patrons = [
        p.model_copy(update={"pin_hash": pin_hash, "pin_required": True}) if p.card == CARD else p
        for p in snap.patrons
    ]
    store = _store(tmp)
    try:
        store.apply_snapshot(snap.model_copy(update={"patrons": patrons}))
    finally:
        store.close()


def _checkouts_of(tmp: Path, card: str) -> list[OutboxRow]:
    """Every checkout in the kiosk's outbox for ``card``, in any state."""
    store = _store(tmp)
    try:
        return [r for r in store.rows() if r.tx.kind == Kind.CHECKOUT and r.tx.card == card]
    finally:
        store.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_offline_pin_card_without_hash_is_refused_and_cannot_borrow(
    tmp_path: Path, lang: str
) -> None:
    w = WORDS[lang]
    _seed_budi(tmp_path, None)
    steps: list[dict] = [
        {"tap": "tile_borrow"},
        {"expect_screen": "borrow"},
        {"expect": w["offline"]},  # no server configured: the offline policy decides
        {"scan": CARD},
        {"expect": w["refusal"]},
        {"expect_not": w["enter_pin"]},  # no PIN pad: nothing here could check the PIN
        {"expect_not": w["welcome"]},
        {"texts": "refused"},
        {"shot": f"borrow-pin-offline-{lang}"},
        {"scan": BOOK},  # a book after the refusal: still asked for a card, not lent
        {"expect": w["card_first"]},
        {"expect_not": "Laskar Pelangi"},
        {"expect_not": w["welcome"]},
        {"expect_screen": "borrow"},
    ]
    res = run_scenario(tmp_path, steps, lang=lang, seed=False)
    assert res["errors"] == [], "\n".join(res["errors"])
    assert any(w["refusal"] in t for t in res["texts"]["refused"])
    assert _checkouts_of(tmp_path, CARD) == []
    store = _store(tmp_path)
    try:
        book = store.item(BOOK)
        assert book is not None and book.status == "available"
        assert BOOK not in [it.barcode for it in store.loans_of(CARD)]
    finally:
        store.close()


def test_offline_pin_card_with_sealed_hash_asks_pin_and_lends_on_the_right_one(
    tmp_path: Path,
) -> None:
    w = WORDS["id"]
    _seed_budi(tmp_path, seal(demo_pin_hash("1234"), CARD))
    steps: list[dict] = [
        {"tap": "tile_borrow"},
        {"expect_screen": "borrow"},
        {"expect": w["offline"]},  # no server configured: the offline policy decides
        {"scan": CARD},
        {"expect": w["enter_pin"]},
        {"expect_not": w["refusal"]},
        {"pin": "0000"},
        {"expect": w["wrong_pin"]},
        {"expect_not": w["welcome"]},
        {"pin": "1234"},
        {"expect": w["welcome"]},
        {"scan": BOOK},
        {"expect": "Laskar Pelangi"},
    ]
    res = run_scenario(tmp_path, steps, seed=False)
    assert res["errors"] == [], "\n".join(res["errors"])
    rows = _checkouts_of(tmp_path, CARD)
    assert [(r.tx.item, r.tx.offline) for r in rows] == [(BOOK, True)]
    assert rows[0].local_result is not None and rows[0].local_result.status == Status.ACCEPTED
