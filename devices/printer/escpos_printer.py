"""ESC/POS printers over serial, TCP, a device file, USB, or python-escpos's Dummy."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from typing import Any

import serial
from escpos.constants import RT_STATUS, RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy

from core.errors import PrinterError, PrinterOffline
from devices.base import DeviceState
from devices.printer.base import Printer, PrintResult, raise_for_state
from devices.printer.decode import DecodedSlip, decode_bytes
from devices.printer.escpos_render import configure_profile, receipt_bytes
from devices.receipt import Receipt

log = logging.getLogger(__name__)

# DLE EOT 2 (offline cause: cover, feed button, paper-end stop). python-escpos
# has constants for n=1 and n=4 only, so n=2 is built from its RT_STATUS prefix.
RT_STATUS_OFFLINE_CAUSE = RT_STATUS + b"\x02"

# Errors that mean "the link is gone", whatever the connection type.
# queue.Full is what pyserial's loop:// raises when more than its buffer is
# written with nobody reading: for a printer that is the same as a stalled link.
LINK_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    serial.SerialException,
    DeviceNotFoundError,
    queue.Full,
)


class SerialPortPrinter(Escpos):
    """An Escpos connection over a port made by ``serial.serial_for_url``.

    ``escpos.printer.Serial`` opens with ``serial.Serial`` and so cannot use
    ``loop://``, ``socket://`` or ``rfc2217://``; this one takes the URL.
    """

    def __init__(self, url: str, *, baudrate: int = 9600, timeout: float = 0.5, **kw: Any) -> None:
        super().__init__(**kw)
        self.port_url = url
        self.baudrate = baudrate
        self.timeout = timeout

    def open(self, raise_not_found: bool = True) -> None:
        self.device = serial.serial_for_url(
            self.port_url, baudrate=self.baudrate, timeout=self.timeout
        )

    def _raw(self, msg: bytes) -> None:
        # A QR image slip is ~7 KB: 7 s at 9600 baud. Allow the line time plus
        # slack, so a printer holding flow control forever still ends in an error.
        dev = self.device
        dev.write_timeout = len(msg) * 10 / max(self.baudrate, 1) * 1.5 + 5  # type: ignore[attr-defined]
        dev.write(msg)  # type: ignore[attr-defined]

    def _read(self) -> bytes:
        return bytes(self.device.read(1))  # type: ignore[attr-defined]

    def close(self) -> None:
        dev: Any = getattr(self, "_device", False)
        if dev:
            try:
                dev.flush()  # type: ignore[attr-defined]
                dev.close()  # type: ignore[attr-defined]
            except (OSError, serial.SerialException) as exc:
                log.debug("closing %s: %s", self.port_url, exc)
        self._device = False


def parse_status(online: bytes, cause: bytes, paper: bytes) -> DeviceState:
    """Map DLE EOT 1/2/4 replies to a state. An empty reply means the printer does
    not answer status queries: UNKNOWN, never folded into an error."""
    if not online:
        return DeviceState.UNKNOWN
    if online[0] & 0x08:  # offline
        if cause and cause[0] & 0x04:
            return DeviceState.COVER_OPEN
        if cause and cause[0] & 0x20:
            return DeviceState.PAPER_OUT
        if paper and paper[0] & 0x60:
            return DeviceState.PAPER_OUT
        return DeviceState.OFFLINE
    if paper:
        if paper[0] & 0x60:
            return DeviceState.PAPER_OUT
        if paper[0] & 0x0C:
            return DeviceState.PAPER_LOW
    return DeviceState.READY


def open_problem(url: str, exc: BaseException) -> str:
    """Why a printer would not open, in the words staff need ("... does not exist")."""
    text = str(exc)
    target = url.split("://", 1)[-1].split("?", 1)[0]
    if isinstance(exc, FileNotFoundError) or "No such file" in text:
        return f"{target or url} does not exist (is the printer plugged in and switched on?)"
    if isinstance(exc, PermissionError) or "Permission denied" in text:
        return f"{target}: permission denied (a udev rule or the lp group gives the kiosk access)"
    if isinstance(exc, ConnectionRefusedError) or "refused" in text.lower():
        return f"{target} refuses the connection (is the printer on and on the network?)"
    if isinstance(exc, TimeoutError) or "timed out" in text.lower():
        return f"{target} does not answer (is the printer on and on the network?)"
    return f"cannot open {url}: {text}"


class EscposPrinter(Printer):
    """A python-escpos connection made fresh for each slip by ``connect``.

    A fresh connection per slip survives printer reboots and unplugs without a
    reconnect loop. When ``query_status`` is on, the printer is asked for its
    state before each slip and an error state raises instead of printing.
    """

    def __init__(
        self,
        name: str,
        url: str,
        connect: Callable[[], Escpos],
        *,
        paper_mm: int = 58,
        qr_native: bool = False,
        query_status: bool = True,
        status_timeout: float = 0.5,
    ) -> None:
        super().__init__(name, url, paper_mm=paper_mm)
        self.connect = connect
        self.qr_native = qr_native
        self.query_status = query_status
        self.status_timeout = status_timeout

    def _open(self) -> Escpos:
        try:
            conn = self.connect()
            configure_profile(conn, self.paper_mm)
            conn.open()
            return conn
        except LINK_ERRORS as exc:
            raise PrinterOffline(
                f"printer {self.name} ({self.url}) cannot be opened: {exc}"
            ) from exc

    def _ask(self, conn: Escpos, query: bytes) -> bytes:
        try:
            dev: Any = conn.device
            # A printer that never answers must cost half a second, not the
            # connection's own (longer) timeout, on every slip.
            if hasattr(dev, "settimeout"):
                dev.settimeout(self.status_timeout)
            elif hasattr(dev, "reset_input_buffer"):
                dev.timeout = self.status_timeout
            if hasattr(dev, "reset_input_buffer"):
                dev.reset_input_buffer()  # drop stale replies before asking
            return bytes(conn.query_status(query))[:1]
        except (TimeoutError, NotImplementedError):
            return b""

    def _query(self, conn: Escpos) -> DeviceState:
        online = self._ask(conn, RT_STATUS_ONLINE)
        if not online:
            return DeviceState.UNKNOWN
        cause = self._ask(conn, RT_STATUS_OFFLINE_CAUSE)
        paper = self._ask(conn, RT_STATUS_PAPER)
        return parse_status(online, cause, paper)

    def _status(self) -> DeviceState:
        try:
            conn = self._open()
        except PrinterOffline as exc:
            problem = open_problem(self.url, exc.__cause__ or exc)
            if problem != self.problem:
                # Said once in plain words; asking again later stays quiet.
                log.warning("printer %s: %s", self.name, problem)
                self.problem = problem
            return DeviceState.OFFLINE
        if self.problem is not None:
            log.warning("printer %s: %s answers again", self.name, self.url)
            self.problem = None
        try:
            return self._query(conn) if self.query_status else DeviceState.UNKNOWN
        except LINK_ERRORS as exc:
            log.info("printer %s status: %s", self.name, exc)
            return DeviceState.OFFLINE
        finally:
            conn.close()

    def _print(self, receipt: Receipt) -> PrintResult:
        try:
            data = receipt_bytes(receipt, paper_mm=self.paper_mm, qr_native=self.qr_native)
        except (EscposError, ValueError) as exc:
            raise PrinterError(f"slip cannot be rendered for {self.name}: {exc}") from exc
        conn = self._open()
        try:
            state = self._query(conn) if self.query_status else DeviceState.UNKNOWN
            raise_for_state(state, self.name)
            conn._raw(data)
        except LINK_ERRORS as exc:
            raise PrinterOffline(f"printer {self.name} lost while printing: {exc}") from exc
        finally:
            conn.close()
        # A printer that does not answer status queries stays UNKNOWN, not READY.
        return PrintResult(True, state, len(data))


class DummyPrinter(EscposPrinter):
    """``dummy:`` — python-escpos ``Dummy``; every slip's bytes are kept in :attr:`output`."""

    def __init__(self, name: str = "dummy", url: str = "dummy:", **kw: Any) -> None:
        self.dummy = Dummy()
        super().__init__(name, url, lambda: self.dummy, query_status=False, **kw)
        self.outputs: list[bytes] = []

    def _open(self) -> Escpos:
        configure_profile(self.dummy, self.paper_mm)
        return self.dummy

    def _print(self, receipt: Receipt) -> PrintResult:
        before = len(self.dummy.output)
        super()._print(receipt)
        data = bytes(self.dummy.output[before:])
        self.outputs.append(data)
        return PrintResult(True, DeviceState.READY, len(data))

    def _status(self) -> DeviceState:
        return DeviceState.READY

    @property
    def output(self) -> bytes:
        return bytes(self.dummy.output)

    def decoded(self) -> DecodedSlip:
        """Everything printed so far, decoded back into lines, barcodes and QR codes."""
        return decode_bytes(self.output)
