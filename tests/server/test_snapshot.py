"""GET /snapshot: full copies, deltas by cursor, and no private patron data."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.patronkeys import card_tag
from core.wire import Snapshot
from tests.server.helpers import post, tx

API = "/api/v1"


def _tag(client: TestClient, card: str) -> str:
    """The card tag the server puts in snapshots (its own key)."""
    return card_tag(client.app.state.server.patrons.card_key, card)  # type: ignore[attr-defined]


def test_snapshot_links_no_card_number_to_items_or_registrations(
    client: TestClient, kiosk_a: dict
) -> None:
    """Issue 18: the snapshot linked card numbers to titles on loan, holds, registrations."""
    first = Snapshot.model_validate_json(client.get(f"{API}/snapshot", headers=kiosk_a).content)
    eid = first.events[0].id
    post(
        client,
        kiosk_a,
        tx("checkout", card="AGT0001", item="B000101"),
        tx("event_register", card="AGT0002", event_id=eid),
    )
    r = client.get(f"{API}/snapshot", headers=kiosk_a)
    snap = Snapshot.model_validate_json(r.content)
    cards = {p.card for p in snap.patrons}
    linked = [i.on_loan_to for i in snap.items] + [i.hold_for for i in snap.items]
    linked += [reg.card for reg in snap.registrations]
    assert any(linked) and not cards & set(linked)
    for card in cards:  # not anywhere in the items' or registrations' part of the body
        assert r.text.count(f'"{card}"') == 1
    assert snap.key_id and _tag(client, "AGT0001") in linked


def test_full_snapshot_parses_and_holds_only_what_kiosks_need(
    client: TestClient, kiosk_a: dict
) -> None:
    r = client.get(f"{API}/snapshot", headers=kiosk_a)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    snap = Snapshot.model_validate_json(r.content)
    assert snap.full is True and snap.ticket_public_key
    assert {p.card for p in snap.patrons} == {"AGT0001", "AGT0002", "AGT0003", "AGT0004", "STF0001"}
    assert len(snap.items) == 10 and len(snap.events) == 1
    budi = next(p for p in snap.patrons if p.card == "AGT0002")
    assert budi.first_name == "Budi" and budi.pin_hash is None and budi.loan_limit == 5
    assert budi.pin_required is True  # said apart from any hash
    assert "Santoso" not in r.text  # first names only
    held = next(i for i in snap.items if i.barcode == "B000108")
    assert held.hold_for == _tag(client, "AGT0002") and held.loan_days == 14
    kbbi = next(i for i in snap.items if i.barcode == "B000109")
    assert kbbi.status == "not_for_loan"


def test_delta_since_cursor(client: TestClient, kiosk_a: dict) -> None:
    first = Snapshot.model_validate_json(client.get(f"{API}/snapshot", headers=kiosk_a).content)
    empty = Snapshot.model_validate_json(
        client.get(f"{API}/snapshot?since={first.cursor}", headers=kiosk_a).content
    )
    assert empty.full is False and empty.patrons == [] and empty.items == []
    eid = first.events[0].id
    post(
        client,
        kiosk_a,
        tx("checkout", card="AGT0001", item="B000101"),
        tx("event_register", card="AGT0002", event_id=eid),
    )
    delta = Snapshot.model_validate_json(
        client.get(f"{API}/snapshot?since={first.cursor}", headers=kiosk_a).content
    )
    assert int(delta.cursor) > int(first.cursor)
    assert [i.barcode for i in delta.items] == ["B000101"]
    assert delta.items[0].status == "on_loan"
    assert delta.items[0].on_loan_to == _tag(client, "AGT0001")
    assert delta.items[0].due_at is not None
    assert [p.card for p in delta.patrons] == ["AGT0001"] and delta.patrons[0].loan_count == 1
    assert [(r.card, r.event_id) for r in delta.registrations] == [(_tag(client, "AGT0002"), eid)]
    assert [e.registered for e in delta.events] == [1]
    # nothing changed since: empty again
    again = Snapshot.model_validate_json(
        client.get(f"{API}/snapshot?since={delta.cursor}", headers=kiosk_a).content
    )
    assert again.items == [] and again.registrations == []


def test_bad_cursor_is_422_and_future_cursor_restarts(client: TestClient, kiosk_a: dict) -> None:
    for bad in ("abc", "²"):  # a digit to str.isdigit, not to int
        r = client.get(f"{API}/snapshot", params={"since": bad}, headers=kiosk_a)
        assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"
    r = client.get(f"{API}/snapshot?since=99999999", headers=kiosk_a)
    assert Snapshot.model_validate_json(r.content).full is True


def test_snapshot_is_gzipped_when_asked(client: TestClient, kiosk_a: dict) -> None:
    r = client.get(f"{API}/snapshot", headers={**kiosk_a, "Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert Snapshot.model_validate_json(r.content).full is True  # httpx decompressed it
    plain = client.get(f"{API}/snapshot", headers={**kiosk_a, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(Snapshot.model_validate_json(plain.content).items) == 10
