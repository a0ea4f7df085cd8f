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

import importlib
from typing import Any

from core.errors import ConfigError, DeviceUnavailable
from devices.printer.base import Printer, PrintResult
from devices.printer.layout import paper_for
from devices.urls import SERIAL_URL_SCHEMES, parse_device_url

__all__ = ["PRINTER_SCHEMES", "Printer", "PrintResult", "open_printer"]

_SERIAL = "devices.printer.connections:open_serial_printer"

#: scheme -> "module:factory", the same shape as ``devices.scanners.SCANNER_SCHEMES``;
#: a module is imported only when its scheme is used (python-escpos costs about 0.3 s
#: to import, so a preview or no-printer kiosk never pays for it).
PRINTER_SCHEMES: dict[str, str] = {
    **dict.fromkeys(SERIAL_URL_SCHEMES, _SERIAL),
    "tcp": "devices.printer.connections:open_tcp_printer",
    "file": "devices.printer.connections:open_file_printer",
    "usb": "devices.printer.connections:open_usb_printer",
    "dummy": "devices.printer.connections:open_dummy_printer",
    "preview": "devices.printer.preview_printer:open_preview_printer",
    "none": "devices.printer.preview_printer:open_null_printer",
    "fake-printer": "devices.sim.fake_printer:open_fake_printer",
}


def open_printer(url: str, *, paper_mm: int = 58, **kw: Any) -> Printer:
    """Make the printer ``url`` names; nothing is opened until the first slip or status.

    Each scheme's factory is called as ``factory(parsed_url, name=..., paper_mm=...,
    qr_native=..., status_timeout=...)`` and raises ``ConfigError`` for a bad value.
    """
    u = parse_device_url(url)
    try:
        paper_for(paper_mm)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    target = PRINTER_SCHEMES.get(u.scheme)
    if target is None:
        raise ConfigError(
            f"unknown printer URL scheme {u.scheme!r} in {url!r}; "
            f"use one of: {', '.join(PRINTER_SCHEMES)}"
        )
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DeviceUnavailable(
            f"printer {url!r} needs the Python package {exc.name!r}: pip install {exc.name or ''}"
        ) from exc
    printer: Printer = getattr(module, func_name)(
        u,
        name=str(kw.get("name") or u.options.get("name") or u.scheme),
        paper_mm=paper_mm,
        qr_native=u.options.get("qr", "").lower() == "native",
        status_timeout=u.float("status_timeout", 0.5),
    )
    return printer
