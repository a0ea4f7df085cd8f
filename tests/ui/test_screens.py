"""Every screen of the real app under Xvfb, driven by touches and wedge scans, in both languages.

Each test starts the app in its own process (Kivy has one window per process),
seeded with the demo snapshot and no server: every decision is offline.
Screenshots land in the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core import demo
from core.wire import Reason, Status
from sync.store import LocalStore
from tests.demo_library import SCENE_REGISTRATIONS
from tests.flows.test_staff import told_then_heard
from tests.helpers import kiosk_keys
from tests.ui.harness import run_scenario

pytestmark = pytest.mark.xvfb

#: The workshop's free seats in the demo scene the app is seeded with.
SEATS_LEFT = demo.WORKSHOP.capacity - len(SCENE_REGISTRATIONS)

WORDS = {
    "id": {
        "borrow": "Pinjam",
        "welcome_budi": "Selamat datang, Budi",
        "due": "Jatuh tempo",
        "reference": "tidak untuk dipinjam",
        "renew": "Ingin memperpanjang?",
        "slip_q": "Cetak struk?",
        "thanks": "Terima kasih",
        "hold": "serahkan kepada petugas",
        "returned": "Berhasil dikembalikan",
        "overdue": "TERLAMBAT",
        "offline_note": "mungkin belum lengkap",
        "seats": f"Sisa kursi: {SEATS_LEFT} dari {demo.WORKSHOP.capacity}",
        "guest": "Daftar sebagai tamu",
        "registered": "Terdaftar di",
        "again": "Sudah hadir pukul",
        "count": f"Hadir: 1 dari {demo.WORKSHOP.capacity}",
        "staff": "Antrean belum terkirim",
        "enter_pin": "Masukkan PIN Anda.",
        "blocked": "diblokir",
        "ask_staff": "Silakan hubungi petugas",
    },
    "en": {
        "borrow": "Borrow",
        "welcome_budi": "Welcome, Budi",
        "due": "due date",
        "reference": "for use in the library only",
        "renew": "Renew it?",
        "slip_q": "Print a slip?",
        "thanks": "Thank you",
        "hold": "hand it to staff",
        "returned": "Returned",
        "overdue": "OVERDUE",
        "offline_note": "may be incomplete",
        "seats": f"Seats left: {SEATS_LEFT} of {demo.WORKSHOP.capacity}",
        "guest": "Sign up as a guest",
        "registered": "Registered for",
        "again": "Already signed in at",
        "count": f"Signed in: 1 of {demo.WORKSHOP.capacity}",
        "staff": "Unsent queue",
        "enter_pin": "Enter your PIN.",
        "blocked": "blocked",
        "ask_staff": "Please ask a member of staff",
    },
}


def _ok(res: dict) -> None:
    assert res["errors"] == [], "\n".join(res["errors"])


def _min_touch_mm(res: dict) -> float:
    sizes = [v for k, v in res["metrics"].items() if k.startswith("min_touch_mm_")]
    assert sizes, "no touch target was measured"
    return min(sizes)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_borrow_with_pin_refusal_and_renewal_offer(tmp_path: Path, lang: str) -> None:
    w = WORDS[lang]
    steps: list[dict] = [
        {"expect": w["borrow"]},
        {"touch_sizes": True},
        {"shot": f"home-{lang}"},
        {"scan": "AGT0003"},  # blocked: refused in plain words, ask staff
        {"expect": w["blocked"]},
        {"expect": w["ask_staff"]},
        {"shot": f"borrow-refused-{lang}"},
        {"scan": "AGT0002"},
        {"expect": w["enter_pin"]},
        {"touch_sizes": True},
        {"shot": f"borrow-pin-{lang}"},
        {"pin": "1234"},
        {"expect": w["welcome_budi"]},
        {"scan": "B000101"},
        {"expect": "Laskar Pelangi"},
        {"scan": "B000109"},
        {"expect": w["reference"]},
        {"scan": "B000107"},  # already on loan to Budi: renewal is offered
        {"expect": w["renew"]},
        {"touch_sizes": True},
        {"shot": f"borrow-{lang}"},
        {"tap": "done"},
        {"expect": w["slip_q"]},
        {"shot": f"borrow-slip-{lang}"},
        {"tap": "slip_yes"},
        {"expect": w["thanks"]},
        {"shot": f"borrow-thanks-{lang}"},
        {"texts": "thanks"},
    ]
    res = run_scenario(tmp_path, steps, lang=lang)
    _ok(res)
    assert _min_touch_mm(res) >= 15.0
    assert any(w["due"] in t for t in res["texts"]["thanks"])
    for name in ("home", "borrow-pin", "borrow", "borrow-thanks"):
        assert Path(res["shots"][f"{name}-{lang}"]).stat().st_size > 10_000


@pytest.mark.parametrize("lang", ["id", "en"])
def test_return_flags_item_on_hold(tmp_path: Path, lang: str) -> None:
    w = WORDS[lang]
    steps: list[dict] = [
        {"tap": "tile_return"},
        {"expect_screen": "return"},
        {"scan": "B000106"},
        {"expect": "Perahu Kertas"},
        {"expect": w["returned"]},
        {"scan": "B000108"},
        {"expect": w["hold"]},
        {"touch_sizes": True},
        {"shot": f"return-{lang}"},
        {"tap": "done_slip"},
        {"expect": w["thanks"]},
        {"shot": f"return-thanks-{lang}"},
    ]
    res = run_scenario(tmp_path, steps, lang=lang)
    _ok(res)
    assert _min_touch_mm(res) >= 15.0


@pytest.mark.parametrize("lang", ["id", "en"])
def test_account_marks_overdue_in_words(tmp_path: Path, lang: str) -> None:
    w = WORDS[lang]
    steps = [
        {"tap": "tile_account"},
        {"expect_screen": "account"},
        {"scan": "AGT0001"},
        {"expect": "Negeri 5 Menara"},
        {"expect": w["overdue"]},
        {"expect": w["offline_note"]},
        {"shot": f"account-{lang}"},
    ]
    _ok(run_scenario(tmp_path, steps, lang=lang))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_events_card_and_guest_sign_up(tmp_path: Path, lang: str) -> None:
    w = WORDS[lang]
    steps: list[dict] = [
        {"tap": "tile_events"},
        {"expect": demo.WORKSHOP.title},
        {"expect": w["seats"]},
        {"shot": f"events-{lang}"},
        {"tap_text": demo.WORKSHOP.title},
        {"expect": w["guest"]},
        {"shot": f"events-detail-{lang}"},
        {"tap": "as_guest"},
        *[{"call": "events.key", "args": [k]} for k in "RINA"],
        {"call": "events.key", "args": ["next"]},
        *[{"call": "events.key", "args": [k]} for k in "081234567890"],
        {"touch_sizes": True},
        {"shot": f"events-guest-{lang}"},
        {"tap": "submit_guest"},
        {"expect": w["registered"]},
        {"expect_not": "081234567890"},
        {"shot": f"events-ticket-{lang}"},
    ]
    res = run_scenario(tmp_path, steps, lang=lang)
    _ok(res)
    assert _min_touch_mm(res) >= 15.0


@pytest.mark.parametrize("lang", ["id", "en"])
def test_staff_mode_and_door_sign_in(tmp_path: Path, lang: str) -> None:
    w = WORDS[lang]
    steps: list[dict] = [
        {"scan": "STF0001"},
        {"expect_screen": "staff"},
        {"pin_digits": "99"},
        {"expect": "●●"},  # a mark per digit typed, as on the patron's pad
        {"pin_digits": "99"},
        {"expect": "●●●●"},
        {"pin": ""},  # OK: 9999
        {"expect": w["staff"]},
        {"touch_sizes": True},
        {"shot": f"staff-{lang}"},
        {"tap": "door_mode"},
        {"expect": demo.WORKSHOP.title},
        {"tap_text": demo.WORKSHOP.title},  # the event's button in the list
        {"expect_screen": "door"},
        {"scan": "AGT0002"},
        {"expect": w["count"]},
        {"scan": "AGT0002"},
        {"expect": w["again"]},
        {"expect": w["count"]},
        {"shot": f"door-{lang}"},
        {"tap": "walk_in"},
        {"touch_sizes": True},
        {"shot": f"door-walkin-{lang}"},
    ]
    res = run_scenario(tmp_path, steps, lang=lang)
    _ok(res)
    assert _min_touch_mm(res) >= 15.0


def test_language_switch_at_run_time(tmp_path: Path) -> None:
    steps = [
        {"expect": "Kembalikan"},
        {"tap": "lang_en"},
        {"expect": "Return"},
        {"expect": "Scan your library card to borrow right away"},
        {"tap": "tile_borrow"},
        {"expect": "Scan your library card."},
        {"tap": "lang_id"},
        {"expect": "Pindai kartu anggota Anda."},
    ]
    _ok(run_scenario(tmp_path, steps))


def test_hidden_long_press_opens_staff_pin_and_out_of_service(tmp_path: Path) -> None:
    steps: list[dict] = [
        {"hold": "staff_corner", "seconds": 3.5},
        {"expect_screen": "staff"},
        {"expect": "Masukkan PIN petugas."},
        {"pin": "1111"},
        {"expect": "PIN salah"},
        {"pin": "9999"},
        {"expect": "Antrean belum terkirim"},
        {"tap": "oos"},
        {"expect_screen": "oos"},
        {"expect": "Kios sedang tidak beroperasi."},
        {"scan": "AGT0001"},  # patrons cannot use it now
        {"expect_screen": "oos"},
        {"scan": "STF0001"},
        {"expect_screen": "staff"},
        {"pin": "9999"},
        {"tap": "close"},
        {"expect_screen": "home"},
    ]
    res = run_scenario(tmp_path, steps)
    assert res["errors"] == [], res["errors"]


def test_unreadable_and_wrong_codes_get_plain_words(tmp_path: Path) -> None:
    steps = [
        {"scan": "XQ-77#"},
        {"expect": "Kode tidak dikenali."},
        {"tap": "tile_borrow"},
        {"scan": "B000101"},  # a book where a card is expected
        {"expect": "Ini kode buku. Pindai kartu anggota Anda terlebih dahulu."},
        {"call": "app.go_home"},
        {"tap": "tile_return"},
        {"scan": "AGT0001"},  # a card where books are expected
        {"expect": "Pengembalian tidak memerlukan kartu."},
        {"scan": "ZZZ999"},
        {"expect": "Kode tidak dikenali sebagai kode buku."},
        {"call": "app.go_home"},
        {"tap": "tile_account"},
        {"scan": "AGT9999"},  # not in the snapshot, offline
        {"expect": "Silakan hubungi petugas"},
        {"expect_screen": "account"},
    ]
    res = run_scenario(tmp_path, steps)
    assert res["errors"] == [], res["errors"]


FOLLOW_UP = {
    "id": {
        "told": "Kios menyetujui, server tidak. Hubungi anggota ini.",
        "handled": "Sudah ditangani",
        "done": "Ditandai sudah ditangani.",
        "none": "Tidak ada yang perlu ditindaklanjuti.",
        "kind": "Peminjaman",
        "back": "Kembali ke mode petugas",
        "failed": "Tidak dapat dikirim ke server: 422: unknown field",
        "resend": "Kirim ulang",
        "queued": "Dikirim ulang pada sinkronisasi berikutnya.",
    },
    "en": {
        "told": "The kiosk accepted it, the server did not. Contact this member.",
        "handled": "Handled",
        "done": "Marked as handled.",
        "none": "Nothing to follow up.",
        "kind": "Checkout",
        "back": "Back to staff mode",
        "failed": "Could not be sent to the server: 422: unknown field",
        "resend": "Send again",
        "queued": "Queued again: it goes with the next sync.",
    },
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_staff_follow_up_list_marks_a_difference_handled(tmp_path: Path, lang: str) -> None:
    """A checkout the kiosk accepted offline and the server refused: staff find it in
    the follow-up list, settle it with the patron and mark it handled. A transaction the
    server rejected as a request is queued again from the same list."""
    w = FOLLOW_UP[lang]
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="kiosk-ui-test", keys=kiosk_keys()
    )
    heard = {"status": Status.REFUSED, "reason": Reason.ITEM_ON_LOAN_TO_OTHER}
    tx_id = told_then_heard(store, "B000103", {"status": Status.ACCEPTED}, heard)
    failed = told_then_heard(
        store, "B000104", {"status": Status.ACCEPTED}, None, error="422: unknown field"
    )
    store.close()
    steps: list[dict] = [
        {"scan": "STF0001"},
        {"pin": "9999"},
        {"expect": "0 / 1"},  # conflicts / open differences
        {"tap": "follow_ups"},
        {"expect": w["told"]},
        {"expect": w["kind"]},
        {"expect": "B000103"},
        {"expect": w["back"]},
        {"touch_sizes": True},
        {"shot": f"staff-follow-up-{lang}"},
        {"expect": w["failed"]},
        {"tap_text": w["handled"]},
        {"expect": w["done"]},
        {"tap_text": w["resend"]},
        {"expect": w["queued"]},
        {"expect": w["none"]},
        {"tap": "follow_ups_back"},
        {"expect": "0 / 0"},
    ]
    res = run_scenario(tmp_path, steps, lang=lang)
    _ok(res)
    assert _min_touch_mm(res) >= 15.0
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="kiosk-ui-test", keys=kiosk_keys()
    )
    row = store.row(tx_id)
    assert row is not None and row.handled_at is not None
    assert store.stats().mismatches == 0
    assert [t.id for t in store.pending(10)] == [failed]  # no server here: still queued
    assert store.stats().failed == 0
    store.close()


def test_staff_follow_up_list_says_how_many_more_there_are(tmp_path: Path) -> None:
    """More rows to follow up than the list shows: the screen says how many in all."""
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="kiosk-ui-test", keys=kiosk_keys()
    )
    for i in range(103):
        told_then_heard(store, f"B9{i:05d}", {"status": Status.ACCEPTED}, None, error="422")
    store.close()
    steps = [
        {"scan": "STF0001"},
        {"pin": "9999"},
        {"tap": "follow_ups"},
        {"expect": "B900102"},  # the newest first
        {"expect": "Menampilkan 100 terbaru dari 103."},
    ]
    _ok(run_scenario(tmp_path, steps))
