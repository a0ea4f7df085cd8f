"""The offline policy from config: every refusal carries its reason."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from core.wire import Kind, Reason, Status
from kiosk.config import OfflinePolicy
from sync.decider import Decider
from sync.policy import decide_offline
from sync.store import LocalStore, OutboxState
from tests.demo_library import library_snapshot
from tests.helpers import kiosk_keys, seal


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
    s.apply_snapshot(library_snapshot())
    yield s
    s.close()


def _checkout(store, card, item, policy=None, session_items=0):
    tx = store.new_transaction(Kind.CHECKOUT, card=card, item=item, offline=True)
    return decide_offline(tx, store, policy or OfflinePolicy(), session_items=session_items)


@pytest.mark.parametrize(
    ("card", "item", "reason"),
    [
        ("AGT0003", "B000101", Reason.PATRON_BLOCKED),
        ("AGT0004", "B000101", Reason.CARD_EXPIRED),
        ("AGT9999", "B000101", Reason.NOT_IN_SNAPSHOT),
        ("AGT0001", "B999999", Reason.UNKNOWN_ITEM),
        ("AGT0001", "B000108", Reason.ITEM_ON_HOLD_FOR_OTHER),
        ("AGT0001", "B000109", Reason.ITEM_NOT_FOR_LOAN),
    ],
)
def test_offline_refusals_say_why(store, card, item, reason):
    res = _checkout(store, card, item)
    assert res.status == Status.REFUSED and res.reason == reason


def test_session_limit_and_loan_period_come_from_config(store):
    policy = OfflinePolicy(max_items_per_session=2, loan_days=3)
    assert _checkout(store, "AGT0001", "B000101", policy, 1).status == Status.ACCEPTED
    res = _checkout(store, "AGT0001", "B000102", policy, 2)
    assert res.reason == Reason.OFFLINE_SESSION_LIMIT
    ok = _checkout(store, "AGT0001", "B000103", policy, 0)
    assert ok.status == Status.ACCEPTED and ok.due_at is not None
    tx = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item="B000104", offline=True)
    assert (decide_offline(tx, store, policy).due_at - tx.at).days in (2, 3)


def test_switches_turn_kinds_off(store):
    off = OfflinePolicy(allow_checkout=False, allow_returns=False, allow_door_signin=False)
    assert _checkout(store, "AGT0001", "B000101", off).reason == Reason.OFFLINE_NOT_ALLOWED
    tx = store.new_transaction(Kind.CHECKIN, item="B000101", offline=True)
    assert decide_offline(tx, store, off).reason == Reason.OFFLINE_NOT_ALLOWED
    tx = store.new_transaction(Kind.DOOR_SIGNIN, card="AGT0001", event_id=1, offline=True)
    assert decide_offline(tx, store, off).reason == Reason.OFFLINE_NOT_ALLOWED


def test_door_signin_offline_once_then_already_signed_in(store):
    decider = Decider(store, None, None, OfflinePolicy())
    first = decider.submit(Kind.DOOR_SIGNIN, card="AGT0001", event_id=1)
    assert first.result.status == Status.ACCEPTED and first.offline
    again = decider.submit(Kind.DOOR_SIGNIN, card="AGT0001", event_id=1)
    assert again.result.reason == Reason.ALREADY_SIGNED_IN
    assert store.row(first.tx.id).state == OutboxState.PENDING
    assert store.attendance(1) == 1


def test_offline_checkout_carries_the_slip_due_date(store):
    decider = Decider(store, None, None, OfflinePolicy(loan_days=5))
    d = decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000101")
    assert d.tx.offline and d.tx.due_at == d.result.due_at
    assert store.pending(5)[0].due_at == d.result.due_at


def test_pin_checked_offline_against_the_sealed_snapshot_hash(store):
    snap = library_snapshot()
    sealed = seal(PasswordHasher().hash("1234"), "AGT0001")
    p = snap.patrons[0].model_copy(update={"pin_hash": sealed, "pin_required": True})
    store.apply_snapshot(snap.model_copy(update={"patrons": [p], "full": False}))
    decider = Decider(store, None, None, OfflinePolicy(check_pin=True))
    assert decider.check_pin("AGT0001", "1234").ok is True
    wrong = decider.check_pin("AGT0001", "9999")
    assert wrong.ok is False and wrong.reason == Reason.PIN_WRONG
    # check_pin = false: PINs are not checked offline, so a PIN card is never let through
    lax = Decider(store, None, None, OfflinePolicy(check_pin=False))
    refused = lax.check_pin("AGT0001", "1234")
    assert refused.ok is None and refused.reason == Reason.PIN_OFFLINE


def test_pin_card_without_a_shipped_hash_is_refused_offline(store):
    """Issue 18: the server ships no hashes by default; "no hash" is not "no PIN"."""
    snap = library_snapshot()
    p = snap.patrons[0].model_copy(update={"pin_required": True})
    store.apply_snapshot(snap.model_copy(update={"patrons": [p], "full": False}))
    decider = Decider(store, None, None, OfflinePolicy(check_pin=True))
    for pin in ("1234", "0000"):
        verdict = decider.check_pin("AGT0001", pin)
        assert verdict.ok is None and verdict.reason == Reason.PIN_OFFLINE
    found = decider.lookup_patron("AGT0001").patron
    assert found is not None and found.pin_required


def test_a_hash_sealed_for_another_kiosk_or_card_does_not_open(store):
    from core.patronkeys import seal_pin_hash

    snap = library_snapshot()
    other_kiosk = seal_pin_hash(b"k" * 32, PasswordHasher().hash("1234"), "AGT0001")
    other_card = seal(PasswordHasher().hash("1234"), "AGT0003")
    decider = Decider(store, None, None, OfflinePolicy(check_pin=True))
    for sealed in (other_kiosk, other_card, PasswordHasher().hash("1234")):
        p = snap.patrons[0].model_copy(update={"pin_hash": sealed, "pin_required": True})
        store.apply_snapshot(snap.model_copy(update={"patrons": [p], "full": False}))
        assert decider.check_pin("AGT0001", "1234").ok is None


def test_return_taken_back_offline_even_when_snapshot_says_not_on_loan(store):
    # Another kiosk may have lent it while both were offline: the book is here.
    tx = store.new_transaction(Kind.CHECKIN, item="B000101", offline=True)
    res = decide_offline(tx, store, OfflinePolicy())
    assert res.status == Status.ACCEPTED and res.title == "Laskar Pelangi"
    tx = store.new_transaction(Kind.CHECKIN, item="B000108", offline=True)
    assert decide_offline(tx, store, OfflinePolicy()).hold_for_other
