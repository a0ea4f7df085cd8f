"""The small interfaces between devices and the rest of the kiosk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Symbology(StrEnum):
    """What kind of code a scan was, when the source knows it."""

    UNKNOWN = "unknown"
    CODE128 = "code128"
    CODE39 = "code39"
    EAN13 = "ean13"
    EAN8 = "ean8"
    UPCA = "upca"
    UPCE = "upce"
    QR = "qr"
    UNREADABLE = "unreadable"  # garbage or over-long line: text holds what arrived, for the log


@dataclass(frozen=True, slots=True)
class Scan:
    """One code read by any scanner source."""

    text: str
    symbology: Symbology = Symbology.UNKNOWN
    source: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class DeviceState(StrEnum):
    """A device's state as staff mode shows it. ``UNKNOWN`` is never folded into an error."""

    UNKNOWN = "unknown"
    CONNECTING = "connecting"
    READY = "ready"
    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    PAPER_LOW = "paper_low"
    COVER_OPEN = "cover_open"
    ERROR = "error"


ERROR_STATES = frozenset(
    {DeviceState.OFFLINE, DeviceState.PAPER_OUT, DeviceState.COVER_OPEN, DeviceState.ERROR}
)

ScanCallback = Callable[[Scan], None]
StateCallback = Callable[[str, DeviceState], None]


@runtime_checkable
class ScanSource(Protocol):
    """A scanner. ``start`` begins reading on the source's own thread and calls
    ``on_scan`` for every scan (from that thread); ``stop`` ends and joins it."""

    name: str

    @property
    def state(self) -> DeviceState: ...

    def start(self, on_scan: ScanCallback) -> None: ...

    def stop(self, timeout: float = 2.0) -> None: ...
