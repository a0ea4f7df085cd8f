"""Slip layouts, checked through the printer bytes and the PNG preview."""

from __future__ import annotations

from datetime import UTC, date, datetime

from devices.printer.decode import decode_bytes
from devices.printer.escpos_render import receipt_bytes
from devices.printer.preview import render_png
from kiosk import slips
from kiosk.slips import SlipItem

AT = datetime(2026, 11, 28, 7, 5, tzinfo=UTC)  # 14.05 WIB
LIB = "Perpustakaan Kota Probolinggo"


def decoded(receipt, paper=58):
    return decode_bytes(receipt_bytes(receipt, paper_mm=paper, qr_native=True))


def test_wib_format_and_mask():
    assert slips.format_wib(AT) == "28 Nov 2026 14.05 WIB"
    assert slips.format_wib(datetime(2026, 12, 31, 17, 30), "en") == "1 Jan 2027 00:30 WIB"
    assert slips.format_date(date(2026, 12, 5)) == "5 Des 2026"
    assert slips.mask_card("AGT0000101") == "AGT*****01"
    assert slips.mask_card("AGT01") == "****1"
    assert slips.txn_barcode("0192f5e4-7b1c-7d3e-8a9b-a1b2c3d4e5f6") == "A1B2C3D4E5F6"
    assert slips.txn_barcode("T-42") == "T42"


def test_checkout_slip():
    r = slips.checkout_slip(
        library_name=LIB,
        card_number="AGT0000101",
        items=[
            SlipItem("B000123", "Laskar Pelangi", date(2026, 12, 5)),
            {"barcode": "9786020332956", "title": "Bumi Manusia", "due": date(2026, 12, 5)},
        ],
        txn_id="0192f5e4-7b1c-7d3e-8a9b-a1b2c3d4e5f6",
        at=AT,
        offline=True,
    )
    s = decoded(r)
    assert LIB in s and "28 Nov 2026 14.05 WIB" in s and "LURING (OFFLINE)" in s
    assert "AGT*****01" in s and "AGT0000101" not in s.text()
    assert "Laskar Pelangi" in s and "Bumi Manusia" in s
    assert any(line.startswith("9786020332956") and line.endswith("5 Des 2026") for line in s.lines)
    assert s.barcodes == [("CODE128", "A1B2C3D4E5F6")]


def test_online_slip_has_no_offline_mark_and_translates():
    r = slips.checkout_slip(
        library_name=LIB,
        card_number="AGT0000101",
        items=[SlipItem("B000123", "Laskar Pelangi", date(2026, 12, 5))],
        txn_id="T1",
        at=AT,
        tr=lambda s: {"Jatuh tempo": "Due", "Peminjaman Mandiri": "Checkout"}.get(s, s),
        lang="en",
    )
    s = decoded(r, paper=80)
    assert "LURING" not in s.text() and "Checkout" in s and "Due" in s
    assert "28 Nov 2026 14:05 WIB" in s and "5 Dec 2026" in s.text()


def test_return_event_door_and_test_slips():
    ret = decoded(
        slips.return_slip(
            library_name=LIB, items=[SlipItem("B000123", "Laskar Pelangi")], txn_id="R1", at=AT
        )
    )
    assert "Pengembalian" in ret.text() and "Laskar Pelangi" in ret
    ev = decoded(
        slips.event_registration_slip(
            library_name=LIB,
            event_title="Lokakarya Menulis",
            starts_at=AT,
            ticket="PK1.abc.def",
            txn_id="E1",
            at=AT,
            attendee="Siti",
            location="Aula",
        )
    )
    assert ev.qr_codes == ["PK1.abc.def"] and "Lokakarya Menulis" in ev and "Siti" in ev.text()
    door = decoded(
        slips.door_signin_slip(
            library_name=LIB,
            event_title="Lokakarya",
            at=AT,
            card_number="AGT0000101",
            first_signin_at=AT,
        )
    )
    assert "Sudah hadir pukul 14.05" in door and "AGT*****01" in door
    test = slips.test_slip(
        library_name=LIB, kiosk_name="kiosk-1", printer_url="dummy:", paper_mm=58, at=AT
    )
    assert decoded(test).barcodes == [("CODE128", "TEST-128")]
    assert render_png(test).width == 384
