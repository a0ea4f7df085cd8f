"""Event registration, signed tickets and door sign-in."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from core.patronkeys import card_tag
from core.tickets import read_ticket, unsigned_ticket, verify_ticket
from server.models import Event
from server.service import Server
from tests.server.helpers import post, tx

API = "/api/v1"
GUEST = {"name": "Rina Wulandari", "phone": "0812-3456-7890", "institution": "SMAN 1 Probolinggo"}


def _event_id(client: TestClient, headers: dict) -> int:
    return client.get(f"{API}/events", headers=headers).json()[0]["id"]


def _capacity(server: Server, capacity: int, waitlist: bool) -> None:
    with server.db.write() as (s, v):
        s.execute(update(Event).values(capacity=capacity, waitlist=waitlist, version=v))


def test_register_returns_a_ticket_the_door_can_verify_offline(
    client: TestClient, kiosk_a: dict, demo: Server
) -> None:
    eid = _event_id(client, kiosk_a)
    [r] = post(client, kiosk_a, tx("event_register", card="AGT0001", event_id=eid))
    assert r["status"] == "accepted" and r["waitlisted"] is False
    public = client.get(f"{API}/snapshot", headers=kiosk_a).json()["ticket_public_key"]
    ticket = verify_ticket(public, r["ticket"])
    assert ticket.event_id == eid and r["ticket"].startswith(f"PK1.{eid}.{ticket.code}.")
    [again] = post(client, kiosk_a, tx("event_register", card="AGT0001", event_id=eid))
    assert again["status"] == "refused" and again["reason"] == "already_registered"
    assert again["ticket"] == r["ticket"]  # the same ticket, to print again
    ev = client.get(f"{API}/events/{eid}", headers=kiosk_a).json()
    assert ev["registered"] == 1 and ev["seats_left"] == 19


def test_guest_registration_and_full_event_waitlist(
    client: TestClient, kiosk_a: dict, demo: Server
) -> None:
    eid = _event_id(client, kiosk_a)
    _capacity(demo, 1, waitlist=True)
    first, second = post(
        client,
        kiosk_a,
        tx("event_register", guest=GUEST, event_id=eid),
        tx("event_register", card="AGT0002", event_id=eid),
    )
    assert first["status"] == "accepted" and not first["waitlisted"]
    assert second["status"] == "accepted" and second["waitlisted"] and second["ticket"]
    _capacity(demo, 1, waitlist=False)
    [full] = post(client, kiosk_a, tx("event_register", card="AGT0001", event_id=eid))
    assert full["status"] == "refused" and full["reason"] == "event_full"
    [unknown] = post(client, kiosk_a, tx("event_register", card="AGT0001", event_id=4242))
    assert unknown["reason"] == "unknown_event"


def test_door_signin_by_ticket_card_and_guest(client: TestClient, kiosk_a: dict) -> None:
    eid = _event_id(client, kiosk_a)
    [reg] = post(client, kiosk_a, tx("event_register", card="AGT0001", event_id=eid))
    [by_ticket] = post(client, kiosk_a, tx("door_signin", ticket=reg["ticket"]))
    assert by_ticket["status"] == "accepted" and by_ticket["attendance_count"] == 1
    assert by_ticket["event_id"] == eid
    first_at = by_ticket["signed_in_at"]
    # the same person again, now by card: refused online with the first sign-in time
    [repeat] = post(client, kiosk_a, tx("door_signin", card="AGT0001", event_id=eid))
    assert repeat["status"] == "refused" and repeat["reason"] == "already_signed_in"
    assert repeat["signed_in_at"] == first_at and repeat["attendance_count"] == 1
    # and offline: accepted (the door let them in), nothing changes
    [offline] = post(client, kiosk_a, tx("door_signin", card="AGT0001", event_id=eid, offline=True))
    assert offline["status"] == "accepted" and offline["reason"] == "already_signed_in"
    assert offline["signed_in_at"] == first_at
    [walk_in] = post(client, kiosk_a, tx("door_signin", card="AGT0002", event_id=eid))
    assert walk_in["status"] == "accepted" and walk_in["attendance_count"] == 2
    [guest] = post(client, kiosk_a, tx("door_signin", guest=GUEST, event_id=eid))
    assert guest["status"] == "accepted" and guest["attendance_count"] == 3
    ev = client.get(f"{API}/events/{eid}", headers=kiosk_a).json()
    assert ev["attended"] == 3 and ev["registered"] == 3


def test_forged_and_altered_tickets_are_refused(client: TestClient, kiosk_a: dict) -> None:
    eid = _event_id(client, kiosk_a)
    [reg] = post(client, kiosk_a, tx("event_register", card="AGT0001", event_id=eid))
    prefix, ev, code, sig = reg["ticket"].split(".")
    altered = f"{prefix}.{ev}.{'A' * len(code)}.{sig}"
    results = post(
        client,
        kiosk_a,
        tx("door_signin", ticket=altered),
        tx("door_signin", ticket="hello"),
        tx("door_signin", ticket=reg["ticket"], event_id=eid + 1),
        tx("door_signin", ticket=altered, offline=True),
    )
    assert [(r["status"], r["reason"]) for r in results] == [
        ("refused", "unknown_ticket"),
        ("refused", "unknown_ticket"),
        ("refused", "unknown_ticket"),
        ("conflict", "unknown_ticket"),
    ]
    assert "forged" in results[0]["message"]


def test_offline_door_signins_merge_in_event_time(
    client: TestClient, kiosk_a: dict, kiosk_b: dict, demo: Server
) -> None:
    eid = _event_id(client, kiosk_a)
    ev = client.get(f"{API}/events/{eid}", headers=kiosk_a).json()
    from dataclasses import replace
    from datetime import datetime, timedelta

    # the demo event is next Saturday: allow offline event times that far ahead
    demo.settings = replace(demo.settings, clock_skew_minutes=8 * 24 * 60)

    start = datetime.fromisoformat(ev["starts_at"])
    late = tx("door_signin", "kiosk-b", start + timedelta(minutes=20), card="AGT0001",
              event_id=eid, offline=True)  # fmt: skip
    early = tx("door_signin", "kiosk-a", start + timedelta(minutes=5), card="AGT0001",
               event_id=eid, offline=True)  # fmt: skip
    [r_late] = post(client, kiosk_b, late)
    assert r_late["signed_in_at"] == late["at"].replace("+00:00", "Z")
    [r_early] = post(client, kiosk_a, early)
    assert r_early["status"] == "accepted" and r_early["reason"] is None
    snap = client.get(f"{API}/snapshot", headers=kiosk_a).json()
    [reg] = [r for r in snap["registrations"] if not r["deleted"]]
    assert datetime.fromisoformat(reg["signed_in_at"]) == start + timedelta(minutes=5)
    assert reg["card"] == card_tag(demo.patrons.card_key, "AGT0001")  # a tag, not the card


def test_over_capacity_offline_signin_is_a_conflict(
    client: TestClient, kiosk_a: dict, demo: Server, staff: dict
) -> None:
    eid = _event_id(client, kiosk_a)
    _capacity(demo, 1, waitlist=False)
    results = post(
        client,
        kiosk_a,
        tx("door_signin", card="AGT0001", event_id=eid, offline=True),
        tx("door_signin", card="AGT0002", event_id=eid, offline=True),
    )
    assert [(r["status"], r["reason"]) for r in results] == [
        ("accepted", None),
        ("conflict", "event_full"),
    ]
    assert results[1]["attendance_count"] == 2  # they were let in: counted
    conflicts = client.get(f"{API}/staff/conflicts", headers=staff).json()
    assert [c["reason"] for c in conflicts] == ["event_full"]


def test_unsigned_ticket_from_an_offline_signup_opens_the_door_once_known(
    client: TestClient, kiosk_a: dict, kiosk_b: dict
) -> None:
    """A kiosk that registered someone offline printed PKU.<event>.<code>; the server
    honours it once that registration has synced, and only for its own event."""
    eid = _event_id(client, kiosk_a)
    signup = tx("event_register", card="AGT0001", event_id=eid, offline=True)
    printed = unsigned_ticket(eid, signup["id"])
    # before the sign-up has reached the server nothing vouches for the ticket
    [early] = post(client, kiosk_b, tx("door_signin", "kiosk-b", ticket=printed))
    assert (early["status"], early["reason"]) == ("refused", "unknown_ticket")
    [reg] = post(client, kiosk_a, signup)
    assert reg["status"] == "accepted" and read_ticket(None, reg["ticket"]).code == (
        read_ticket(None, printed).code
    )
    # another event's number on the same code, and a made-up code, stay refused
    other_event, made_up = post(
        client,
        kiosk_b,
        tx("door_signin", "kiosk-b", ticket=printed.replace(f".{eid}.", f".{eid + 1}.")),
        tx("door_signin", "kiosk-b", ticket=f"PKU.{eid}.ABCDEFGHIJ"),
    )
    assert (other_event["status"], other_event["reason"]) == ("refused", "unknown_ticket")
    assert (made_up["status"], made_up["reason"]) == ("refused", "unknown_ticket")
    [door] = post(client, kiosk_b, tx("door_signin", "kiosk-b", ticket=printed))
    assert door["status"] == "accepted" and door["event_id"] == eid
    assert door["attendance_count"] == 1
    [again] = post(client, kiosk_b, tx("door_signin", "kiosk-b", card="AGT0001", event_id=eid))
    assert again["reason"] == "already_signed_in"  # the PKU ticket signed in that patron


def test_unsigned_ticket_of_someone_already_registered_names_them(
    client: TestClient, kiosk_a: dict
) -> None:
    """Registered online, then again at an offline kiosk: the server keeps the first
    registration, and the offline slip's code still signs in the same person."""
    eid = _event_id(client, kiosk_a)
    [first] = post(client, kiosk_a, tx("event_register", card="AGT0002", event_id=eid))
    again = tx("event_register", card="AGT0002", event_id=eid, offline=True)
    [dup] = post(client, kiosk_a, again)
    assert dup["reason"] == "already_registered" and dup["ticket"] == first["ticket"]
    [door] = post(client, kiosk_a, tx("door_signin", ticket=unsigned_ticket(eid, again["id"])))
    assert door["status"] == "accepted" and door["attendance_count"] == 1
    [by_card] = post(client, kiosk_a, tx("door_signin", card="AGT0002", event_id=eid))
    assert by_card["reason"] == "already_signed_in"


def test_a_cancellation_frees_the_seat_for_the_first_waiting_even_after_a_replay(
    client: TestClient, kiosk_a: dict, demo: Server
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from core.wire import Kind
    from server.models import Registration
    from tests.server.helpers import soon

    eid = _event_id(client, kiosk_a)
    _capacity(demo, 1, waitlist=True)
    t0 = soon()
    seated, waiting, later = post(
        client,
        kiosk_a,
        tx("event_register", card="AGT0001", event_id=eid, at=t0),
        tx("event_register", guest=GUEST, event_id=eid, at=t0 + timedelta(seconds=1)),
        tx("event_register", card="AGT0002", event_id=eid, at=t0 + timedelta(seconds=2)),
    )
    assert not seated["waitlisted"] and waiting["waitlisted"] and later["waitlisted"]
    with demo.db.read() as s:
        first = s.execute(
            select(Registration.ticket_code).where(Registration.card == "AGT0001")
        ).scalar_one()
    [cancel] = post(
        client,
        kiosk_a,
        tx(Kind.EVENT_CANCEL.value, event_id=eid, ticket=f"PKU.{eid}.{first}",
           at=t0 + timedelta(seconds=3)),
    )  # fmt: skip
    assert cancel["status"] == "accepted" and "moved up" in cancel["message"]

    def seats() -> dict[str, bool]:
        with demo.db.read() as s:
            rows = s.execute(
                select(Registration.card, Registration.guest_name, Registration.waitlisted).where(
                    Registration.event_id == eid, Registration.deleted.is_(False)
                )
            )
            return {str(card or name): waitlisted for card, name, waitlisted in rows}

    assert seats() == {"Rina Wulandari": False, "AGT0002": True}  # the earliest waiting
    # a late offline sign-up from before the cancellation makes the server replay the
    # event in event-time order: the cancellation and the move up still hold
    [late] = post(
        client,
        kiosk_a,
        tx("event_register", card="AGT0003", event_id=eid, offline=True,
           at=t0 + timedelta(milliseconds=1500)),
    )  # fmt: skip
    assert late["status"] in ("accepted", "conflict")
    after = seats()
    assert after["Rina Wulandari"] is False and after["AGT0002"] is True
    assert "AGT0001" not in after
    [again] = post(
        client,
        kiosk_a,
        tx(Kind.EVENT_CANCEL.value, event_id=eid, ticket=f"PKU.{eid}.{first}"),
    )
    assert again["status"] == "refused" and again["reason"] == "not_registered"
