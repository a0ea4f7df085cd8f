"""Checkout and return driven through kiosk/flows with no Kivy and no server.

The kiosk is offline (no client), so every decision comes from the offline
policy on a real SQLite store, and every outcome must be in the outbox before
the flow reports it.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from core.wire import Kind, Reason, Status
from kiosk.config import OfflinePolicy
from kiosk.flows.base import Services, Severity
from kiosk.flows.checkin import ReturnFlow
from kiosk.flows.checkout import CheckoutFlow, CheckoutStep
from sync.decider import Decider
from sync.store import LocalStore, OutboxState
from tests.demo_library import demo_pin_hash, library_snapshot
from tests.helpers import kiosk_keys, seal, tag


@pytest.fixture
def services(tmp_path):
    store = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
    store.apply_snapshot(library_snapshot())
    decider = Decider(store, None, None, OfflinePolicy(max_items_per_session=2))
    yield Services(decider=decider, store=store)
    store.close()


def test_flows_do_not_import_kivy():
    assert not any(m == "kivy" or m.startswith("kivy.") for m in sys.modules)


def test_checkout_then_return(services):
    flow = CheckoutFlow(services)
    assert flow.step == CheckoutStep.CARD
    flow.scan("AGT0001")
    assert flow.step == CheckoutStep.ITEMS
    assert flow.message.params["name"] == "Siti"

    msg = flow.scan("B000101")
    assert msg.severity == Severity.SUCCESS
    line = flow.lines[-1]
    assert line.ok and line.title == "Laskar Pelangi" and line.offline
    assert line.due_at is not None and line.due_at > datetime.now(UTC)

    row = services.store.row(line.tx_id)
    assert row is not None and row.state == OutboxState.PENDING
    assert row.tx.kind == Kind.CHECKOUT and row.tx.card == "AGT0001" and row.tx.offline
    assert services.store.item("B000101").on_loan_to == tag("AGT0001")
    assert services.store.patron("AGT0001").loan_count == 1

    flow.finish()
    assert flow.step == CheckoutStep.SLIP
    flow.choose_slip(False)
    assert not flow.active

    ret = ReturnFlow(services)
    msg = ret.scan("B000101")
    assert msg.severity == Severity.SUCCESS
    assert ret.lines[-1].title == "Laskar Pelangi"
    assert services.store.item("B000101").status == "available"
    assert services.store.patron("AGT0001").loan_count == 0
    assert [r.tx.kind for r in services.store.rows()] == [Kind.CHECKOUT, Kind.CHECKIN]
    seqs = [r.tx.seq for r in services.store.rows()]
    assert seqs == sorted(seqs) and len(set(seqs)) == 2


def test_refusals_have_reasons(services):
    flow = CheckoutFlow(services)
    assert flow.scan("B000101").severity == Severity.ERROR  # an item where a card belongs
    assert flow.step == CheckoutStep.CARD
    flow.scan("AGT0003")
    assert flow.step == CheckoutStep.CARD and flow.message.ask_staff  # blocked
    flow.scan("AGT0004")
    assert "habis" in flow.message.msgid  # expired
    flow.scan("AGT0001")
    flow.scan("B000109")
    assert not flow.lines[-1].ok
    assert "rujukan" in flow.lines[-1].message.msgid
    flow.scan("B000108")  # on hold for AGT0002
    assert flow.lines[-1].message.ask_staff
    flow.scan("ZZZ")
    assert flow.message.severity == Severity.ERROR
    refused = [r for r in services.store.rows() if r.local_result.status == Status.REFUSED]
    assert len(refused) == 2 and all(r.state == OutboxState.SENT for r in refused)


def test_offline_session_limit(services):
    flow = CheckoutFlow(services)
    flow.scan("AGT0001")
    for code in ("B000101", "B000102", "B000103"):
        flow.scan(code)
    assert [line.ok for line in flow.lines] == [True, True, False]
    row = services.store.row(flow.lines[-1].tx_id)
    assert row.local_result.reason == Reason.OFFLINE_SESSION_LIMIT


def test_rescan_offers_renewal_and_return_flags_hold(services):
    flow = CheckoutFlow(services)
    flow.scan("AGT0001")
    flow.scan("B000102")
    other = CheckoutFlow(services)
    other.scan("AGT0001")
    other.scan("B000102")
    assert other.offer_renewal == "B000102"
    other.renew()
    assert not other.lines[-1].ok  # renewals need the server
    ret = ReturnFlow(services)
    # Not on loan in this kiosk's snapshot, but the book is in hand (another
    # kiosk may have lent it offline): taken back, and flagged for staff
    # because it is on hold for someone.
    ret.scan("B000108")
    assert ret.lines[-1].ok and ret.lines[-1].hold_for_other
    assert "petugas" in ret.lines[-1].message.msgid


def test_pin_three_wrong_end_the_session(tmp_path):
    store = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
    snap = library_snapshot()  # Budi (AGT0002) has a PIN, its hash sealed for this kiosk
    store.apply_snapshot(snap)
    services = Services(decider=Decider(store, None, None, OfflinePolicy()), store=store)

    flow = CheckoutFlow(services)
    flow.scan("agt0002")  # a wedge typing lower case is still the same card
    assert flow.step == CheckoutStep.PIN
    assert flow.enter_pin("1111").msgid == "PIN salah. Coba lagi."
    assert flow.enter_pin("1234").severity == Severity.SUCCESS
    assert flow.step == CheckoutStep.ITEMS

    flow = CheckoutFlow(services)
    flow.scan("AGT0002")
    for _ in range(3):
        msg = flow.enter_pin("0000")
    assert msg.ask_staff and not flow.active

    no_check = Services(
        decider=Decider(store, None, None, OfflinePolicy(check_pin=True)), store=store
    )
    without_budi = [p for p in snap.patrons if p.card != "AGT0002"]
    # Budi gone from the snapshot: nothing to check a PIN against
    store.apply_snapshot(snap.model_copy(update={"patrons": without_budi}))
    flow = CheckoutFlow(no_check)
    flow.scan("AGT0002")
    assert flow.step == CheckoutStep.CARD and flow.message.ask_staff
    store.close()


def _budi_store(tmp_path, pin_hash):
    """The demo library with Budi's (AGT0002) PIN hash as given: None is none shipped."""
    store = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
    snap = library_snapshot()
    patrons = [
        p.model_copy(update={"pin_hash": pin_hash, "pin_required": True})
        if p.card == "AGT0002"
        else p
        for p in snap.patrons
    ]
    store.apply_snapshot(snap.model_copy(update={"patrons": patrons}))
    return store


def test_offline_pin_card_without_hash_is_sent_to_staff_not_let_through(tmp_path):
    """Issue 18: offline, a PIN card with no hash went straight to the item step."""
    store = _budi_store(tmp_path, None)  # the server's default: no hashes shipped
    services = Services(
        decider=Decider(store, None, None, OfflinePolicy(check_pin=True)), store=store
    )
    flow = CheckoutFlow(services)
    msg = flow.scan("AGT0002")
    assert flow.step == CheckoutStep.CARD and flow.patron is None
    assert msg.msgid.startswith("Kartu ini memakai PIN. Saat jaringan terputus")
    assert flow.enter_pin("1234") is flow.message and flow.step == CheckoutStep.CARD
    assert flow.scan("B000101").severity == Severity.ERROR  # no item step
    assert store.queue_depth() == 0
    store.close()


def test_wrong_pins_counted_across_rescans_of_the_card(tmp_path):
    """Issue 18: scanning the card again started the three tries over."""
    store = _budi_store(tmp_path, seal(demo_pin_hash("1234"), "AGT0002"))
    services = Services(decider=Decider(store, None, None, OfflinePolicy()), store=store)
    for _ in range(2):  # one wrong PIN, then the card scanned again
        flow = CheckoutFlow(services)
        flow.scan("AGT0002")
        assert flow.step == CheckoutStep.PIN
        assert flow.enter_pin("0000").msgid == "PIN salah. Coba lagi."
    flow = CheckoutFlow(services)
    flow.scan("AGT0002")
    msg = flow.enter_pin("0000")  # the third wrong PIN in all locks the card here
    assert msg.ask_staff and not flow.active
    flow = CheckoutFlow(services)
    msg = flow.scan("AGT0002")
    assert flow.step == CheckoutStep.CARD and "dikunci" in msg.msgid
    assert flow.enter_pin("1234") is flow.message and flow.patron is None
    store.close()


def test_kiosk_pin_lock_ends_after_its_time(tmp_path):
    from datetime import UTC, datetime, timedelta

    from sync.decider import PinGuard

    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    store = _budi_store(tmp_path, seal(demo_pin_hash("1234"), "AGT0002"))
    guard = PinGuard(max_tries=3, lock_s=900, clock=lambda: now[0])
    decider = Decider(store, None, None, OfflinePolicy(), pins=guard)
    for _ in range(3):
        last = decider.check_pin("AGT0002", "0000")
    assert last.reason == Reason.PIN_LOCKED
    assert decider.check_pin("AGT0002", "1234").ok is False  # locked: not even checked
    now[0] += timedelta(seconds=899)
    assert decider.check_pin("AGT0002", "1234").reason == Reason.PIN_LOCKED
    now[0] += timedelta(seconds=2)
    assert decider.check_pin("AGT0002", "1234").ok is True
    store.close()
