"""stdin: source, the scanner hub, and the URL factory."""

from __future__ import annotations

import io
import os
import threading

import pytest
import serial

from core.errors import ConfigError
from devices.base import DeviceState, Scan, ScanSource, Symbology
from devices.scanners import ScannerHub, open_scanner
from devices.scanners.stdin import StdinScanner
from devices.sim.fake_scanner import FakeSerialScanner
from devices.wedge import KeyboardWedge


def wait_for(pred, timeout=5.0):
    ev = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if pred():
            return True
        ev.wait(0.01)
    return pred()


def test_stdin_lines_are_scans():
    got: list[Scan] = []
    src = open_scanner(
        "stdin:?max_length=20", stream=io.StringIO("AGT0000101\n\n  B000123 \r\n" + "Z" * 30 + "\n")
    )
    src.start(got.append)
    assert wait_for(lambda: src.state is DeviceState.OFFLINE and len(got) == 3)
    assert [s.text for s in got[:2]] == ["AGT0000101", "B000123"]
    assert got[2].symbology is Symbology.UNREADABLE and len(got[2].text) == 20


def test_stdin_on_a_pipe_stops_promptly():
    r, w = os.pipe()
    stream = os.fdopen(r, "r")
    got: list[Scan] = []
    src = StdinScanner(stream=stream)
    src.start(got.append)
    os.write(w, b"STF0001\n")
    assert wait_for(lambda: [s.text for s in got] == ["STF0001"])
    src.stop(timeout=1.0)  # no more input: select() lets the thread see the stop event
    assert src.state is DeviceState.OFFLINE
    os.close(w)
    stream.close()


def test_hub_merges_sources_and_reports_states():
    port = serial.serial_for_url("loop://", timeout=0.2)
    got: list[Scan] = []
    states: list[tuple[str, DeviceState]] = []

    def opener(url, **kw):
        if url.startswith("loop"):
            kw["port_factory"] = lambda: port
        return open_scanner(url, **kw)

    hub = ScannerHub.from_urls(
        ["wedge:", "loop://", "stdin:"], opener=opener, on_state=lambda n, s: states.append((n, s))
    )
    # stdin would read the test runner's stdin: swap its stream for a string.
    stdin_src = hub.source("stdin")
    assert isinstance(stdin_src, StdinScanner)
    stdin_src.stream = io.StringIO("B000555\n")
    hub.start(got.append)
    wedge = hub.source("wedge")
    assert isinstance(wedge, KeyboardWedge)
    for i, c in enumerate("AGT0000101"):
        wedge.feed_key(c, i * 0.005)
    wedge.feed_key("enter", 0.06)
    FakeSerialScanner(port).scan("B000123")
    assert wait_for(lambda: len(got) == 3)
    assert sorted((s.source, s.text) for s in got) == [
        ("loop", "B000123"),
        ("stdin", "B000555"),
        ("wedge", "AGT0000101"),
    ]
    st = hub.states()
    assert st["wedge"] is DeviceState.READY and st["loop"] is DeviceState.READY
    hub.stop()
    assert hub.states()["loop"] is DeviceState.OFFLINE
    assert ("loop", DeviceState.READY) in states


class Broken:
    name = "broken"
    state = DeviceState.UNKNOWN

    def start(self, on_scan):
        raise OSError("no such device")

    def stop(self, timeout=2.0):
        pass


def test_hub_survives_a_source_that_fails_to_start():
    assert isinstance(Broken(), ScanSource)
    hub = ScannerHub([Broken(), KeyboardWedge()])
    hub.start(lambda s: None)
    assert hub.states() == {"broken": DeviceState.ERROR, "wedge": DeviceState.READY}
    hub.stop()


def test_unknown_scheme_names_the_choices():
    with pytest.raises(ConfigError, match="wedge"):
        open_scanner("barcode:1")
    with pytest.raises(ConfigError):
        open_scanner("no-scheme")


def test_stdin_pipe_with_several_lines_in_one_write():
    # Several lines arriving at once must all come out now, not at the next write.
    r, w = os.pipe()
    stream = os.fdopen(r, "r")
    got: list[Scan] = []
    src = StdinScanner(stream=stream)
    src.start(got.append)
    os.write(w, b"AGT0000101\nB000123\nB000124\n")
    assert wait_for(lambda: len(got) == 3)
    os.write(w, b"tail-without-newline")
    os.close(w)
    assert wait_for(lambda: src.state is DeviceState.OFFLINE)
    assert [s.text for s in got] == ["AGT0000101", "B000123", "B000124", "tail-without-newline"]
    stream.close()


def test_scanner_needing_a_missing_package_names_it(monkeypatch):
    import sys

    from core.errors import DeviceUnavailable

    for mod in [m for m in sys.modules if m.startswith("devices.camera")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(DeviceUnavailable, match="numpy"):
        open_scanner("camera:0")
