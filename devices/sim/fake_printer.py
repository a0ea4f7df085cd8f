"""A fake ESC/POS printer on 127.0.0.1 (or a serial pty): parses what it gets, answers status.

Faults are injected by setting attributes (``paper_out``, ``paper_low``,
``cover_open``, ``offline``, ``answers_status``) while it runs. Printed slips
are decoded back (:class:`DecodedSlip`) so tests assert on lines, barcodes and
QR contents, not bytes.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import serial

from devices.printer.decode import DecodedSlip, EscposParser, zxing_image_decoder
from devices.urls import DeviceURL

log = logging.getLogger(__name__)

_FIXED = 0x12  # bits 1 and 4 are always set in DLE EOT replies


class FakeEscposPrinter:
    """A TCP "printer" (raw port, like port 9100) for tests and demos."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        paper_out: bool = False,
        paper_low: bool = False,
        cover_open: bool = False,
        offline: bool = False,
        answers_status: bool = True,
    ) -> None:
        self.host = host
        self.paper_out = paper_out
        self.paper_low = paper_low
        self.cover_open = cover_open
        self.offline = offline
        self.answers_status = answers_status
        self.slips: list[DecodedSlip] = []
        self.status_queries: list[int] = []
        self.raw = bytearray()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._sock = socket.create_server((host, port))
        self._sock.settimeout(0.2)  # accept() wakes up to see the stop event
        self.port: int = self._sock.getsockname()[1]
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    # -- status ---------------------------------------------------------------
    def status_byte(self, n: int) -> int | None:
        """The reply to ``DLE EOT n`` (``None``: the printer stays silent)."""
        if not self.answers_status:
            return None
        stopped = self.offline or self.cover_open or self.paper_out
        if n == 1:
            return _FIXED | (0x08 if stopped else 0)
        if n == 2:
            return _FIXED | (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
        if n == 3:
            return _FIXED
        if n == 4:
            return _FIXED | (0x60 if self.paper_out else 0) | (0x0C if self.paper_low else 0)
        if n == 0x101:  # GS r 1: paper sensor
            return (0x0C if self.paper_out else 0) | (0x03 if self.paper_low else 0)
        return _FIXED

    # -- server -------------------------------------------------------------
    def start(self) -> FakeEscposPrinter:
        t = threading.Thread(target=self._serve, name=f"fake-printer-{self.port}", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            t = threading.Thread(target=self._client, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _client(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)

        def recv() -> bytes | None:
            try:
                return conn.recv(65536) or None  # b"": the kiosk closed the connection
            except TimeoutError:
                return b""
            except OSError:
                return None

        with conn:
            self._handle(recv, conn.sendall)

    def serve_serial(self, port: str | serial.SerialBase) -> FakeEscposPrinter:
        """Also listen on a serial port (e.g. the device end of a :class:`SocatPair`)."""
        link = serial.serial_for_url(port, timeout=0.1) if isinstance(port, str) else port

        def recv() -> bytes | None:
            try:
                return bytes(link.read(link.in_waiting or 1))
            except (serial.SerialException, OSError, TypeError):
                return None

        def run() -> None:
            try:
                self._handle(recv, link.write)
            finally:
                link.close()

        t = threading.Thread(target=run, name="fake-printer-serial", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _handle(self, recv: Callable[[], bytes | None], send: Callable[[bytes], Any]) -> None:
        """Parse what arrives, answering status queries at once, until the link closes."""

        def answer(n: int) -> None:
            self.status_queries.append(n)
            reply = self.status_byte(n)
            if reply is not None:
                send(bytes([reply]))

        parser = EscposParser(on_status=answer, image_decoder=zxing_image_decoder)
        while not self._stop.is_set():
            data = recv()
            if data is None:
                break
            if not data:
                continue
            with self._cond:
                self.raw.extend(data)
                done = len(parser.slips)
                parser.feed(data)
                if self.paper_out or self.cover_open:
                    # A stopped printer takes the bytes but prints nothing.
                    del parser.slips[done:]
                self.slips.extend(parser.slips[done:])
                self._cond.notify_all()

    def wait_for_slips(self, count: int = 1, timeout: float = 5.0) -> list[DecodedSlip]:
        """Block until ``count`` slips have been cut (or ``timeout``); returns all slips."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.slips) >= count, timeout)
            return list(self.slips)

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        try:
            self._sock.close()
        except OSError as exc:
            log.debug("fake printer close: %s", exc)
        for t in self._threads:
            t.join(timeout)

    def __enter__(self) -> FakeEscposPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_fake_printer(u: DeviceURL, *, name: str, **common: Any) -> Any:
    """``fake-printer:?paper=out|low&cover=open&status=0`` → an EscposPrinter on a started fake.

    The fake is reachable as ``printer.fake`` so a demo or test can inject faults.
    """
    from escpos.printer import Network

    from devices.printer.escpos_printer import EscposPrinter

    paper = u.options.get("paper", "").lower()
    fake = FakeEscposPrinter(
        paper_out=paper == "out",
        paper_low=paper == "low",
        cover_open=u.options.get("cover", "").lower() == "open",
        answers_status=u.bool("status", True),
    ).start()
    printer = EscposPrinter(
        name, u.raw, lambda: Network(fake.host, fake.port, timeout=1.0), **common
    )
    printer.fake = fake  # type: ignore[attr-defined]
    return printer
