"""Receipt printers chosen by URL.

=================================================  ==========================================
URL                                                printer
=================================================  ==========================================
``serial:///dev/ttyUSB0?baudrate=19200``           ESC/POS over serial (any pyserial URL:
``socket://HOST:PORT``, ``loop://``, ``rfc2217:``  handed to ``serial.serial_for_url``)
``tcp://192.168.1.50:9100``                        ESC/POS over the network (raw port 9100)
``file:///dev/usb/lp0``                            ESC/POS to a device file (no status)
``usb://0x0416:0x5011?in_ep=0x81&out_ep=0x03``     ESC/POS over USB (needs pyusb)
``preview:?dir=data/slips``                        PNG files (demos, tests)
``dummy:``                                         python-escpos Dummy, bytes kept (tests)
``fake-printer:?paper=out&cover=open``             in-package fake ESC/POS printer on TCP
``none:``                                          no printer
=================================================  ==========================================

Common options: ``qr=native`` (printer's own QR command instead of an image),
``status=0`` (do not ask the printer for its state), ``status_timeout=0.5``
(seconds to wait for a status reply), ``name=``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devices.printer.base import Printer, PrintResult
from devices.printer.layout import paper_for
from devices.printer.preview_printer import NullPrinter, PreviewPrinter
from devices.urls import DeviceURL, parse_device_url
from kiosk.errors import ConfigError, DeviceUnavailable

__all__ = ["PRINTER_SCHEMES", "Printer", "PrintResult", "open_printer"]

PRINTER_SCHEMES = (
    "serial", "loop", "socket", "rfc2217", "spy", "tcp", "file", "usb",
    "preview", "dummy", "fake-printer", "none",
)  # fmt: skip


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


def open_printer(url: str, *, paper_mm: int = 58, **kw: Any) -> Printer:
    """Make the printer ``url`` names; nothing is opened until the first slip or status."""
    u = parse_device_url(url)
    try:
        paper_for(paper_mm)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    name = str(kw.get("name") or u.options.get("name") or u.scheme)
    qr_native = u.options.get("qr", "").lower() == "native"
    common: dict[str, Any] = {
        "paper_mm": paper_mm,
        "qr_native": qr_native,
        "status_timeout": u.float("status_timeout", 0.5),
    }
    scheme = u.scheme

    if scheme in ("serial", "loop", "socket", "rfc2217", "spy", "tcp", "file", "usb", "dummy"):
        # python-escpos costs about 0.3 s to import: only ESC/POS printers pay for it.
        from devices.printer.escpos_printer import DummyPrinter, EscposPrinter, SerialPortPrinter

    if scheme in ("serial", "loop", "socket", "rfc2217", "spy"):
        port_url = u.target if scheme == "serial" else url.split("?", 1)[0]
        if not port_url:
            raise ConfigError(f"printer URL {url!r} names no serial port")
        baud = u.int("baudrate", 9600)
        # loop:// echoes what is written, so asking it for status reads our own query.
        status = u.bool("status", scheme != "loop")
        return EscposPrinter(
            name,
            url,
            lambda: SerialPortPrinter(port_url, baudrate=baud, timeout=u.float("timeout", 0.5)),
            query_status=status,
            **common,
        )
    if scheme == "tcp":
        from escpos.printer import Network

        host, port = _host_port(u)
        timeout = u.float("timeout", 3.0)
        return EscposPrinter(
            name,
            url,
            lambda: Network(host, port, timeout=timeout),
            query_status=u.bool("status", True),
            **common,
        )
    if scheme == "file":
        from escpos.printer import File

        path = u.target
        if not path:
            raise ConfigError(f"printer URL {url!r} names no file (file:///dev/usb/lp0)")
        # A device file is write-only: the printer cannot be asked for its state.
        return EscposPrinter(name, url, lambda: File(path), query_status=False, **common)
    if scheme == "usb":
        from escpos.printer import Usb

        if not Usb.is_usable():
            raise DeviceUnavailable(
                f"printer URL {url!r} needs pyusb: pip install pyusb (and a udev rule giving the "
                "kiosk user access to the printer)"
            )
        vid, _, pid = u.netloc.partition(":")
        if not vid or not pid:
            raise ConfigError(
                f"printer URL {url!r}: expected usb://VID:PID, e.g. usb://0x0416:0x5011"
            )
        vid_i, pid_i = _int_auto(u, vid, "vendor id"), _int_auto(u, pid, "product id")
        in_ep = _int_auto(u, u.options.get("in_ep", "0x82"), "in_ep")
        out_ep = _int_auto(u, u.options.get("out_ep", "0x01"), "out_ep")
        return EscposPrinter(
            name,
            url,
            lambda: Usb(vid_i, pid_i, timeout=0, in_ep=in_ep, out_ep=out_ep),
            query_status=u.bool("status", True),
            **common,
        )
    if scheme == "preview":
        folder = Path(u.options.get("dir") or u.target or "data/slips")
        return PreviewPrinter(name, url, folder, paper_mm=paper_mm, keep=u.int("keep", 200))
    if scheme == "dummy":
        return DummyPrinter(name, url, **common)
    if scheme == "fake-printer":
        from devices.sim.fake_printer import open_fake_printer

        return open_fake_printer(u, name=name, **common)
    if scheme == "none":
        return NullPrinter(name, url, paper_mm=paper_mm)
    raise ConfigError(
        f"unknown printer URL scheme {scheme!r} in {url!r}; "
        f"use one of: {', '.join(PRINTER_SCHEMES)}"
    )
