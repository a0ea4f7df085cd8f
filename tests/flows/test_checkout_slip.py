"""The checkout slip, printed through the flow to a fake ESC/POS printer and
decoded back from the bytes it received; and a printer out of paper, which
must leave the loan standing and tell the patron plainly."""

from __future__ import annotations

import pytest

from devices.printer import open_printer
from kiosk.config import OfflinePolicy
from kiosk.flows.base import Services, Severity
from kiosk.flows.checkout import CheckoutFlow
from kiosk.slip_service import SlipPrinter
from sync.decider import Decider
from sync.store import LocalStore, OutboxState
from tests.demo_library import library_snapshot
from tests.helpers import fake_of, kiosk_keys


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
    s.apply_snapshot(library_snapshot())
    yield s
    s.close()


def _borrow(store: LocalStore, printer) -> CheckoutFlow:
    slips = SlipPrinter(printer, library_name="Perpustakaan Kota Probolinggo", kiosk_name="k1")
    services = Services(
        decider=Decider(store, None, None, OfflinePolicy()), store=store, slips=slips
    )
    flow = CheckoutFlow(services)
    flow.scan("AGT0001")
    flow.scan("B000101")
    flow.scan("B000102")
    flow.finish()
    flow.choose_slip(True)
    return flow


def test_slip_carries_titles_due_dates_masked_card_and_offline_mark(store):
    printer = open_printer("fake-printer:")
    try:
        flow = _borrow(store, printer)
        slip = fake_of(printer).wait_for_slips(1)[0]
    finally:
        printer.close()
        fake_of(printer).stop()
    text = slip.text()
    assert "Perpustakaan Kota Probolinggo" in text
    assert "Laskar Pelangi" in text and "Bumi Manusia" in text
    assert "AGT**01" in text and "AGT0001" not in text
    assert "LURING" in text.upper() or "OFFLINE" in text.upper()
    assert " WIB" in text
    assert slip.barcodes, "the transaction id is printed as a barcode"
    assert slip.cuts == 1
    assert flow.message.severity == Severity.SUCCESS


def test_paper_out_keeps_the_loans(store):
    printer = open_printer("fake-printer:?paper=out")
    try:
        flow = _borrow(store, printer)
    finally:
        printer.close()
        fake_of(printer).stop()
    assert flow.slip_message is not None and flow.slip_message.severity == Severity.WARNING
    assert "Kertas" in flow.message.msgid and "tercatat" in flow.message.msgid
    rows = store.rows()
    assert [r.tx.item for r in rows] == ["B000101", "B000102"]
    assert all(r.state == OutboxState.PENDING for r in rows)
