"""Workshops & events: list, sign up by card, as a guest (form validation), waitlist."""

from __future__ import annotations

from core.wire import Kind
from kiosk.flows.base import Severity
from kiosk.flows.events import EventsFlow, EventsStep
from kiosk.flows.guest import GuestForm
from sync.store import OutboxState
from tests.flows import ui_fixtures

demo_services = ui_fixtures.demo_services  # the fixture, shared with the other UI flow tests


def _type(form: GuestForm, text: str) -> None:
    for ch in text:
        if ch.isupper():
            form.press("shift")
        form.press("space" if ch == " " else ch.upper())


def test_list_is_upcoming_soonest_first(demo_services) -> None:
    flow = EventsFlow(demo_services)
    events = flow.load()
    assert [e.title for e in events] == ["Lokakarya Menulis Cerpen", "Dongeng Anak Sabtu Pagi"]


def test_sign_up_with_card_is_committed_before_success(demo_services) -> None:
    flow = EventsFlow(demo_services)
    flow.load()
    flow.select(1)
    assert flow.step == EventsStep.DETAIL
    msg = flow.scan("AGT0001")
    assert msg.severity == Severity.SUCCESS and flow.step == EventsStep.DONE
    row = demo_services.store.row(flow.tx_id)
    assert row is not None and row.tx.kind == Kind.EVENT_REGISTER
    assert row.state == OutboxState.PENDING and row.tx.card == "AGT0001"
    assert flow.ticket  # the QR carries the server ticket or the transaction id


def test_already_registered_card_is_refused(demo_services) -> None:
    flow = EventsFlow(demo_services)
    flow.load()
    flow.select(1)
    msg = flow.scan("AGT0002")  # registered in the snapshot
    assert msg.severity == Severity.ERROR and flow.step == EventsStep.DETAIL


def test_guest_form_validation_then_sign_up(demo_services) -> None:
    flow = EventsFlow(demo_services)
    flow.load()
    flow.select(1)
    flow.start_guest()
    assert flow.step == EventsStep.GUEST
    assert flow.submit_guest().msgid == "Tulis nama Anda."
    _type(flow.form, "Rina Wati")
    assert flow.submit_guest().msgid == "Tulis nomor telepon atau email Anda."
    flow.form.press("next")
    _type(flow.form, "0812")
    assert flow.submit_guest().msgid == "Nomor telepon belum benar."
    _type(flow.form, "3456789")
    flow.form.press("next")
    _type(flow.form, "SMAN 1 Probolinggo")
    msg = flow.submit_guest()
    assert msg.severity == Severity.SUCCESS
    row = demo_services.store.row(flow.tx_id)
    assert row.tx.guest.name == "Rina Wati" and row.tx.guest.phone == "08123456789"
    assert row.tx.guest.institution == "SMAN 1 Probolinggo"
    assert flow.form.values["contact"] == ""  # the phone number leaves the screen


def test_guest_email_and_editing_keys() -> None:
    form = GuestForm()
    _type(form, "Ana")
    form.press("del")
    assert form.values["name"] == "An"
    form.press("next")
    _type(form, "ana@contoh")
    problem = form.validate()
    assert problem is not None and problem.msgid == "Alamat email belum benar."
    _type(form, ".id")
    assert form.validate() is None
    guest = form.guest()
    assert guest.email == "ana@contoh.id" and guest.phone is None


def test_full_event_goes_to_waitlist(demo_services) -> None:
    flow = EventsFlow(demo_services)
    flow.load()
    msg = flow.select(2)
    assert msg.severity == Severity.WARNING
    msg = flow.scan("AGT0001")
    assert flow.result is not None and flow.result.waitlisted
    assert "daftar tunggu" in msg.msgid


def test_scan_before_choosing_an_event(demo_services) -> None:
    flow = EventsFlow(demo_services)
    flow.load()
    assert flow.scan("AGT0001").severity == Severity.INFO
    flow.select(1)
    assert flow.scan("B000101").severity == Severity.ERROR


class FakeSlips:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def print_event(self, **kw) -> None:
        self.calls.append(kw)


def test_slip_carries_ticket_and_masks_nothing_it_should_not(demo_services) -> None:
    slips = FakeSlips()
    demo_services.slips = slips
    flow = EventsFlow(demo_services)
    flow.load()
    flow.select(1)
    flow.scan("AGT0001")
    assert flow.print_slip().severity == Severity.SUCCESS
    (call,) = slips.calls
    assert call["ticket"] == flow.ticket and call["card_number"] == "AGT0001"
    assert call["event_title"] == "Lokakarya Menulis Cerpen" and call["attendee"] == ""
