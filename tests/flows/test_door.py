"""Door sign-in: card, ticket, walk-in; repeat scan says when; counts against capacity."""

from __future__ import annotations

from kiosk.flows.base import Severity
from kiosk.flows.door import DoorFlow
from kiosk.flows.events import load_events
from sync.wire import Kind
from tests.flows import ui_fixtures

demo_services = ui_fixtures.demo_services  # the fixture, shared with the other UI flow tests


def _door(services) -> DoorFlow:
    event = next(e for e in load_events(services) if e.id == 1)
    return DoorFlow(services, event)


def test_card_sign_in_then_repeat_says_when(demo_services) -> None:
    door = _door(demo_services)
    assert door.count == 0 and door.capacity == 30
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
