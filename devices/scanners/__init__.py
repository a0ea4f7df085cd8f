"""Scanner sources chosen by URL, one module per scheme (like pyserial's URL handlers).

======================================  =========================================
URL                                     source
======================================  =========================================
``wedge:?max_gap_ms=40&suffix=enter``   keyboard wedge fed by the UI's key events
``evdev:/dev/input/event3?grab=1``      keyboard wedge read from evdev (Linux)
``serial:///dev/ttyACM0?baudrate=9600`` serial scanner (CDC-ACM or RS-232)
``loop://``, ``socket://HOST:PORT``,    any other pyserial URL, handed to
``rfc2217://…``, ``spy://…``            ``serial.serial_for_url``
``camera:0?width=1280&height=720``      camera + barcode decoder (OpenCV)
``stdin:``                              one line per scan
``fake-scanner:?codes=A,B&interval=3``  simulated serial scanner (demos; faults=…)
======================================  =========================================
"""

from __future__ import annotations

import importlib
from typing import Any

from core.errors import ConfigError, DeviceUnavailable
from devices.base import ScanSource
from devices.scanners.hub import ScannerHub
from devices.urls import SERIAL_URL_SCHEMES, parse_device_url

__all__ = ["SCANNER_SCHEMES", "ScannerHub", "open_scanner"]

_SERIAL = "devices.scanners.serial_scanner:open_serial"

#: scheme -> "module:factory"; modules are imported only when their scheme is used,
#: so a kiosk without OpenCV or evdev still opens its other scanners.
SCANNER_SCHEMES: dict[str, str] = {
    "wedge": "devices.wedge:open_wedge",
    "evdev": "devices.scanners.evdev_source:open_evdev",
    "stdin": "devices.scanners.stdin:open_stdin",
    "camera": "devices.camera.source:open_camera",
    **dict.fromkeys(SERIAL_URL_SCHEMES, _SERIAL),
    "fake-scanner": "devices.sim.fake_scanner:open_fake_scanner",
}


def open_scanner(url: str, **kw: Any) -> ScanSource:
    """Make the scanner ``url`` names (not started yet: call ``start(on_scan)``).

    Keyword arguments go to the scheme's factory: ``name=`` (shown in staff
    mode and in ``Scan.source``), ``on_state=`` (``callback(name, state)``).
    """
    scheme = parse_device_url(url).scheme
    target = SCANNER_SCHEMES.get(scheme)
    if target is None:
        raise ConfigError(
            f"unknown scanner URL scheme {scheme!r} in {url!r}; "
            f"use one of: {', '.join(sorted(SCANNER_SCHEMES))}"
        )
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # numpy for the camera, for example
        hint = "pip install 'pustaka-kiosk[camera]' or" if scheme == "camera" else "pip install"
        raise DeviceUnavailable(
            f"scanner {url!r} needs the Python package {exc.name!r}: {hint} {exc.name or ''}"
        ) from exc
    factory = getattr(module, func_name)
    source: ScanSource = factory(url, **kw)
    return source
