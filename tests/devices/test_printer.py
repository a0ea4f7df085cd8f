"""Printers: real python-escpos bytes decoded back; the fake printer's faults; PNG previews."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from core.errors import ConfigError, PrinterCoverOpen, PrinterOffline, PrinterOutOfPaper
from devices.base import DeviceState
from devices.printer import open_printer
from devices.printer.decode import decode_bytes
from devices.printer.escpos_printer import DummyPrinter, parse_status
from devices.printer.escpos_render import receipt_bytes
from devices.printer.preview import render_png
from devices.printer.preview_printer import PreviewPrinter
from devices.receipt import Align, Barcode, Columns, Feed, QRCode, Receipt, Rule, Text
from devices.sim.fake_printer import FakeEscposPrinter
from devices.sim.fake_scanner import SocatPair
from tests.helpers import fake_of


def sample() -> Receipt:
    return Receipt().add(
        Text("Perpustakaan Kota Probolinggo", bold=True, align=Align.CENTER),
        Rule(),
        Columns("Laskar Pelangi", "5 Des 2026"),
        Barcode("TX0001"),
        QRCode("PK1.eyJ0IjoxfQ.sig"),
        Feed(1),
    )


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("native", [False, True])
def test_escpos_bytes_decode_back(paper, native):
    data = receipt_bytes(sample(), paper_mm=paper, qr_native=native)
    slip = decode_bytes(data)
    width = 32 if paper == 58 else 48
    assert slip.lines[0] == "Perpustakaan Kota Probolinggo"
    assert slip.lines[1] == "-" * width
    assert slip.lines[2] == "Laskar Pelangi".ljust(width - 10) + "5 Des 2026"
    assert slip.barcodes == [("CODE128", "TX0001")]
    assert slip.qr_codes == ["PK1.eyJ0IjoxfQ.sig"]
    assert slip.cuts == 1
    assert all(len(line) <= width for line in slip.lines)


def test_long_text_wraps_and_double_size_halves_width():
    r = Receipt().add(Text("x" * 40), Text("Peminjaman Mandiri", size=2))
    lines = decode_bytes(receipt_bytes(r)).lines
    assert lines[:2] == ["x" * 32, "x" * 8]
    assert lines[2:4] == ["Peminjaman", "Mandiri"]


def test_parser_is_incremental():
    from devices.printer.decode import EscposParser

    data = receipt_bytes(sample(), qr_native=True)
    parser = EscposParser()
    for i in range(0, len(data), 7):
        parser.feed(data[i : i + 7])
    slip = parser.close()
    assert slip.barcodes == [("CODE128", "TX0001")] and slip.qr_codes == ["PK1.eyJ0IjoxfQ.sig"]


def test_dummy_printer_keeps_bytes():
    p = open_printer("dummy:")
    assert isinstance(p, DummyPrinter)
    res = p.print_receipt(sample())
    assert res.printed and res.bytes_sent == len(p.output)
    assert "Laskar Pelangi" in p.decoded().text()
    assert p.status() is DeviceState.READY


def test_fake_printer_prints_and_reports_faults():
    p = open_printer("fake-printer:", paper_mm=58)
    fake = fake_of(p)
    try:
        assert p.status() is DeviceState.READY
        assert p.print_receipt(sample()).state is DeviceState.READY
        slip = fake.wait_for_slips(1)[0]
        assert "Perpustakaan Kota Probolinggo" in slip
        assert slip.barcodes == [("CODE128", "TX0001")]
        assert slip.qr_codes == ["PK1.eyJ0IjoxfQ.sig"]

        fake.paper_out = True
        assert p.status() is DeviceState.PAPER_OUT
        with pytest.raises(PrinterOutOfPaper) as err:
            p.print_receipt(sample())
        assert "Kertas" in err.value.patron_message
        assert p.last_state is DeviceState.PAPER_OUT

        fake.paper_out, fake.cover_open = False, True
        with pytest.raises(PrinterCoverOpen):
            p.print_receipt(sample())

        fake.cover_open, fake.paper_low = False, True
        assert p.print_receipt(sample()).state is DeviceState.PAPER_LOW

        fake.paper_low, fake.answers_status = False, False
        assert p.status() is DeviceState.UNKNOWN  # silent printer: unknown, not "no paper"
        assert p.print_receipt(sample()).printed
        assert len(fake.wait_for_slips(3)) == 3
    finally:
        fake.stop()
    assert p.status() is DeviceState.OFFLINE
    with pytest.raises(PrinterOffline):
        p.print_receipt(sample())


def test_fake_printer_url_faults():
    p = open_printer("fake-printer:?paper=out")
    try:
        with pytest.raises(PrinterOutOfPaper):
            p.print_receipt(sample())
        assert fake_of(p).slips == []
    finally:
        fake_of(p).stop()


def test_tcp_printer_against_fake():
    with FakeEscposPrinter() as fake:
        p = open_printer(fake.url + "?qr=native", paper_mm=80)
        p.test_slip()
        slip = fake.wait_for_slips(1)[0]
        assert "TES PRINTER" in slip and slip.qr_codes == ["PK-TEST"]


def test_unreachable_tcp_printer_is_offline():
    p = open_printer("tcp://127.0.0.1:1?timeout=0.5")
    assert p.status() is DeviceState.OFFLINE
    with pytest.raises(PrinterOffline):
        p.print_receipt(sample())


def test_file_printer_writes_escpos_and_status_unknown(tmp_path):
    dev = tmp_path / "lp0"
    dev.touch()
    p = open_printer(f"file://{dev}")
    assert p.print_receipt(sample()).state is DeviceState.UNKNOWN
    assert decode_bytes(dev.read_bytes()).barcodes == [("CODE128", "TX0001")]


def test_serial_printer_over_socket_url():
    # socket:// is a pyserial URL: escpos.printer.Serial could not open it.
    with FakeEscposPrinter() as fake:
        p = open_printer(f"socket://127.0.0.1:{fake.port}")
        assert p.status() is DeviceState.READY
        p.print_receipt(sample())
        assert fake.wait_for_slips(1)[0].barcodes == [("CODE128", "TX0001")]


def test_preview_printer_writes_png(tmp_path):
    p = open_printer(f"preview:?dir={tmp_path}/slips", paper_mm=80)
    assert isinstance(p, PreviewPrinter)
    res = p.print_receipt(sample())
    path = p.last_path
    assert path is not None
    assert res.preview_path == path and path.exists()
    img = Image.open(path)
    assert img.width == 576


@pytest.mark.parametrize("paper,width", [(58, 384), (80, 576)])
def test_preview_png_codes_read_back(paper, width):
    zxingcpp = pytest.importorskip("zxingcpp")
    img = render_png(sample(), paper_mm=paper)
    assert img.width == width
    texts = sorted(r.text for r in zxingcpp.read_barcodes(img))
    assert texts == ["PK1.eyJ0IjoxfQ.sig", "TX0001"]


def test_none_printer_and_bad_urls():
    res = open_printer("none:").print_receipt(sample())
    assert not res.printed
    for bad in ("laser://x", "tcp://", "file://", "usb://1234", "nonsense"):
        with pytest.raises((ConfigError, Exception)) as err:
            open_printer(bad)
        assert str(err.value)
    with pytest.raises(ConfigError):
        open_printer("dummy:", paper_mm=70)


def test_parse_status_bits():
    assert parse_status(b"", b"", b"") is DeviceState.UNKNOWN
    assert parse_status(b"\x12", b"\x12", b"\x12") is DeviceState.READY
    assert parse_status(b"\x1a", b"\x16", b"\x12") is DeviceState.COVER_OPEN
    assert parse_status(b"\x1a", b"\x32", b"\x72") is DeviceState.PAPER_OUT
    assert parse_status(b"\x12", b"\x12", b"\x1e") is DeviceState.PAPER_LOW
    assert parse_status(b"\x1a", b"\x12", b"\x12") is DeviceState.OFFLINE


@pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat")
def test_serial_printer_on_a_pty_with_status(tmp_path):
    with SocatPair(tmp_path) as pair, FakeEscposPrinter() as fake:
        fake.serve_serial(pair.device_end)
        p = open_printer(f"serial://{pair.kiosk_end}?baudrate=115200", paper_mm=58)
        assert p.status() is DeviceState.READY
        p.print_receipt(sample())
        slip = fake.wait_for_slips(1)[0]
        assert slip.barcodes == [("CODE128", "TX0001")] and slip.qr_codes == ["PK1.eyJ0IjoxfQ.sig"]
        fake.paper_out = True
        with pytest.raises(PrinterOutOfPaper):
            p.print_receipt(sample())
        pair.unplug()
        assert p.status() is DeviceState.OFFLINE


def test_text_outside_the_code_page_is_made_printable():
    r = Receipt().add(
        Text("Café — ‘kutip’ 日本"), Columns("Bumi Manusia – Pramoedya", "5 Des"), Barcode("Tö")
    )
    lines = decode_bytes(receipt_bytes(r)).lines
    assert lines[0] == "Café - 'kutip' ??"
    assert lines[1].startswith("Bumi Manusia - Pramoedya")
    assert "Tö" in lines  # not Code 128 material: printed as text, not as a broken barcode


def test_silent_printer_answers_unknown_instead_of_hanging():
    import threading

    states: list[DeviceState] = []
    with FakeEscposPrinter(answers_status=False) as fake:
        p = open_printer(fake.url + "?status_timeout=0.2")
        job = threading.Thread(target=lambda: states.append(p.print_receipt(sample()).state))
        job.start()
        job.join(timeout=30)  # a guard against a hang, 150x the status timeout
        assert not job.is_alive(), "print_receipt waited for a status that never comes"
    assert states == [DeviceState.UNKNOWN]


def test_an_absent_printer_is_reported_once_in_plain_words(tmp_path, caplog):
    import logging

    from devices.base import DeviceState
    from devices.printer import open_printer

    printer = open_printer(f"file://{tmp_path}/lp0")
    caplog.set_level(logging.INFO, logger="devices")
    assert printer.status() is DeviceState.OFFLINE
    assert printer.status() is DeviceState.OFFLINE
    assert printer.problem is not None and printer.problem.startswith(f"{tmp_path}/lp0 does not")
    said = [r for r in caplog.records if "does not exist" in r.getMessage()]
    assert len(said) == 1  # the second look stays quiet
