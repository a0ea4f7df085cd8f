"""How the UI finds its scanners and printer in the runtime.

The runtime owns the devices (``runtime.extras["scanners"]``, a
``devices.scanners.ScannerHub``; ``runtime.services.slips``). When the runtime
has no scanner hub (an older runtime, a test), the UI opens the configured
scanners itself, so the keyboard wedge always works.
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.config import KioskSettings

log = logging.getLogger(__name__)


def scanner_hub(runtime: Any) -> Any:
    """The runtime's scanner hub, or one opened here from ``[devices] scanners``."""
    hub = runtime.extras.get("scanners")
    if hub is not None:
        return hub
    from core.errors import KioskError
    from devices.scanners import ScannerHub, open_scanner

    settings: KioskSettings = runtime.settings

    def opener(url: str, **kw: Any) -> Any:
        if url.split(":", 1)[0].lower() == "wedge":
            return _wedge_from_settings(settings, kw.get("name", "wedge"))
        return open_scanner(url, **kw)

    try:
        hub = ScannerHub.from_urls(settings.devices.scanners, opener=opener)
    except KioskError as exc:
        log.error("scanners not opened: %s", exc)
        return None
    runtime.extras["scanners"] = hub
    return hub


def _wedge_from_settings(settings: KioskSettings, name: str) -> Any:
    from devices.wedge import KeyboardWedge, WedgeDetector

    w = settings.wedge
    detector = WedgeDetector(
        max_gap=w.max_gap_ms / 1000.0,
        min_length=w.min_length,
        suffix=w.suffix or None,
        prefix=w.prefix,
    )
    return KeyboardWedge(name, detector=detector)


def find_wedge(hub: Any, settings: KioskSettings) -> Any:
    """The keyboard-wedge source in the hub (fed from window key events), if any."""
    if hub is None:
        return None
    from devices.wedge import KeyboardWedge

    for src in getattr(hub, "sources", []):
        if isinstance(src, KeyboardWedge):
            return src
    return None


def device_states(runtime: Any) -> dict[str, str]:
    """Each device's state for staff mode: scanners by name, and the printer."""
    states: dict[str, str] = {}
    hub = runtime.extras.get("scanners")
    if hub is not None:
        try:
            states.update({k: str(v) for k, v in hub.states().items()})
            for name, problem in hub.problems().items():
                states[name] = f"{states.get(name, 'offline')}: {problem}"
        except (AttributeError, RuntimeError) as exc:
            log.warning("scanner states unavailable: %s", exc)
    printer = runtime.extras.get("printer")
    if printer is not None:
        try:
            states["printer"] = str(printer.status())
            problem = getattr(printer, "problem", None)
            if problem:
                states["printer"] += f": {problem}"
        except Exception as exc:  # noqa: BLE001 - a broken driver shows as error, never crashes
            log.warning("printer status failed: %s", exc)
            states["printer"] = "error"
    elif runtime.services.slips is None:
        states["printer"] = "none"
    return states
