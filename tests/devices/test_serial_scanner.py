"""Serial scanners: loop://, a socat pty pair with unplug/replug, and fuzzed framing."""

from __future__ import annotations

import logging
import shutil
import threading
import time

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from devices.base import DeviceState, Scan, Symbology
from devices.scanners import open_scanner
from devices.scanners.framing import LineFramer, parse_terminator
from devices.scanners.serial_scanner import SerialScanner
from devices.sim.fake_scanner import FakeSerialScanner, SocatPair


class Collector:
    def __init__(self) -> None:
        self.scans: list[Scan] = []
        self.states: list[DeviceState] = []
        self.cond = threading.Condition()

    def on_scan(self, scan: Scan) -> None:
        with self.cond:
            self.scans.append(scan)
            self.cond.notify_all()

    def on_state(self, name: str, state: DeviceState) -> None:
        with self.cond:
            self.states.append(state)
            self.cond.notify_all()

    def wait(self, pred, timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(pred, timeout)

    def texts(self) -> list[str]:
        return [s.text for s in self.scans]


def test_loop_scanner_with_faults():
    port = serial.serial_for_url("loop://", timeout=0.2)
    got = Collector()
    src = open_scanner("loop://", port_factory=lambda: port, name="ser", on_state=got.on_state)
    src.start(got.on_scan)
    fake = FakeSerialScanner(port)
    fake.scan("AGT0000101")
    fake.garbage()
    fake.overlong(2000)
    fake.double_scan("B000123")
    fake.scan("9786020332956", char_delay=0.001)
    assert got.wait(lambda: len(got.scans) >= 6)
    src.stop()
    assert got.texts()[0] == "AGT0000101"
    assert [s.symbology for s in got.scans[1:3]] == [Symbology.UNREADABLE] * 2
    assert got.texts()[3:] == ["B000123", "B000123", "9786020332956"]
    assert all(s.source == "ser" for s in got.scans)
    assert got.states[:2] == [DeviceState.CONNECTING, DeviceState.READY]
    assert src.state is DeviceState.OFFLINE


def test_missing_port_goes_offline_and_keeps_retrying(tmp_path, caplog):
    got = Collector()
    src = open_scanner(f"serial://{tmp_path}/nope?baudrate=9600", on_state=got.on_state)
    assert isinstance(src, SerialScanner)
    attempts = []
    opener = src.port_factory

    def counting_opener():
        attempts.append(1)
        return opener()

    src.port_factory = counting_opener
    caplog.set_level(logging.INFO, logger="devices")
    src.start(got.on_scan)
    assert got.wait(lambda: len(attempts) >= 3)
    # Said once, in plain words; the retries after it change no state and log nothing.
    assert src.problem == f"{tmp_path}/nope does not exist (is the scanner plugged in?)"
    assert got.states == [DeviceState.CONNECTING, DeviceState.OFFLINE]
    said = [r.getMessage() for r in caplog.records if "does not exist" in r.getMessage()]
    assert len(said) == 1
    reader = src._thread
    assert reader is not None
    src.stop(timeout=2)
    assert not reader.is_alive()  # the retry wait is interruptible: stop ended the thread
    assert src.state is DeviceState.OFFLINE


@pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat")
def test_socat_pty_unplug_and_replug(tmp_path):
    pair = SocatPair(tmp_path).plug()
    got = Collector()
    src = open_scanner(f"serial://{pair.kiosk_end}?suffix=CR", name="pty", on_state=got.on_state)
    assert isinstance(src, SerialScanner)
    src.start(got.on_scan)
    try:
        assert got.wait(lambda: src.state is DeviceState.READY)
        fake = FakeSerialScanner(pair.device_end)
        fake.scan("AGT0000101")
        assert got.wait(lambda: got.texts() == ["AGT0000101"])
        fake.half_scan("B000999")  # unplugged mid-scan: the half must never surface
        time.sleep(0.05)
        fake.close()
        pair.unplug()
        assert got.wait(lambda: src.state is not DeviceState.READY)
        pair.plug()
        assert got.wait(lambda: src.state is DeviceState.READY, timeout=10)
        fake = FakeSerialScanner(pair.device_end)
        fake.scan("B000123")
        assert got.wait(lambda: "B000123" in got.texts())
        fake.close()
    finally:
        src.stop()
        pair.unplug()
    assert got.texts() == ["AGT0000101", "B000123"]
    assert DeviceState.OFFLINE in got.states
    assert src.reconnects >= 1


def test_bad_scanner_urls():
    for bad in ("serial://", "loop://?suffix=0xZZ", "serial:///dev/x?baudrate=fast", "fax:1"):
        with pytest.raises(ConfigError):
            open_scanner(bad)


def test_terminators():
    assert parse_terminator("CR") == b"\r" and parse_terminator("crlf") == b"\r\n"
    assert parse_terminator("0x03") == b"\x03" and parse_terminator("#") == b"#"
    with pytest.raises(ValueError):
        parse_terminator("0xZZ")


def test_framer_custom_terminator_prefix_and_aim():
    f = LineFramer(b"\x03", prefix="\x02", aim=True)
    frames = f.feed(b"\x02]C0B000123\x03\x02]E09786020332956\x03")
    assert [(x.text, x.symbology) for x in frames] == [
        ("B000123", Symbology.CODE128),
        ("9786020332956", Symbology.EAN13),
    ]


codes = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.lists(codes, max_size=10), st.sampled_from(["CR", "LF", "CRLF", "ETX"]), st.data())
def test_fuzz_framing_any_chunking(codes_, term, data):
    t = parse_terminator(term)
    stream = b"".join(c.encode() + t for c in codes_)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    f = LineFramer(t)
    out = []
    prev = 0
    for c in [*cuts, len(stream)]:
        out += f.feed(stream[prev:c])
        prev = c
    assert [x.text for x in out] == codes_
    assert all(x.symbology is Symbology.UNKNOWN for x in out)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([b"\r", b"\n", b"\r\n", b"\x03"]))
def test_fuzz_framing_never_raises_and_bounds_output(blob, term):
    f = LineFramer(term, max_length=64)
    for i in range(0, len(blob), 97):
        for frame in f.feed(blob[i : i + 97]):
            assert len(frame.text) <= 64
            if frame.symbology is not Symbology.UNREADABLE:
                assert frame.text.isprintable()


def test_fake_scanner_url_scans_codes_and_faults():
    got = Collector()
    src = open_scanner("fake-scanner:?codes=AGT0000101,B000123&interval=0.05&faults=garbage,double")
    src.start(got.on_scan)
    assert got.wait(lambda: len(got.scans) >= 5)
    src.stop()
    assert got.texts()[:2] == ["AGT0000101", "B000123"]
    assert got.scans[2].symbology is Symbology.UNREADABLE
    assert got.texts()[3:5] == ["AGT0000101", "AGT0000101"]
    with pytest.raises(ConfigError):
        open_scanner("fake-scanner:?faults=fire")
