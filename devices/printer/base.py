"""The printer interface the kiosk talks to, whatever the connection."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.errors import PrinterCoverOpen, PrinterError, PrinterOffline, PrinterOutOfPaper
from devices.base import DeviceState
from devices.receipt import Align, Receipt, Rule, Text


@dataclass(frozen=True, slots=True)
class PrintResult:
    """What happened to one slip.

    ``printed`` is False only for the ``none:`` printer (no printer configured);
    a slip that could not be printed raises a :class:`PrinterError` instead.
    """

    printed: bool
    state: DeviceState
    bytes_sent: int = 0
    preview_path: Path | None = None
    detail: str = ""


def raise_for_state(state: DeviceState, name: str) -> None:
    """Raise the error a patron-facing flow expects for a printer in an error state."""
    if state is DeviceState.PAPER_OUT:
        raise PrinterOutOfPaper(f"printer {name}: paper out")
    if state is DeviceState.COVER_OPEN:
        raise PrinterCoverOpen(f"printer {name}: cover open")
    if state is DeviceState.OFFLINE:
        raise PrinterOffline(f"printer {name}: offline")
    if state is DeviceState.ERROR:
        raise PrinterError(f"printer {name}: reports an error")


def device_test_receipt(name: str, url: str, paper_mm: int) -> Receipt:
    """A minimal test slip built from device facts only (kiosk.slips.test_slip is the full one)."""
    from devices.receipt import Barcode, Columns, QRCode

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Receipt().add(
        Text("TES PRINTER", bold=True, size=2, align=Align.CENTER),
        Rule(),
        Columns("Printer", name),
        Columns("Kertas", f"{paper_mm} mm"),
        Text(url),
        Text(now),
        Rule(),
        Text("ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789"),
        Barcode("TEST-128"),
        QRCode("PK-TEST", size=4),
    )


class Printer(ABC):
    """A receipt printer chosen by URL (see :func:`devices.printer.open_printer`).

    :meth:`print_receipt` raises :class:`PrinterOutOfPaper`,
    :class:`PrinterCoverOpen` or :class:`PrinterOffline` when the slip cannot
    be printed; the caller has already recorded the transaction and keeps it.
    Calls are serialised, so two flows never interleave their slips.
    """

    def __init__(self, name: str, url: str, *, paper_mm: int = 58) -> None:
        self.name = name
        self.url = url
        self.paper_mm = paper_mm
        self.last_state = DeviceState.UNKNOWN
        #: why the printer cannot be used right now, in plain words for staff mode
        #: ("/dev/usb/lp0 does not exist ..."); None while it answers
        self.problem: str | None = None
        self._lock = threading.Lock()

    @abstractmethod
    def _print(self, receipt: Receipt) -> PrintResult: ...

    @abstractmethod
    def _status(self) -> DeviceState: ...

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        """Print one slip, or raise a :class:`PrinterError` saying why it could not be."""
        with self._lock:
            try:
                result = self._print(receipt)
            except PrinterOutOfPaper:
                self.last_state = DeviceState.PAPER_OUT
                raise
            except PrinterCoverOpen:
                self.last_state = DeviceState.COVER_OPEN
                raise
            except PrinterOffline:
                self.last_state = DeviceState.OFFLINE
                raise
            except PrinterError:
                self.last_state = DeviceState.ERROR
                raise
            self.last_state = result.state
            return result

    def status(self) -> DeviceState:
        """Ask the printer now (this does I/O: call it off the UI thread)."""
        with self._lock:
            self.last_state = self._status()
            return self.last_state

    def test_slip(self, receipt: Receipt | None = None) -> PrintResult:
        """Print a test slip (``receipt`` from ``kiosk.slips.test_slip`` or a built-in one)."""
        return self.print_receipt(
            receipt or device_test_receipt(self.name, self.url, self.paper_mm)
        )

    def close(self) -> None:  # noqa: B027 - optional hook, most printers hold nothing open
        """Release the connection (most printers open one per slip, so nothing to do)."""
