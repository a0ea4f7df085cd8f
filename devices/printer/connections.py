"""ESC/POS printers by connection: one factory per URL scheme of ``devices.printer``.

Each factory takes the parsed URL and the common settings and returns an
:class:`EscposPrinter` whose connection is made on first use, so a wrong value is a
``ConfigError`` at start-up and an absent printer is an offline state later.
"""

from __future__ import annotations

import os
from typing import Any

from core.errors import ConfigError, DeviceUnavailable
from devices.printer.escpos_printer import DummyPrinter, EscposPrinter, SerialPortPrinter
from devices.urls import DeviceURL


def _int_auto(u: DeviceURL, text: str, what: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ConfigError(f"printer URL {u.raw!r}: {what} {text!r} is not a number") from None


def _host_port(u: DeviceURL, default_port: int = 9100) -> tuple[str, int]:
    host, _, port = u.netloc.rpartition(":") if ":" in u.netloc else (u.netloc, "", "")
    if not host:
        raise ConfigError(
            f"printer URL {u.raw!r} has no host (for example tcp://192.168.1.50:9100)"
        )
    return host, _int_auto(u, port, "port") if port else default_port


def open_serial_printer(u: DeviceURL, *, name: str, **common: Any) -> EscposPrinter:
    """``serial:///dev/ttyUSB0?baudrate=19200`` or any other pyserial URL."""
    port_url = u.target if u.scheme == "serial" else u.raw.split("?", 1)[0]
    if not port_url:
        raise ConfigError(f"printer URL {u.raw!r} names no serial port")
    baud = u.int("baudrate", 9600)
    timeout = u.float("timeout", 0.5)
    # loop:// echoes what is written, so asking it for status reads our own query.
    status = u.bool("status", u.scheme != "loop")
    return EscposPrinter(
        name,
        u.raw,
        lambda: SerialPortPrinter(port_url, baudrate=baud, timeout=timeout),
        query_status=status,
        **common,
    )


def open_tcp_printer(u: DeviceURL, *, name: str, **common: Any) -> EscposPrinter:
    """``tcp://HOST:PORT``: a network printer's raw port (9100 when none is given)."""
    from escpos.printer import Network

    host, port = _host_port(u)
    timeout = u.float("timeout", 3.0)
    return EscposPrinter(
        name,
        u.raw,
        lambda: Network(host, port, timeout=timeout),
        query_status=u.bool("status", True),
        **common,
    )


def open_file_printer(u: DeviceURL, *, name: str, **common: Any) -> EscposPrinter:
    """``file:///dev/usb/lp0``: a write-only device file, so the printer is never asked
    for its state."""
    from escpos.printer import File

    path = u.target
    if not path:
        raise ConfigError(f"printer URL {u.raw!r} names no file (file:///dev/usb/lp0)")

    def connect() -> File:
        # python-escpos opens the path for writing, which would make a plain file in
        # place of an unplugged printer's device node and "print" into it
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
        return File(path)

    return EscposPrinter(name, u.raw, connect, query_status=False, **common)


def open_usb_printer(u: DeviceURL, *, name: str, **common: Any) -> EscposPrinter:
    """``usb://VID:PID?in_ep=0x81&out_ep=0x03`` (needs pyusb)."""
    from escpos.printer import Usb

    if not Usb.is_usable():
        raise DeviceUnavailable(
            f"printer URL {u.raw!r} needs pyusb: pip install pyusb (and a udev rule giving the "
            "kiosk user access to the printer)"
        )
    vid, _, pid = u.netloc.partition(":")
    if not vid or not pid:
        raise ConfigError(
            f"printer URL {u.raw!r}: expected usb://VID:PID, e.g. usb://0x0416:0x5011"
        )
    vid_i, pid_i = _int_auto(u, vid, "vendor id"), _int_auto(u, pid, "product id")
    in_ep = _int_auto(u, u.options.get("in_ep", "0x82"), "in_ep")
    out_ep = _int_auto(u, u.options.get("out_ep", "0x01"), "out_ep")
    return EscposPrinter(
        name,
        u.raw,
        lambda: Usb(vid_i, pid_i, timeout=0, in_ep=in_ep, out_ep=out_ep),
        query_status=u.bool("status", True),
        **common,
    )


def open_dummy_printer(u: DeviceURL, *, name: str, **common: Any) -> DummyPrinter:
    """``dummy:``: python-escpos's Dummy, every slip's bytes kept (tests)."""
    return DummyPrinter(name, u.raw, **common)
