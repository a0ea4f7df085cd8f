"""Camera decoding on generated frames (python-barcode, segno), clean and degraded, and
frames that hold no code at all."""

from __future__ import annotations

import sys
import threading
import time

import pytest

pytest.importorskip("cv2")
pytest.importorskip("zxingcpp")
pytest.importorskip("pyzbar.pyzbar")

import cv2  # noqa: E402

from core.errors import ConfigError, DeviceUnavailable  # noqa: E402
from devices.base import DeviceState, Scan, Symbology  # noqa: E402
from devices.camera import (
    make_decoder,
    synth,  # noqa: E402
)
from devices.camera.cli import main as decode_main  # noqa: E402
from devices.camera.decoders import normalize, require, upca_to_upce  # noqa: E402
from devices.camera.source import CameraScanner, RepeatFilter, SyntheticCapture  # noqa: E402
from devices.scanners import open_scanner  # noqa: E402

DECODERS = ("zxing", "pyzbar", "default")


@pytest.fixture(scope="module")
def decoders():
    return {name: make_decoder(name) for name in DECODERS}


@pytest.fixture(scope="module")
def degraded_set():
    return [
        synth.make_frame(sym, synth.SAMPLES[sym], deg, seed=7)
        for sym in synth.SAMPLES
        for deg in synth.DEGRADATIONS
    ]


def reads(decoder, sample) -> bool:
    return any(
        d.text == sample.data and d.symbology == sample.symbology
        for d in decoder.decode(sample.frame)
    )


@pytest.mark.parametrize("sym", list(synth.SAMPLES))
def test_every_decoder_reads_every_clean_symbology(decoders, sym):
    sample = synth.make_frame(sym, synth.SAMPLES[sym], "clean", seed=3)
    for name in DECODERS:
        assert reads(decoders[name], sample), f"{name} missed clean {sym}"


def test_default_reads_more_of_the_degraded_set_than_either_decoder(decoders, degraded_set):
    rate = {
        name: sum(reads(decoders[name], s) for s in degraded_set) / len(degraded_set)
        for name in DECODERS
    }
    assert rate["default"] > max(rate["zxing"], rate["pyzbar"])
    assert rate["default"] >= 0.9


@pytest.mark.parametrize("kind", synth.NEGATIVE_KINDS)
def test_no_code_reported_where_there_is_none(decoders, kind):
    for seed in range(2):
        frame = synth.negative_frame(kind, seed).frame
        for name in DECODERS:
            assert decoders[name].decode(frame) == [], f"{name} saw a code in {kind}/{seed}"


def test_reads_are_checked_and_normalised():
    assert normalize(Symbology.EAN13, "9786020332957") is None  # wrong check digit
    upca = normalize(Symbology.EAN13, "0036000291452")
    assert upca is not None and upca.symbology is Symbology.UPCA
    upce = normalize(Symbology.UPCE, "0012345000065")
    assert upce is not None and upce.text == "01234565"
    upce = normalize(Symbology.UPCE, "01234565")
    assert upce is not None and upce.text == "01234565"
    assert normalize(Symbology.EAN8, "96385075") is None
    assert normalize(Symbology.CODE39, "AB1") is None  # too short to trust
    assert upca_to_upce("036000291452") is None


def test_small_code_and_colour_frame(decoders):
    sample = synth.make_frame(Symbology.CODE128, "B000123", "small", seed=1)
    colour = cv2.cvtColor(sample.frame, cv2.COLOR_GRAY2BGR)
    assert [d.text for d in decoders["default"].decode(colour)] == ["B000123"]


def test_repeat_filter():
    f = RepeatFilter(1.0)
    assert f.accept("qr", "A", 0.0)
    assert not f.accept("qr", "A", 0.5)
    assert not f.accept("qr", "A", 1.4)  # still in view: never repeats
    assert f.accept("qr", "A", 2.5)
    assert f.accept("qr", "B", 2.5)


def test_camera_source_scans_once_per_presentation_and_keeps_a_preview():
    got: list[Scan] = []
    lock = threading.Lock()

    def on_scan(scan: Scan) -> None:
        with lock:
            got.append(scan)

    url = "camera:synthetic?codes=AGT0000101,PK1.abc.def&interval=0.6&repeat_ms=5000"
    src = open_scanner(url, name="cam")
    assert isinstance(src, CameraScanner)
    src.start(on_scan)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len({s.text for s in got}) < 2:
        time.sleep(0.05)
    frame, seq = src.latest_frame()
    src.stop()
    assert {(s.text, s.symbology) for s in got} >= {
        ("AGT0000101", Symbology.CODE128),
        ("PK1.abc.def", Symbology.QR),
    }
    texts = [s.text for s in got]
    assert texts.count("AGT0000101") == 1  # ~0.6 s of frames (about 9), one scan
    assert frame is not None and frame.shape == (720, 1280) and seq > 0
    assert src.state is DeviceState.OFFLINE


class DeadCamera:
    def __init__(self) -> None:
        self.opened = 0

    def __call__(self):
        self.opened += 1
        return self

    def isOpened(self):  # noqa: N802
        return False

    def read(self):
        return False, None

    def release(self):
        pass


def test_camera_that_cannot_open_is_offline_and_retried():
    dead = DeadCamera()
    states: list[DeviceState] = []
    src = CameraScanner(
        "cam",
        dead,
        decoder=make_decoder("zxing"),
        backoff=0.05,
        on_state=lambda n, s: states.append(s),
    )
    src.start(lambda s: None)
    time.sleep(0.3)
    src.stop()
    assert dead.opened >= 2 and DeviceState.OFFLINE in states


def test_synthetic_capture_paces_frames():
    cap = SyntheticCapture(["B000123"], fps=100)
    ok, frame = cap.read()
    assert ok and frame.shape == (720, 1280)


def test_bad_camera_url():
    with pytest.raises(ConfigError):
        open_scanner("camera:0?decoder=magic")


def test_decode_cli(tmp_path, capsys):
    qr = tmp_path / "ticket.png"
    cv2.imwrite(str(qr), synth.make_frame(Symbology.QR, "PK1.xyz", "clean").frame)
    shelf = tmp_path / "shelf.png"
    cv2.imwrite(str(shelf), synth.negative_frame("shelves").frame)
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    assert decode_main([str(qr), str(shelf)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{qr}\tqr:PK1.xyz", f"{shelf}\t"]
    assert decode_main([str(junk)]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"{junk}\t\n" and "not an image" in captured.err


def test_missing_backend_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    with pytest.raises(DeviceUnavailable, match="pip install zxing-cpp"):
        require("zxingcpp")
    with pytest.raises(DeviceUnavailable):
        make_decoder("zxing")
