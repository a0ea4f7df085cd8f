"""Serial scanners: ``serial:///dev/ttyACM0?baudrate=9600&suffix=CR`` or any pyserial URL.

Reads on its own daemon thread with a read timeout (never a busy loop). When
the port disappears (USB unplugged, socat gone) the source goes OFFLINE and
reopens the same path with backoff; CONNECTING and READY follow when it is back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import serial

from core.errors import ConfigError
from devices.base import DeviceState, Scan, StateCallback
from devices.scanners._thread import ThreadedSource
from devices.scanners.framing import LineFramer, parse_terminator
from devices.urls import parse_device_url

log = logging.getLogger(__name__)

PortFactory = Callable[[], serial.SerialBase]


def open_problem(url: str, exc: BaseException) -> str:
    """Why a serial port would not open, in the words staff need ("... does not exist")."""
    path = url if url.startswith("/") else None
    errno_ = getattr(exc, "errno", None)
    text = str(exc)
    if path and (errno_ == 2 or "No such file" in text or not os.path.exists(path)):
        return f"{path} does not exist (is the scanner plugged in?)"
    if path and (errno_ == 13 or "Permission denied" in text):
        return f"{path}: permission denied (add the kiosk user to the dialout group)"
    return f"cannot open {url}: {text}"


class SerialScanner(ThreadedSource):
    """A scanner on a serial port (or anything ``serial.serial_for_url`` opens).

    :param port_factory: opens the port; by default ``serial_for_url(url, …)``.
        Tests hand in a ``loop://`` port they also write to.
    :param framer: splits bytes into codes (terminator, max length, AIM ids).
    :param backoff: first and largest pause between reopen attempts, seconds.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        baudrate: int = 9600,
        framer: LineFramer | None = None,
        port_factory: PortFactory | None = None,
        read_timeout: float = 0.2,
        backoff: tuple[float, float] = (0.2, 5.0),
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(name, on_state=on_state)
        self.url = url
        self.baudrate = baudrate
        self.read_timeout = read_timeout
        self.framer = framer or LineFramer()
        self.backoff = backoff
        self.port_factory = port_factory or self._open_url
        self.reconnects = 0
        self._port: serial.SerialBase | None = None

    def _open_url(self) -> serial.SerialBase:
        return serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.read_timeout)

    def _interrupt(self) -> None:
        port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            try:
                port.cancel_read()
            except (OSError, serial.SerialException, AttributeError) as exc:
                log.debug("cancel_read on %s: %s", self.url, exc)

    def _read_loop(self, port: serial.SerialBase) -> None:
        while not self._stop.is_set():
            waiting = port.in_waiting
            data = port.read(waiting or 1)  # blocks up to read_timeout when idle
            if not data:
                continue
            for frame in self.framer.feed(data):
                if frame.symbology == "unreadable":
                    log.warning("scanner %s: unreadable input %r", self.name, frame.text[:64])
                self._emit(Scan(frame.text, frame.symbology, self.name))

    def _run(self) -> None:
        delay = self.backoff[0]
        first = True
        while not self._stop.is_set():
            if self.problem is None:
                self._set_state(DeviceState.CONNECTING)
            try:
                port = self.port_factory()
                if not port.is_open:
                    port.open()
            except (serial.SerialException, OSError, ValueError) as exc:
                problem = open_problem(self.url, exc)
                if problem != self.problem:
                    # Said once in plain words; the retries that follow stay quiet.
                    log.warning("scanner %s: %s; retrying quietly", self.name, problem)
                    self.problem = problem
                first = False
                self._set_state(DeviceState.OFFLINE)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff[1])
                continue
            if self.problem is not None:
                log.warning("scanner %s: %s is back", self.name, self.url)
                self.problem = None
            if not first:
                self.reconnects += 1
            first = False
            self._port = port
            self._set_state(DeviceState.READY)
            delay = self.backoff[0]
            try:
                self._read_loop(port)
            except (serial.SerialException, OSError, TypeError) as exc:
                # pyserial raises TypeError from a read racing a close(); same outcome.
                if not self._stop.is_set():
                    log.warning("scanner %s: lost %s: %s", self.name, self.url, exc)
                    self._set_state(DeviceState.OFFLINE)
                    self.framer.reset()
                    self._stop.wait(delay)
            finally:
                self._port = None
                try:
                    port.close()
                except (serial.SerialException, OSError) as exc:
                    log.debug("closing %s: %s", self.url, exc)
        self._set_state(DeviceState.OFFLINE)


def open_serial(url: str, **kw: Any) -> SerialScanner:
    """``serial:///dev/ttyACM0?baudrate=9600&suffix=CR&max_length=256&aim=0&prefix=``;
    other schemes (``loop://``, ``socket://``, ``rfc2217://``) go to pyserial as they are."""
    u = parse_device_url(url)
    if u.scheme == "serial":
        port_url = u.target
        if not port_url:
            raise ConfigError(f"scanner URL {url!r} names no port (serial:///dev/ttyACM0)")
    else:
        # Pass pyserial's own URL minus our options (pyserial rejects unknown ones).
        ours = {"baudrate", "suffix", "terminator", "max_length", "prefix", "aim", "name"}
        keep = "&".join(f"{k}={v}" for k, v in u.options.items() if k not in ours)
        port_url = url.split("?", 1)[0] + (f"?{keep}" if keep else "")
    spec = u.options.get("suffix") or u.options.get("terminator") or "CR"
    try:
        terminator = parse_terminator(spec)
    except ValueError as exc:
        raise ConfigError(f"scanner URL {url!r}: {exc}") from None
    framer = LineFramer(
        terminator,
        max_length=u.int("max_length", 256),
        prefix=u.options.get("prefix", ""),
        aim=u.bool("aim", False),
    )
    return SerialScanner(
        str(kw.get("name") or u.scheme),
        port_url,
        baudrate=u.int("baudrate", 9600),
        framer=framer,
        port_factory=kw.get("port_factory"),
        on_state=kw.get("on_state"),
    )
