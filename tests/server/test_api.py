"""The HTTP surface: auth, error bodies, patrons, events, staff routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from server.service import Server
from tests.server.helpers import post, tx

API = "/api/v1"


def test_health_needs_no_token(client: TestClient) -> None:
    r = client.get(f"{API}/health")
    assert r.status_code == 200
    assert r.json()["ok"] is True and r.json()["version"]


def test_openapi_is_served(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert f"{API}/transactions" in doc["paths"]
    assert f"{API}/staff/closed-days/{{day}}" in doc["paths"]


def test_missing_and_unknown_tokens_are_401_with_error_body(client: TestClient) -> None:
    r = client.post(f"{API}/patrons/lookup", json={"card": "AGT0001"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    # a request with a body is answered before it is read (the body-limit guard)
    assert r.json()["detail"].startswith("send 'Authorization: Bearer <token>'")
    r = client.get(f"{API}/patrons/account")
    assert r.status_code == 401
    assert r.json() == {"detail": "send 'Authorization: Bearer <token>'", "code": "unauthorized"}
    r = client.get(f"{API}/patrons/account", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_kiosk_cannot_post_for_another_kiosk(client: TestClient, kiosk_a: dict) -> None:
    body = {"transactions": [tx("checkin", kiosk="kiosk-b", item="B000101")]}
    r = client.post(f"{API}/transactions", json=body, headers=kiosk_a)
    assert r.status_code == 403
    assert r.json()["code"] == "wrong_kiosk" and "kiosk-b" in r.json()["detail"]


def test_staff_token_cannot_post_transactions_and_kiosk_not_staff_routes(
    client: TestClient, kiosk_a: dict, staff: dict
) -> None:
    body = {"transactions": [tx("checkin", item="B000101")]}
    r = client.post(f"{API}/transactions", json=body, headers=staff)
    assert r.status_code == 403 and r.json()["code"] == "kiosk_only"
    r = client.get(f"{API}/staff/conflicts", headers=kiosk_a)
    assert r.status_code == 403 and r.json()["code"] == "staff_only"


def test_bad_staff_password(client: TestClient) -> None:
    r = client.post(f"{API}/staff/login", json={"name": "petugas", "password": "salah"})
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"


def test_validation_error_is_readable(client: TestClient, kiosk_a: dict) -> None:
    r = client.post(
        f"{API}/transactions",
        json={"transactions": [{"id": "x", "kiosk": "kiosk-a", "seq": 1, "kind": "steal"}]},
        headers=kiosk_a,
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_request"
    assert "transactions.0.kind" in body["detail"] and "transactions.0.at" in body["detail"]


def test_unknown_route_and_method(client: TestClient) -> None:
    r = client.get("/nothing-here")
    assert r.status_code == 404 and "/api/v1" in r.json()["detail"]
    r = client.delete(f"{API}/health")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_patron_info_for_demo_patrons(client: TestClient, kiosk_a: dict) -> None:
    siti = _lookup(client, kiosk_a, "AGT0001").json()["patron"]
    assert siti["first_name"] == "Siti" and siti["can_borrow"] and siti["loan_limit"] == 5
    assert siti["pin_required"] is False
    assert _lookup(client, kiosk_a, "AGT0002").json()["patron"]["pin_required"] is True
    dewi = _lookup(client, kiosk_a, "AGT0003").json()["patron"]
    assert dewi["status"] == "blocked" and dewi["reason"] == "patron_blocked"
    assert not dewi["can_borrow"]
    ahmad = _lookup(client, kiosk_a, "AGT0004").json()["patron"]
    assert ahmad["status"] == "expired" and ahmad["reason"] == "card_expired"
    r = _lookup(client, kiosk_a, "NOPE")
    assert r.status_code == 404 and r.json()["code"] == "unknown_card"


def _lookup(client: TestClient, headers: dict, card: str):
    return client.post(f"{API}/patrons/lookup", json={"card": card}, headers=headers)


def _pin(client: TestClient, headers: dict, card: str, pin: str):
    return client.post(
        f"{API}/patrons/verify-pin", json={"card": card, "pin": pin}, headers=headers
    )


def test_verify_pin(client: TestClient, kiosk_a: dict) -> None:
    ok = _pin(client, kiosk_a, "AGT0002", "1234").json()
    assert ok["ok"] is True and ok["patron"]["card"] == "AGT0002" and ok["session"]["session"]
    bad = _pin(client, kiosk_a, "AGT0002", "9999").json()
    assert bad["ok"] is False and bad["reason"] == "pin_wrong" and bad["session"] is None
    assert bad["tries_left"] == 4
    assert _pin(client, kiosk_a, "AGT0002", "").status_code == 422
    # a card with a PIN gets no session from a lookup; one without gets it at once
    assert _lookup(client, kiosk_a, "AGT0002").json()["session"] is None
    assert _lookup(client, kiosk_a, "AGT0001").json()["session"]["session"]


def test_card_numbers_are_not_in_url_paths(client: TestClient, kiosk_a: dict) -> None:
    for path in ("/patrons/AGT0001", "/patrons/AGT0001/account"):
        assert client.get(f"{API}{path}", headers=kiosk_a).status_code in (403, 404, 405)
    r = client.post(f"{API}/patrons/AGT0002/verify-pin", json={"pin": "1234"}, headers=kiosk_a)
    assert r.status_code in (404, 405)


def test_account_needs_this_kiosks_patron_session(
    client: TestClient, kiosk_a: dict, kiosk_b: dict
) -> None:
    """Issue 18: a kiosk token read any patron's account with no PIN."""
    post(client, kiosk_a, tx("checkout", card="AGT0002", item="B000101"))
    bare = client.get(f"{API}/patrons/account", headers=kiosk_a)
    assert bare.status_code == 403 and bare.json()["code"] == "patron_session_required"
    forged = client.get(f"{API}/patrons/account", headers={**kiosk_a, "X-Patron-Session": "x"})
    assert forged.status_code == 403
    session = _pin(client, kiosk_a, "AGT0002", "1234").json()["session"]["session"]
    own = {**kiosk_a, "X-Patron-Session": session}
    acct = client.get(f"{API}/patrons/account", headers=own).json()
    assert acct["patron"]["card"] == "AGT0002"
    assert [loan["item"] for loan in acct["loans"]] == ["B000101"]
    assert acct["loans"][0]["overdue"] is False
    assert acct["holds"] == [{"item": "B000108", "title": "Laut Bercerita", "ready": True}]
    # the session is bound to kiosk A: kiosk B cannot use it
    other = client.get(f"{API}/patrons/account", headers={**kiosk_b, "X-Patron-Session": session})
    assert other.status_code == 403
    # kiosk A's next patron ends Budi's session there
    dewi = _lookup(client, kiosk_a, "AGT0003").json()["session"]["session"]
    assert client.get(f"{API}/patrons/account", headers=own).status_code == 403
    fines = client.get(f"{API}/patrons/account", headers={**kiosk_a, "X-Patron-Session": dewi})
    assert fines.json()["fines_idr"] == 25000


def test_online_renewal_needs_the_patrons_session(client: TestClient, kiosk_a: dict) -> None:
    [out] = post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000101"))
    assert out["status"] == "accepted"
    body = {"transactions": [tx("renew", card="AGT0001", item="B000101")]}
    r = client.post(f"{API}/transactions", json=body, headers=kiosk_a)
    assert r.status_code == 403 and r.json()["code"] == "patron_session_required"
    dewi = _lookup(client, kiosk_a, "AGT0003").json()["session"]["session"]
    r = client.post(f"{API}/transactions", json=body, headers={**kiosk_a, "X-Patron-Session": dewi})
    assert r.status_code == 403  # another patron's session
    siti = _lookup(client, kiosk_a, "AGT0001").json()["session"]["session"]
    r = client.post(f"{API}/transactions", json=body, headers={**kiosk_a, "X-Patron-Session": siti})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted"


def test_wrong_pins_lock_the_card_until_the_lock_ends(
    client: TestClient, kiosk_a: dict, kiosk_b: dict, demo, caplog
) -> None:
    """Issue 18: 200 wrong PINs were all answered and the right one still worked."""
    now = [datetime(2026, 12, 1, 2, 0, tzinfo=UTC)]
    demo.patrons.clock = lambda: now[0]
    for n in range(5):  # from two kiosks: counted per card
        res = _pin(client, kiosk_a if n % 2 else kiosk_b, "AGT0002", "0000").json()
        assert res["ok"] is False
    assert res["reason"] == "pin_locked" and res["tries_left"] == 0
    assert res["locked_until"].startswith("2026-12-01T02:15")
    locked = _pin(client, kiosk_a, "AGT0002", "1234").json()
    assert locked["ok"] is False and locked["reason"] == "pin_locked" and not locked["session"]
    assert "wrong PIN" in caplog.text and "kiosk-b" in caplog.text and "kiosk-a" in caplog.text
    now[0] += timedelta(minutes=14, seconds=59)
    assert _pin(client, kiosk_a, "AGT0002", "1234").json()["reason"] == "pin_locked"
    now[0] += timedelta(seconds=2)
    assert _pin(client, kiosk_a, "AGT0002", "1234").json()["ok"] is True
    # the count starts over after a right PIN
    assert _pin(client, kiosk_a, "AGT0002", "0000").json()["tries_left"] == 4


def test_staff_clear_a_pin_lock_and_it_holds_across_a_restart(
    client: TestClient, kiosk_a: dict, demo
) -> None:
    for _ in range(5):
        _pin(client, kiosk_a, "AGT0002", "0000")
    # a new server process on the same database still finds the lock
    again = Server(demo.settings, demo.db)
    patron_id = _patron_id(demo, "AGT0002")
    assert again.patrons.locked_until(patron_id) is not None
    assert again.patrons.clear_pin_lock("AGT0002") is True
    assert again.patrons.clear_pin_lock("NOPE") is False
    assert _pin(client, kiosk_a, "AGT0002", "1234").json()["ok"] is True


def _patron_id(server, card: str) -> int:
    from server.queries import find_patron

    with server.db.read() as s:
        patron = find_patron(s, card)
        assert patron is not None
        return patron.id


def test_pin_checks_are_rate_limited_per_kiosk(
    client: TestClient, kiosk_a: dict, kiosk_b: dict, demo
) -> None:
    from server.patron_access import PinRateLimit

    t = [0.0]
    demo.patrons.rate = PinRateLimit(3, clock=lambda: t[0])
    for _ in range(3):
        assert _pin(client, kiosk_a, "AGT0001", "0000").status_code == 200
    r = _pin(client, kiosk_a, "AGT0001", "0000")
    assert r.status_code == 429 and r.json()["code"] == "too_many_pin_checks"
    assert int(r.headers["Retry-After"]) == 20
    assert _pin(client, kiosk_b, "AGT0001", "0000").status_code == 200  # per kiosk
    t[0] += 20
    assert _pin(client, kiosk_a, "AGT0001", "0000").status_code == 200


def test_events_list_and_detail(client: TestClient, kiosk_a: dict) -> None:
    events = client.get(f"{API}/events", headers=kiosk_a).json()
    assert len(events) == 1
    ev = events[0]
    assert ev["title"] == "Lokakarya Menulis Cerpen" and ev["place"] == "Ruang Serbaguna Lt. 2"
    assert ev["capacity"] == 20 and ev["seats_left"] == 20 and ev["waitlist"] is True
    assert client.get(f"{API}/events/{ev['id']}", headers=kiosk_a).json() == ev
    r = client.get(f"{API}/events/999999", headers=kiosk_a)
    assert r.status_code == 404 and r.json()["code"] == "unknown_event"


def test_batch_updates_kiosk_health(client: TestClient, kiosk_a: dict, staff: dict) -> None:
    post(client, kiosk_a, queue_depth=7, snapshot_age_s=12.5, version="1.2.3")
    kiosks = client.get(f"{API}/staff/kiosks", headers=staff).json()
    a = next(k for k in kiosks if k["name"] == "kiosk-a")
    assert a["queue_depth"] == 7 and a["snapshot_age_s"] == 12.5 and a["version"] == "1.2.3"
    assert a["last_seen"] is not None


def test_staff_loans(client: TestClient, kiosk_a: dict, staff: dict) -> None:
    post(client, kiosk_a, tx("checkout", card="AGT0001", item="B000102"))
    loans = client.get(f"{API}/staff/loans", params={"card": "AGT0001"}, headers=staff).json()
    assert [(x["card"], x["item"], x["title"]) for x in loans] == [
        ("AGT0001", "B000102", "Bumi Manusia")
    ]
    assert client.get(f"{API}/staff/loans", params={"card": "AGT0002"}, headers=staff).json() == []


def test_text_the_database_cannot_store_is_refused_clearly(
    client: TestClient, kiosk_a: dict, staff: dict
) -> None:
    r = _lookup(client, kiosk_a, "AGT\x000001")
    assert r.status_code == 422 and r.json()["code"] == "invalid_card"
    surrogate = (
        '{"transactions": [{"id": "s1", "kiosk": "kiosk-a", "seq": 1, "kind": "door_signin",'
    )
    surrogate += (
        ' "at": "2026-11-28T10:00:00+07:00", "event_id": 1, "guest": {"name": "\\ud800"}}],'
    )
    surrogate += ' "version": "\\ud800"}'
    r = client.post(
        f"{API}/transactions",
        content=surrogate,
        headers={**kiosk_a, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "guest.name" in r.json()["detail"]
    r = client.post(
        f"{API}/staff/closed-days", json={"day": "2027-01-02", "reason": "a\x00b"}, headers=staff
    )
    assert r.status_code == 422 and "NUL" in r.json()["detail"]
    pin = '{"card": "AGT0002", "pin": "\\udfff"}'
    r = client.post(
        f"{API}/patrons/verify-pin",
        content=pin,
        headers={**kiosk_a, "Content-Type": "application/json"},
    )
    assert r.status_code in (200, 422)
    assert r.json().get("ok") is not True
