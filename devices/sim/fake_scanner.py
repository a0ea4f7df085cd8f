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
import time
from pathlib import Path

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
