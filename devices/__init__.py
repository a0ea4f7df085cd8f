"""Scanners and printers, chosen by URL; fakes ship here too. Never imports Kivy.

The main entry points are re-exported lazily (``from devices import
open_scanner``) so importing ``devices`` stays cheap: the printer stack
(python-escpos, Pillow) and OpenCV load only when used.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "open_scanner": "devices.scanners",
    "ScannerHub": "devices.scanners",
    "open_printer": "devices.printer",
    "Printer": "devices.printer",
    "PrintResult": "devices.printer",
    "WedgeDetector": "devices.wedge",
    "KeyboardWedge": "devices.wedge",
    "classify": "devices.classify",
    "expect": "devices.classify",
    "CodeKind": "devices.classify",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'devices' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
