"""A fake serial barcode scanner that writes codes into a port, with fault injection.

Works on any pyserial port: a ``loop://`` port shared with the reader, or one
end of a socat pty pair (:class:`SocatPair`) so the reader opens a real tty.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import serial

log = logging.getLogger(__name__)


class FakeSerialScanner:
    """Writes what a serial scanner would send.

    :param port: an open pyserial port, or a URL/path to open with ``serial_for_url``.
    :param suffix: bytes after each code (CR by default, like most scanners).
    """

    def __init__(self, port: serial.SerialBase | str, *, suffix: bytes = b"\r") -> None:
        self.port = serial.serial_for_url(port, timeout=0.2) if isinstance(port, str) else port
        self.suffix = suffix

    def scan(self, code: str, *, char_delay: float = 0.0) -> None:
        """One clean scan. ``char_delay`` spreads the bytes out like a slow UART."""
        data = code.encode("utf-8") + self.suffix
        if char_delay <= 0:
            self.port.write(data)
        else:
            for b in data:
                self.port.write(bytes([b]))
                time.sleep(char_delay)
        self.port.flush()

    def double_scan(self, code: str) -> None:
        """The same code twice in a row (a trigger held too long)."""
        self.scan(code)
        self.scan(code)

    def garbage(self, data: bytes = b"\x00\x1b\xff\xfe\x07noise") -> None:
        """Line noise ending in the suffix (a baud-rate mismatch looks like this)."""
        self.port.write(data + self.suffix)
        self.port.flush()

    def overlong(self, length: int = 1000) -> None:
        """A line far longer than any code (a scanner in a wrong mode)."""
        self.port.write(b"9" * length + self.suffix)
        self.port.flush()

    def half_scan(self, code: str) -> None:
        """The first half of a code with no suffix: call before an unplug."""
        self.port.write(code[: len(code) // 2].encode())
        self.port.flush()

    def close(self) -> None:
        self.port.close()


class SocatPair:
    """A virtual serial cable: ``socat pty,link=A pty,link=B`` (raw, no echo).

    :meth:`unplug` kills socat (the reader's tty goes away, as with a USB
    scanner pulled out); :meth:`plug` starts it again on the same link names.
    """

    def __init__(self, folder: str | Path) -> None:
        if shutil.which("socat") is None:
            raise RuntimeError("socat is not installed (apt-get install socat)")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.kiosk_end = str(folder / "kiosk-tty")
        self.device_end = str(folder / "device-tty")
        self._proc: subprocess.Popen[bytes] | None = None

    def plug(self, timeout: float = 5.0) -> SocatPair:
        for link in (self.kiosk_end, self.device_end):
            Path(link).unlink(missing_ok=True)
        self._proc = subprocess.Popen(
            [
                "socat",
                f"pty,raw,echo=0,link={self.kiosk_end}",
                f"pty,raw,echo=0,link={self.device_end}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not (os.path.exists(self.kiosk_end) and os.path.exists(self.device_end)):
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError("socat did not create its pty links")
            time.sleep(0.01)
        return self

    def unplug(self) -> None:
        proc = self._proc
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(3)
        self._proc = None

    def __enter__(self) -> SocatPair:
        return self.plug()

    def __exit__(self, *exc: object) -> None:
        self.unplug()


def open_fake_scanner(url: str, **kw: Any) -> Any:
    """``fake-scanner:?codes=AGT0000101,B000123&interval=3&faults=garbage,double,overlong``.

    A serial scanner reading a ``loop://`` port that a :class:`FakeSerialScanner`
    writes the listed codes into, one every ``interval`` seconds, in a loop,
    with the listed faults mixed in. For demos on a laptop; used only when configured.
    """
    from devices.scanners.framing import LineFramer
    from devices.scanners.serial_scanner import SerialScanner
    from devices.urls import parse_device_url

    u = parse_device_url(url)
    codes = [c for c in u.options.get("codes", "AGT0000101,B000123").split(",") if c]
    faults = [f for f in u.options.get("faults", "").split(",") if f]
    unknown = set(faults) - {"garbage", "double", "overlong"}
    if unknown:
        from core.errors import ConfigError

        raise ConfigError(f"fake scanner URL {url!r}: unknown faults {sorted(unknown)}")
    port = serial.serial_for_url("loop://", timeout=0.2)
    interval = u.float("interval", 3.0)

    class _Source(SerialScanner):
        def start(self, on_scan: Any) -> None:
            super().start(on_scan)
            self._writer = threading.Thread(target=self._write_loop, daemon=True)
            self._writer.start()

        def _write_loop(self) -> None:
            fake = FakeSerialScanner(port)
            steps = list(codes) + [f"!{f}" for f in faults]
            i = 0
            while not self._stop.wait(interval):
                step = steps[i % len(steps)]
                i += 1
                if step == "!garbage":
                    fake.garbage()
                elif step == "!overlong":
                    fake.overlong()
                elif step == "!double":
                    fake.double_scan(codes[0])
                else:
                    fake.scan(step)

        def stop(self, timeout: float = 2.0) -> None:
            super().stop(timeout)
            writer = getattr(self, "_writer", None)
            if writer is not None:
                writer.join(timeout)

    return _Source(
        str(kw.get("name") or "fake-scanner"),
        "loop://",
        framer=LineFramer(b"\r"),
        port_factory=lambda: port,
        on_state=kw.get("on_state"),
    )
