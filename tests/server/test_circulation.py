"""Checkout, checkin and renew: online refusals, offline conflicts, idempotency, merges."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core.wire import TransactionIn, TransactionResult
from server.db import current_counter
from server.group_commit import GroupCommit
from server.models import Loan, Transaction
from server.service import Server
from tests.server.helpers import post, soon, tx, wib

API = "/api/v1"


def _loans(server: Server, barcode: str | None = None) -> list[tuple]:
    """(item, card, issued_at, due_at, returned_at, renewals) for every loan."""
    from server.models import Item, Patron

    with server.db.read() as s:
        q = (
            select(Item.barcode, Patron.card, Loan.issued_at, Loan.returned_at, Loan.renewals)
            .join(Item, Item.id == Loan.item_id)
            .join(Patron, Patron.id == Loan.patron_id)
        )
        if barcode:
            q = q.where(Item.barcode == barcode)
        return sorted(tuple(r) for r in s.execute(q))


def test_checkout_checkin_renew_online(client: TestClient, kiosk_a: dict) -> None:
    [out] = post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000101"))
    assert out["status"] == "accepted" and out["title"] == "Laskar Pelangi"
    assert out["renewals"] == 0 and out["due_at"]
    [renew] = post(client, kiosk_a, tx("renew", card="AGT0001", item="B000101"))
    assert renew["status"] == "accepted" and renew["renewals"] == 1
    assert renew["due_at"] >= out["due_at"]
    [back] = post(client, kiosk_a, tx("checkin", item="B000101"))
    assert back["status"] == "accepted" and back["hold_for_other"] is False
    info = client.get(f"{API}/patrons/AGT0001", headers=kiosk_a).json()
    assert info["loan_count"] == 0


def test_online_refusals_have_reasons(client: TestClient, kiosk_a: dict) -> None:
    post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000101"))
    cases = [
        (tx("checkout", card="NOPE", item="B000102"), "unknown_card"),
        (tx("checkout", card="AGT0001", item="X999"), "unknown_item"),
        (tx("checkout", card="AGT0003", item="B000102"), "patron_blocked"),
        (tx("checkout", card="AGT0004", item="B000102"), "card_expired"),
        (tx("checkout", card="AGT0002", item="B000101"), "item_on_loan_to_other"),
        (tx("checkout", card="AGT0001", item="B000101"), "item_already_on_loan_to_patron"),
        (tx("checkout", card="AGT0001", item="B000108"), "item_on_hold_for_other"),
        (tx("checkout", card="AGT0001", item="B000109"), "item_not_for_loan"),
        (tx("checkin", item="B000102"), "not_on_loan"),
        (tx("renew", card="AGT0002", item="B000101"), "not_on_loan"),
    ]
    results = post(client, kiosk_a, *[c for c, _ in cases])
    assert [(r["status"], r["reason"]) for r in results] == [("refused", w) for _, w in cases]


def test_loan_limit_and_renewal_limit(client: TestClient, kiosk_a: dict) -> None:
    items = ["B000101", "B000102", "B000103", "B000104", "B000105", "B000106"]
    results = post(client, kiosk_a, *[tx("checkout", card="AGT0001", item=i) for i in items])
    assert [r["status"] for r in results] == ["accepted"] * 5 + ["refused"]
    assert results[-1]["reason"] == "too_many_loans"
    renewals = post(client, kiosk_a, *[tx("renew", card="AGT0001", item="B000101")] * 1)
    renewals += post(client, kiosk_a, tx("renew", card="AGT0001", item="B000101"))
    renewals += post(client, kiosk_a, tx("renew", card="AGT0001", item="B000101"))
    assert [r["status"] for r in renewals] == ["accepted", "accepted", "refused"]
    assert renewals[-1]["reason"] == "renewal_limit"


def test_hold_for_patron_and_checkin_flag(client: TestClient, kiosk_a: dict) -> None:
    [out] = post(client, kiosk_a, tx("checkout", card="AGT0002", item="B000108"))
    assert out["status"] == "accepted"  # the hold was for AGT0002: fulfilled
    [back] = post(client, kiosk_a, tx("checkin", item="B000108"))
    assert back["hold_for_other"] is False
    # offline checkout of a held item to someone else is honoured but flagged
    post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000102"))
    [back] = post(client, kiosk_a, tx("checkin", item="B000102"))
    assert back["hold_for_other"] is False


def test_checkin_of_item_on_hold_for_someone(client: TestClient, kiosk_a: dict) -> None:
    [out] = post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000108", offline=True))
    assert out["status"] == "conflict" and out["reason"] == "item_on_hold_for_other"
    [back] = post(client, kiosk_a, tx("checkin", item="B000108"))
    assert back["status"] == "accepted" and back["hold_for_other"] is True


def test_resending_returns_first_result_and_changes_nothing(
    client: TestClient, kiosk_a: dict, demo: Server
) -> None:
    batch = [
        tx("checkout", card="AGT0001", item="B000101"),
        tx("checkout", card="AGT0003", item="B000102"),
        tx("checkin", item="B000101", offline=True),
    ]
    first = post(client, kiosk_a, *batch)
    again = post(client, kiosk_a, *batch, batch[0])
    assert [r["duplicate"] for r in first] == [False] * 3
    assert [r["duplicate"] for r in again] == [True] * 4
    strip = [{k: v for k, v in r.items() if k != "duplicate"} for r in first]
    assert [{k: v for k, v in r.items() if k != "duplicate"} for r in again[:3]] == strip
    with demo.db.read() as s:
        assert s.execute(select(func.count()).select_from(Transaction)).scalar() == 3
    assert len(_loans(demo)) == 1


def test_same_id_twice_in_one_batch(client: TestClient, kiosk_a: dict, demo: Server) -> None:
    t = tx("checkout", card="AGT0001", item="B000101")
    first, second = post(client, kiosk_a, t, t)
    assert first["duplicate"] is False and second["duplicate"] is True
    assert second["status"] == first["status"] == "accepted"
    assert len(_loans(demo)) == 1


def test_offline_transactions_are_applied_with_conflicts(
    client: TestClient, kiosk_a: dict, staff: dict, demo: Server
) -> None:
    results = post(
        client,
        kiosk_a,
        tx("checkout", card="AGT0003", item="B000103", offline=True, at=wib(20, 10)),
        tx("checkout", card="UNKNOWN9", item="B000104", offline=True, at=wib(20, 10, 5)),
        tx("checkin", item="B000105", offline=True, at=wib(20, 10, 6)),
    )
    assert [(r["status"], r["reason"]) for r in results] == [
        ("conflict", "patron_blocked"),
        ("conflict", "unknown_card"),
        ("accepted", None),
    ]
    # the blocked patron still has the book: the loan exists
    assert [(i, c) for i, c, *_ in _loans(demo)] == [("B000103", "AGT0003")]
    conflicts = client.get(f"{API}/staff/conflicts", headers=staff).json()
    assert sorted(c["reason"] for c in conflicts) == ["patron_blocked", "unknown_card"]
    first = conflicts[0]
    r = client.post(
        f"{API}/staff/conflicts/{first['id']}/resolve",
        json={"note": "patron paid the fine at the desk"},
        headers=staff,
    )
    assert r.status_code == 200 and r.json()["resolved_by"] == "petugas"
    again = client.post(
        f"{API}/staff/conflicts/{first['id']}/resolve", json={"note": "x"}, headers=staff
    )
    assert again.status_code == 409 and again.json()["code"] == "already_resolved"
    assert len(client.get(f"{API}/staff/conflicts", headers=staff).json()) == 1
    all_ = client.get(f"{API}/staff/conflicts?include_resolved=true", headers=staff).json()
    assert len(all_) == 2
    missing = client.post(
        f"{API}/staff/conflicts/424242/resolve", json={"note": "x"}, headers=staff
    )
    assert missing.status_code == 404


def test_a_kiosk_lists_its_own_conflicts_still_open(
    client: TestClient, kiosk_a: dict, kiosk_b: dict, staff: dict
) -> None:
    blocked = tx("checkout", card="AGT0003", item="B000103", offline=True, at=wib(20, 10))
    unknown = tx("checkout", card="UNKNOWN9", item="B000104", offline=True, at=wib(20, 11))
    fine = tx("checkin", item="B000105", offline=True, at=wib(20, 12))
    post(client, kiosk_a, blocked, unknown, fine)
    other = tx("checkout", "kiosk-b", wib(20, 13), card="UNKNOWN8", item="B000106", offline=True)
    post(client, kiosk_b, other)

    def open_ids(headers: dict) -> list[str]:
        r = client.get(f"{API}/conflicts", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["ids"]

    assert open_ids(kiosk_a) == sorted([blocked["id"], unknown["id"]])
    assert open_ids(kiosk_b) == [other["id"]]
    found = client.get(f"{API}/staff/conflicts", headers=staff).json()
    [first] = [c for c in found if c["transaction_id"] == blocked["id"]]
    r = client.post(
        f"{API}/staff/conflicts/{first['id']}/resolve", json={"note": "ok"}, headers=staff
    )
    assert r.status_code == 200
    assert open_ids(kiosk_a) == [unknown["id"]]
    r = client.get(f"{API}/conflicts", headers=staff)
    assert r.status_code == 403 and r.json()["code"] == "kiosk_only"


def test_return_arriving_before_the_checkout_it_ends(
    client: TestClient, kiosk_a: dict, kiosk_b: dict, demo: Server
) -> None:
    """Kiosk B's 10:30 return arrives before kiosk A's 10:00 checkout."""
    checkout = tx("checkout", "kiosk-a", wib(27, 10), card="AGT0001", item="B000101", offline=True)
    checkin = tx("checkin", "kiosk-b", wib(27, 10, 30), item="B000101", offline=True)
    [r_in] = post(client, kiosk_b, checkin)
    assert r_in["status"] == "accepted"
    [r_out] = post(client, kiosk_a, checkout)
    assert r_out["status"] == "accepted" and r_out["title"] == "Laskar Pelangi"
    loans = _loans(demo, "B000101")
    assert loans == [
        ("B000101", "AGT0001", wib(27, 10), wib(27, 10, 30), 0),
    ]
    info = client.get(f"{API}/patrons/AGT0001", headers=kiosk_a).json()
    assert info["loan_count"] == 0
    snap = client.get(f"{API}/snapshot", headers=kiosk_a).json()
    item = next(i for i in snap["items"] if i["barcode"] == "B000101")
    assert item["status"] == "available" and item["on_loan_to"] is None


def test_late_checkout_by_other_patron_is_merged_and_flagged(
    client: TestClient, kiosk_a: dict, kiosk_b: dict, staff: dict, demo: Server
) -> None:
    post(client, kiosk_a, tx("checkout", "kiosk-a", wib(27, 10), card="AGT0001", item="B000102",
                             offline=True))  # fmt: skip
    # an earlier offline checkout to someone else arrives later
    [late] = post(client, kiosk_b, tx("checkout", "kiosk-b", wib(27, 9), card="AGT0002",
                                      item="B000102", offline=True))  # fmt: skip
    assert late["status"] == "accepted"
    loans = _loans(demo, "B000102")
    assert loans == [
        ("B000102", "AGT0001", wib(27, 10), None, 0),
        ("B000102", "AGT0002", wib(27, 9), wib(27, 10), 0),
    ]
    conflicts = client.get(f"{API}/staff/conflicts", headers=staff).json()
    assert [(c["kiosk"], c["reason"]) for c in conflicts] == [("kiosk-a", "item_on_loan_to_other")]


def test_due_dates_skip_sundays_holidays_and_staff_closed_days(
    client: TestClient, kiosk_a: dict, staff: dict
) -> None:
    def due(at: datetime) -> str:
        [r] = post(client, kiosk_a, tx("checkout", card="STF0001", item="B000110", offline=True,
                                       at=at))  # fmt: skip
        post(client, kiosk_a, tx("checkin", item="B000110", offline=True, at=at))
        return r["due_at"]

    # staff category: 30 days. 2026-10-30 + 30 = 2026-11-29, a Sunday -> Monday 30 Nov
    assert due(wib(30, 10, month=10)).startswith("2026-11-30T16:59:59")
    # 2026-11-25 + 30 = 2026-12-25 (Natal, Friday) -> Saturday 26 Dec
    assert due(wib(25, 10)).startswith("2026-12-26T16:59:59")
    r = client.post(
        f"{API}/staff/closed-days", json={"day": "2026-12-26", "reason": "stock take"},
        headers=staff,
    )  # fmt: skip
    assert r.status_code == 200
    days = client.get(f"{API}/staff/closed-days?year=2026", headers=staff).json()
    assert {"day": "2026-12-26", "reason": "stock take"} in days
    assert {"day": "2026-08-17", "reason": "Hari Kemerdekaan Republik Indonesia"} in days
    assert due(wib(25, 11)).startswith("2026-12-28T16:59:59")  # 27 Dec is a Sunday
    assert client.delete(f"{API}/staff/closed-days/2026-12-26", headers=staff).status_code == 200
    assert client.delete(f"{API}/staff/closed-days/2026-12-26", headers=staff).status_code == 404


def test_offline_due_date_from_slip_is_kept(client: TestClient, kiosk_a: dict) -> None:
    slip_due = wib(4, 23, 59, month=12)
    [r] = post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000106", offline=True,
                                   at=wib(27, 9), due_at=slip_due))  # fmt: skip
    assert datetime.fromisoformat(r["due_at"]) == slip_due


def test_invalid_transactions_are_refused_not_stored(
    client: TestClient, kiosk_a: dict, demo: Server
) -> None:
    results = post(
        client,
        kiosk_a,
        tx("checkout", item="B000101", offline=True),
        tx("checkin", item="B000101", at=wib(1, 10, year=1999)),
        tx("event_register", event_id=1),
    )
    assert [(r["status"], r["reason"]) for r in results] == [("refused", "invalid")] * 3
    assert "card" in results[0]["message"]
    with demo.db.read() as s:
        assert s.execute(select(func.count()).select_from(Transaction)).scalar() == 0


def test_large_upload_is_chunked_in_time_order_with_repeats(
    client: TestClient, kiosk_a: dict, demo: Server
) -> None:
    """120 offline transactions (over the 50-per-commit chunk) sent newest first."""
    items = ["B000101", "B000102", "B000103", "B000104"]
    txns = []
    for n in range(30):
        for j, item in enumerate(items):
            card = "AGT0001" if n % 2 == 0 else None
            kind = "checkout" if card else "checkin"
            seq = n * 10 + j + 1
            txns.append(tx(kind, at=wib(27, 8, n), item=item, offline=True, card=card, seq=seq))
    sent = list(reversed(txns)) + txns[:5]
    results = post(client, kiosk_a, *sent)
    assert len(results) == 125
    assert [r["id"] for r in results] == [t["id"] for t in sent]
    assert [r["duplicate"] for r in results] == [False] * 120 + [True] * 5
    assert {r["status"] for r in results} == {"accepted"}
    loans = _loans(demo)
    assert len(loans) == 60 and all(returned is not None for *_, returned, _r in loans)


def _commits_for_upload(demo: Server, client: TestClient, kiosk: dict, n: int) -> int:
    """Write transactions (change numbers) one upload of ``n`` takes."""
    with demo.db.read() as s:
        before = current_counter(s)
    sent = [tx("checkin", item=f"NOPE{i:04d}", offline=True) for i in range(n)]
    results = post(client, kiosk, *sent)
    assert [r["id"] for r in results] == [t["id"] for t in sent]
    assert {r["reason"] for r in results} == {"unknown_item"}
    with demo.db.read() as s:
        return current_counter(s) - before


def test_uploads_commit_in_parts(
    client: TestClient, kiosk_a: dict, kiosk_b: dict, demo: Server
) -> None:
    """An upload commits every BULK_CHUNK transactions, patrons at kiosks or not: a
    patron's request waits for one part at most, joining it (test_concurrency)."""
    n = 2 * GroupCommit.BULK_CHUNK + 10
    assert _commits_for_upload(demo, client, kiosk_a, n) == 3
    [online] = post(client, kiosk_b, tx("checkout", "kiosk-b", card="AGT0001", item="B000101"))
    assert online["status"] == "accepted"
    assert _commits_for_upload(demo, client, kiosk_a, n) == 3


def test_online_request_after_late_offline_ones_in_the_same_batch(
    client: TestClient, kiosk_a: dict, kiosk_b: dict, demo: Server
) -> None:
    """The online checkout is decided on the merged history, this batch included."""
    post(
        client,
        kiosk_a,
        tx("checkout", "kiosk-a", wib(27, 10), card="AGT0001", item="B000104", offline=True),
        tx("checkout", "kiosk-a", wib(27, 11), card="AGT0002", item="B000104", offline=True),
    )
    late_in, later_in, online = post(
        client,
        kiosk_b,
        tx("checkin", "kiosk-b", wib(27, 10, 30), item="B000104", offline=True),
        tx("checkin", "kiosk-b", wib(27, 11, 30), item="B000104", offline=True),
        tx("checkout", "kiosk-b", card="AGT0001", item="B000104"),
    )
    assert late_in["status"] == later_in["status"] == "accepted"
    assert online["status"] == "accepted", online
    loans = _loans(demo, "B000104")  # sorted by card, then issue time
    assert [(card, issued, returned) for _b, card, issued, returned, _r in loans] == [
        ("AGT0001", wib(27, 10), wib(27, 10, 30)),
        ("AGT0001", loans[1][2], None),
        ("AGT0002", wib(27, 11), wib(27, 11, 30)),
    ]


def test_the_log_keeps_text_exactly(client: TestClient, kiosk_a: dict, demo: Server) -> None:
    """Quotes, backslashes, braces and non-ASCII text survive the bulk log write."""
    odd = "B\"\\{x}, 'y' é 漢 \u2028 \\\""
    sent = [
        tx("checkout", card="AGT0001", item=odd),
        tx("checkout", card='K"\\{,} NULL', item="B000102"),
        tx("checkin", item="B000101"),
    ]
    results = post(client, kiosk_a, *sent)
    assert [r["status"] for r in results] == ["refused", "refused", "refused"]
    with demo.db.read() as s:
        rows = {t.id: t for t in s.scalars(select(Transaction))}
    for txn, result in zip(sent, results, strict=True):
        row = rows[txn["id"]]
        assert (row.item, row.card, row.status) == (txn["item"], txn.get("card"), "refused")
        assert row.at == datetime.fromisoformat(txn["at"])
        assert TransactionIn.model_validate_json(row.payload).item == txn["item"]
        assert TransactionResult.model_validate_json(row.result).message == result["message"]


def test_a_kiosk_refusal_is_logged_with_no_effect(client: TestClient, kiosk_a: dict) -> None:
    """``kiosk_refused``: the kiosk refused it offline after an unanswered online try.
    Logged as refused (so a late copy of that try cannot apply), nothing changes;
    only meaningful for offline decisions."""
    refused = tx("checkout", card="AGT0001", item="B000101", offline=True, kiosk_refused=True)
    wrong = tx("checkout", card="AGT0001", item="B000102", kiosk_refused=True)
    first, invalid = post(client, kiosk_a, refused, wrong)
    assert (first["status"], first["reason"]) == ("refused", "refused_at_kiosk")
    assert (invalid["status"], invalid["reason"]) == ("refused", "invalid")
    late = {**refused, "offline": False, "kiosk_refused": False}  # the lost online try
    [again] = post(client, kiosk_a, late)
    assert again["duplicate"] is True and again["status"] == "refused"
    info = client.get(f"{API}/patrons/AGT0001", headers=kiosk_a).json()
    assert info["loan_count"] == 0
    [other] = post(client, kiosk_a, tx("checkout", card="AGT0002", item="B000101"))
    assert other["status"] == "accepted"  # the item was never lent by the refusal


def test_an_applied_transaction_the_kiosk_told_refused_is_a_conflict(
    client: TestClient, kiosk_a: dict, staff: dict
) -> None:
    """The online checkout applied, its answer was lost, and the kiosk refused the same
    id offline: the patron walked away told "refused". The copy it sends gets the first
    result and changes nothing, and staff get one conflict to check the shelf."""
    lent = tx("checkout", card="AGT0001", item="B000101")
    [first] = post(client, kiosk_a, lent)
    assert first["status"] == "accepted"
    copy = {**lent, "offline": True, "kiosk_refused": True}
    [again] = post(client, kiosk_a, copy)
    assert again["status"] == "accepted" and again["duplicate"] is True
    [again] = post(client, kiosk_a, copy)  # repeated: still one conflict
    refused = tx("checkout", card="AGT0001", item="B999999")  # unknown item: refused online
    [no] = post(client, kiosk_a, refused)
    assert no["status"] == "refused"
    post(client, kiosk_a, {**refused, "offline": True, "kiosk_refused": True})
    conflicts = client.get(f"{API}/staff/conflicts", headers=staff).json()
    assert [(c["transaction_id"], c["reason"]) for c in conflicts] == [
        (lent["id"], "kiosk_told_refused")
    ]
    assert "told the patron it was refused" in conflicts[0]["message"]
    info = client.get(f"{API}/patrons/AGT0001", headers=kiosk_a).json()
    assert info["loan_count"] == 1  # the loan stands until staff look
    # an earlier offline return arriving late replays the item's history in time order;
    # the checkout is still accepted, and that does not settle the conflict: staff do
    early = tx("checkin", item="B000101", offline=True, at=soon(-1))
    post(client, kiosk_a, early)
    conflicts = client.get(f"{API}/staff/conflicts", headers=staff).json()
    assert (lent["id"], "kiosk_told_refused") in [
        (c["transaction_id"], c["reason"]) for c in conflicts
    ]


def test_renewal_and_return_in_one_batch_are_both_kept(
    client: TestClient, kiosk_a: dict, demo: Server
) -> None:
    """A loan read from the database, renewed and returned in the same batch: both
    changes reach its row (they are written together in one statement)."""
    post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000101"))
    renew, back = post(
        client, kiosk_a,
        tx("renew", card="AGT0001", item="B000101"), tx("checkin", item="B000101"),
    )  # fmt: skip
    assert renew["status"] == back["status"] == "accepted"
    [(item, card, _issued, returned, renewals)] = _loans(demo, "B000101")
    assert (item, card, renewals) == ("B000101", "AGT0001", 1)
    assert returned is not None


def _shelf(server: Server, barcode: str) -> tuple[str, int | None]:
    from server.models import Item

    with server.db.read() as s:
        item = s.scalars(select(Item).where(Item.barcode == barcode)).one()
        return item.status, item.hold_patron_id


def _set_status(server: Server, barcode: str, status: str) -> None:
    from server.models import Item

    with server.db.write() as (s, _v):
        s.scalars(select(Item).where(Item.barcode == barcode)).one().status = status


def test_a_lost_item_found_at_a_kiosk_is_back_on_the_shelf(
    client: TestClient, kiosk_a: dict, demo: Server
) -> None:
    """A lost item that a patron takes out (offline, so it is honoured) or that comes
    back through the return slot is found: its status is written back as available,
    and so is a hold the checkout fulfilled."""
    _set_status(demo, "B000102", "lost")
    [out] = post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000102", offline=True))
    assert out["status"] == "conflict" and out["reason"] == "item_lost"
    assert _shelf(demo, "B000102") == ("available", None)
    _set_status(demo, "B000103", "in_transit")
    [back] = post(client, kiosk_a, tx("checkin", item="B000103"))
    assert back["status"] == "accepted"
    assert _shelf(demo, "B000103") == ("available", None)
    held_for = _shelf(demo, "B000108")[1]
    assert held_for is not None
    [out] = post(client, kiosk_a, tx("checkout", card="AGT0002", item="B000108"))
    assert out["status"] == "accepted"  # the hold was AGT0002's: fulfilled and cleared
    assert _shelf(demo, "B000108") == ("available", None)
