"""``camera:0?width=1280&height=720`` — a camera as a scanner.

Two daemon threads: one captures frames (keeping only the latest, so decoding
never lags behind the camera), one decodes the latest frame. The same code
seen again within ``repeat_ms`` is dropped (a card held in front of the
camera is one scan, not thirty a second). :meth:`latest_frame` gives the UI
the newest frame for an on-screen preview.

``camera:synthetic?codes=AGT0000101,B000123`` is a fake camera (generated
frames), for demos and tests; it is used only when configured.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import numpy as np

from core.errors import ConfigError
from devices.base import DeviceState, Scan, StateCallback
from devices.camera import make_decoder
from devices.camera.decoders import Decoder, require
from devices.camera.pipeline import LIVE_BUDGET_MS, LIVE_RESCUE_MS
from devices.scanners._thread import ThreadedSource
from devices.urls import parse_device_url

log = logging.getLogger(__name__)

#: The default pipeline's limits on the live camera.
LIVE = {"budget_ms": LIVE_BUDGET_MS, "rescue_ms": LIVE_RESCUE_MS}


class Capture(Protocol):
    """What the source needs from ``cv2.VideoCapture`` (fakes implement the same)."""

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's name

    def read(self) -> tuple[bool, Any]: ...

    def release(self) -> None: ...


class RepeatFilter:
    """Drops a code seen again within ``window_s``; a code kept in view never repeats."""

    def __init__(self, window_s: float = 1.5) -> None:
        self.window_s = window_s
        self._last: dict[tuple[str, str], float] = {}

    def accept(self, symbology: str, text: str, now: float) -> bool:
        key = (symbology, text)
        last = self._last.get(key)
        self._last[key] = now
        if len(self._last) > 256:  # forget old codes so memory stays bounded
            cutoff = now - self.window_s
            self._last = {k: t for k, t in self._last.items() if t >= cutoff}
        return last is None or now - last > self.window_s


class CameraScanner(ThreadedSource):
    """Camera + decoder as a :class:`ScanSource`."""

    def __init__(
        self,
        name: str,
        capture_factory: Callable[[], Capture],
        *,
        decoder: Decoder | None = None,
        repeat_ms: float = 1500,
        backoff: float = 2.0,
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(name, on_state=on_state)
        self.capture_factory = capture_factory
        self.decoder = decoder if decoder is not None else make_decoder("default", **LIVE)
        self.repeats = RepeatFilter(repeat_ms / 1000)
        self.backoff = backoff
        self.frames_captured = 0
        self.frames_decoded = 0
        self._frame: np.ndarray | None = None
        self._frame_seq = 0
        self._cond = threading.Condition()
        self._decoder_thread: threading.Thread | None = None

    def latest_frame(self) -> tuple[np.ndarray | None, int]:
        """The newest frame (BGR or grey, not a copy: do not modify) and its sequence number."""
        with self._cond:
            return self._frame, self._frame_seq

    def start(self, on_scan: Any) -> None:
        super().start(on_scan)
        self._decoder_thread = threading.Thread(
            target=self._decode_loop, name=f"decode-{self.name}", daemon=True
        )
        self._decoder_thread.start()

    def _interrupt(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def stop(self, timeout: float = 2.0) -> None:
        super().stop(timeout)
        t = self._decoder_thread
        if t is not None:
            t.join(timeout)
        self._decoder_thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._set_state(DeviceState.CONNECTING)
            cap = self.capture_factory()
            if not cap.isOpened():
                log.warning("camera %s: cannot open", self.name)
                self._set_state(DeviceState.OFFLINE)
                cap.release()
                self._stop.wait(self.backoff)
                continue
            self._set_state(DeviceState.READY)
            failures = 0
            try:
                while not self._stop.is_set():
                    ok, frame = cap.read()  # blocks until the camera delivers a frame
                    if not ok or frame is None:
                        failures += 1
                        if failures >= 10:  # unplugged: reopen
                            log.warning("camera %s: no frames, reopening", self.name)
                            self._set_state(DeviceState.OFFLINE)
                            break
                        self._stop.wait(0.05)
                        continue
                    failures = 0
                    with self._cond:
                        self._frame = frame
                        self._frame_seq += 1
                        self.frames_captured += 1
                        self._cond.notify_all()
            finally:
                cap.release()
            self._stop.wait(self.backoff if failures else 0)
        self._set_state(DeviceState.OFFLINE)

    def _has_news(self, seen: int) -> bool:
        return self._frame_seq != seen or self._stop.is_set()

    def _decode_loop(self) -> None:
        cv2 = require("cv2")
        seen = 0
        while not self._stop.is_set():
            with self._cond:
                self._cond.wait_for(partial(self._has_news, seen), 0.5)
                frame, seq = self._frame, self._frame_seq
            if frame is None or seq == seen:
                continue
            seen = seq
            gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            try:
                found = self.decoder.decode(gray)
            except Exception:  # a decoder bug must not end scanning; log it and go on
                log.exception("camera %s: decoder failed", self.name)
                continue
            self.frames_decoded += 1
            now = time.monotonic()
            for d in found:
                if self.repeats.accept(d.symbology, d.text, now):
                    self._emit(Scan(d.text, d.symbology, self.name))


class SyntheticCapture:
    """A fake camera: frames holding each configured code in turn, with empty frames between."""

    def __init__(self, codes: list[str], *, interval: float = 2.0, fps: float = 15.0) -> None:
        from devices.base import Symbology
        from devices.camera.synth import make_frame, negative_frame

        self.frames: list[np.ndarray] = []
        for i, code in enumerate(codes):
            sym = Symbology.QR if not code.isalnum() else Symbology.CODE128
            if code.isdigit() and len(code) == 13:
                sym = Symbology.EAN13
            self.frames.append(make_frame(sym, code, "clean", i).frame)
            self.frames.append(negative_frame("gradient", i).frame)
        if not self.frames:
            self.frames.append(negative_frame("gradient").frame)
        self.interval = interval
        self.period = 1.0 / fps
        self._t0 = time.monotonic()
        self._open = True

    def isOpened(self) -> bool:  # noqa: N802
        return self._open

    def read(self) -> tuple[bool, Any]:
        time.sleep(self.period)  # pace like a real camera
        k = int((time.monotonic() - self._t0) / self.interval) % len(self.frames)
        return True, self.frames[k]

    def release(self) -> None:
        self._open = False


def open_camera(url: str, **kw: Any) -> CameraScanner:
    """``camera:0?width=1280&height=720&decoder=default&repeat_ms=1500&budget_ms=60&rescue_ms=150``
    (the decoder's limits: see ``devices.camera.pipeline.DefaultDecoder``);
    ``camera:/dev/video2`` or a video file path; ``camera:synthetic?codes=A,B&interval=2``."""
    u = parse_device_url(url)
    target = u.target or "0"
    decoder_name = u.options.get("decoder", "default")
    if decoder_name not in ("default", "zxing", "pyzbar"):
        raise ConfigError(f"camera URL {url!r}: decoder must be default, zxing or pyzbar")
    dkw: dict[str, Any] = {}
    if decoder_name == "default":
        dkw["budget_ms"] = u.float("budget_ms", LIVE["budget_ms"])
        dkw["rescue_ms"] = u.float("rescue_ms", LIVE["rescue_ms"])
    decoder = make_decoder(decoder_name, **dkw)
    factory: Callable[[], Capture]
    if target == "synthetic":
        codes = [c for c in u.options.get("codes", "AGT0000101").split(",") if c]
        interval = u.float("interval", 2.0)
        factory = lambda: SyntheticCapture(codes, interval=interval)  # noqa: E731
    else:
        cv2 = require("cv2")
        width, height = u.int("width", 1280), u.int("height", 720)
        dev: int | str = int(target) if target.isdigit() else target

        def factory() -> Capture:
            cap = cv2.VideoCapture(dev)
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep latency low: newest frame only
            return cap  # type: ignore[no-any-return]

    return CameraScanner(
        str(kw.get("name") or "camera"),
        factory,
        decoder=decoder,
        repeat_ms=u.float("repeat_ms", 1500),
        on_state=kw.get("on_state"),
    )
