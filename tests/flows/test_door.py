"""Door sign-in: card, ticket, walk-in; repeat scan says when; counts against capacity."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core import demo
from core.tickets import sign_ticket, ticket_code_for, unsigned_ticket
from core.wire import Kind, Reason
from kiosk.flows.base import CodeKind, Severity
from kiosk.flows.door import DoorFlow
from kiosk.flows.events import EventsFlow, load_events
from sync.store import OutboxState
from tests.flows import ui_fixtures

demo_services = ui_fixtures.demo_services  # the fixture, shared with the other UI flow tests


def _door(services) -> DoorFlow:
    event = next(e for e in load_events(services) if e.id == 1)
    return DoorFlow(services, event)


def test_card_sign_in_then_repeat_says_when(demo_services) -> None:
    door = _door(demo_services)
    assert door.count == 0 and door.capacity == demo.WORKSHOP.capacity
    msg = door.scan("AGT0002")
    assert msg.severity == Severity.SUCCESS and door.count == 1
    again = door.scan("AGT0002")
    assert again.msgid == "Sudah hadir pukul {time}."
    assert again.params["time"] == msg.params["time"]
    assert door.count == 1


def test_walk_in_guest_signs_in_offline(demo_services) -> None:
    door = _door(demo_services)
    door.start_walk_in()
    assert door.submit_walk_in().severity == Severity.ERROR  # empty form
    for ch in "Tono":
        door.form.press(ch)
    door.form.press("next")
    for ch in "tono@contoh.id":
        door.form.press(ch)
    msg = door.submit_walk_in()
    assert msg.severity == Severity.SUCCESS and not door.guest_mode
    assert door.count == 1
    rows = [r for r in demo_services.store.rows() if r.tx.kind == Kind.DOOR_SIGNIN]
    assert rows and rows[-1].tx.guest.name == "Tono" and rows[-1].tx.offline


def test_unknown_code_at_the_door(demo_services) -> None:
    door = _door(demo_services)
    assert door.scan("B000101").severity == Severity.ERROR
    assert door.count == 0


# -- tickets at the door, offline: signed ones are verified, unsigned ones need a known code ---
def _register_offline(services, card: str) -> str:
    flow = EventsFlow(services)
    flow.load()
    flow.select(1)
    assert flow.scan(card).severity == Severity.SUCCESS
    assert flow.ticket is not None
    return flow.ticket


def _server_key(services) -> Ed25519PrivateKey:
    from core.tickets import public_key_text

    key = Ed25519PrivateKey.generate()
    services.store.set_meta("ticket_public_key", public_key_text(key))
    return key


def test_offline_sign_up_prints_an_unsigned_ticket_this_kiosk_honours(demo_services) -> None:
    ticket = _register_offline(demo_services, "AGT0001")
    row = demo_services.store.rows()[-1]
    # The code is the one the server will give this registration (same transaction id).
    assert ticket == f"PKU.1.{ticket_code_for(row.tx.id)}"
    assert demo_services.classifier.kind_of(ticket) == CodeKind.TICKET
    door = _door(demo_services)
    assert door.scan(ticket).severity == Severity.SUCCESS and door.count == 1
    again = door.scan(ticket)
    assert again.msgid == "Sudah hadir pukul {time}." and door.count == 1


def test_unsigned_ticket_from_another_kiosk_is_not_taken_on_trust(demo_services) -> None:
    door = _door(demo_services)
    msg = door.scan(unsigned_ticket(1, "0190a0b0-0000-7000-8000-000000000001"))
    assert msg.msgid.startswith("Tiket ini belum tercatat") and msg.severity == Severity.ERROR
    assert door.count == 0
    refused = demo_services.store.rows()[-1]
    assert refused.local_result.reason == Reason.TICKET_NOT_YET_KNOWN
    assert refused.state == OutboxState.SENT  # a local refusal is never sent


def test_signed_tickets_are_verified_offline(demo_services) -> None:
    key = _server_key(demo_services)
    door = _door(demo_services)
    # Signed by the server for a registration made after this kiosk's snapshot: the
    # signature alone vouches for it.
    good = sign_ticket(key, 1, "NEWREG0001")
    assert door.scan(good).severity == Severity.SUCCESS and door.count == 1
    forged = sign_ticket(Ed25519PrivateKey.generate(), 1, "NEWREG0002")
    altered = good.replace("NEWREG0001", "NEWREG0003")
    other_event = sign_ticket(key, 2, "NEWREG0004")
    for bad in (forged, altered, other_event, "PK1.1.NEWREG0005.bm90LWEtc2ln"):
        msg = door.scan(bad)
        assert msg.msgid == "Tiket tidak sah untuk acara ini.", bad
    assert door.count == 1
    reasons = [r.local_result.reason for r in demo_services.store.rows()[-4:]]
    assert reasons == [Reason.UNKNOWN_TICKET] * 4
