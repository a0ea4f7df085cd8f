"""The HTTP surface: auth, error bodies, patrons, events, staff routes."""

from __future__ import annotations

from fastapi.testclient import TestClient

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
    r = client.get(f"{API}/patrons/AGT0001")
    assert r.status_code == 401
    assert r.json() == {"detail": "send 'Authorization: Bearer <token>'", "code": "unauthorized"}
    r = client.get(f"{API}/patrons/AGT0001", headers={"Authorization": "Bearer nope"})
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
    siti = client.get(f"{API}/patrons/AGT0001", headers=kiosk_a).json()
    assert siti["first_name"] == "Siti" and siti["can_borrow"] and siti["loan_limit"] == 5
    assert siti["pin_required"] is False
    assert client.get(f"{API}/patrons/AGT0002", headers=kiosk_a).json()["pin_required"] is True
    dewi = client.get(f"{API}/patrons/AGT0003", headers=kiosk_a).json()
    assert dewi["status"] == "blocked" and dewi["reason"] == "patron_blocked"
    assert not dewi["can_borrow"]
    ahmad = client.get(f"{API}/patrons/AGT0004", headers=kiosk_a).json()
    assert ahmad["status"] == "expired" and ahmad["reason"] == "card_expired"
    r = client.get(f"{API}/patrons/NOPE", headers=kiosk_a)
    assert r.status_code == 404 and r.json()["code"] == "unknown_card"


def test_verify_pin(client: TestClient, kiosk_a: dict) -> None:
    ok = client.post(f"{API}/patrons/AGT0002/verify-pin", json={"pin": "1234"}, headers=kiosk_a)
    assert ok.json()["ok"] is True and ok.json()["patron"]["card"] == "AGT0002"
    bad = client.post(f"{API}/patrons/AGT0002/verify-pin", json={"pin": "9999"}, headers=kiosk_a)
    assert bad.json() == {"ok": False, "patron": None}
    empty = client.post(f"{API}/patrons/AGT0002/verify-pin", json={"pin": ""}, headers=kiosk_a)
    assert empty.status_code == 422


def test_account_shows_loans_holds_and_fines(client: TestClient, kiosk_a: dict) -> None:
    post(client, kiosk_a, tx("checkout", card="AGT0002", item="B000101"))
    acct = client.get(f"{API}/patrons/AGT0002/account", headers=kiosk_a).json()
    assert [loan["item"] for loan in acct["loans"]] == ["B000101"]
    assert acct["loans"][0]["overdue"] is False
    assert acct["holds"] == [{"item": "B000108", "title": "Laut Bercerita", "ready": True}]
    assert client.get(f"{API}/patrons/AGT0003/account", headers=kiosk_a).json()["fines_idr"] == (
        25000
    )


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
    r = client.get(f"{API}/patrons/AGT%000001", headers=kiosk_a)
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
    pin = '{"pin": "\\udfff"}'
    r = client.post(
        f"{API}/patrons/AGT0002/verify-pin",
        content=pin,
        headers={**kiosk_a, "Content-Type": "application/json"},
    )
    assert r.status_code in (200, 422)
    assert r.json().get("ok") is not True
