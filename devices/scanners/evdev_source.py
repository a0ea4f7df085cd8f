"""``evdev:/dev/input/event3?grab=1`` — a wedge scanner read straight from Linux evdev.

With ``grab=1`` the scanner's keys go only to the kiosk (EVIOCGRAB), so a scan
can never type into the UI. The key decoding (:class:`EvdevKeyDecoder`) is
pure and uses the kernel's stable key codes, so it is tested without evdev or
``/dev/uinput``. The ``evdev`` package is imported only when the source starts.
"""

from __future__ import annotations

import logging
import select
from typing import Any

from core.errors import ConfigError, DeviceUnavailable
from devices.base import DeviceState, Scan, StateCallback, Symbology
from devices.scanners._thread import ThreadedSource
from devices.urls import parse_device_url

log = logging.getLogger(__name__)

EV_KEY = 1
KEY_ENTER, KEY_KPENTER, KEY_TAB = 28, 96, 15
SHIFT_KEYS = frozenset({42, 54})  # KEY_LEFTSHIFT, KEY_RIGHTSHIFT

# linux/input-event-codes.h, US layout: code -> (plain, shifted)
_ROWS = {
    2: "1!", 3: "2@", 4: "3#", 5: "4$", 6: "5%", 7: "6^", 8: "7&", 9: "8*", 10: "9(",
    11: "0)", 12: "-_", 13: "=+", 16: "qQ", 17: "wW", 18: "eE", 19: "rR", 20: "tT",
    21: "yY", 22: "uU", 23: "iI", 24: "oO", 25: "pP", 26: "[{", 27: "]}", 30: "aA",
    31: "sS", 32: "dD", 33: "fF", 34: "gG", 35: "hH", 36: "jJ", 37: "kK", 38: "lL",
    39: ";:", 40: "'\"", 41: "`~", 43: "\\|", 44: "zZ", 45: "xX", 46: "cC", 47: "vV",
    48: "bB", 49: "nN", 50: "mM", 51: ",<", 52: ".>", 53: "/?", 57: "  ",
    71: "77", 72: "88", 73: "99", 74: "--", 75: "44", 76: "55", 77: "66", 78: "++",
    79: "11", 80: "22", 81: "33", 82: "00", 83: "..", 55: "**", 98: "//",
}  # fmt: skip
KEYMAP: dict[int, tuple[str, str]] = {code: (s[0], s[1]) for code, s in _ROWS.items()}

INSTALL_HINT = "pip install evdev (Linux only; the kiosk user needs read access to /dev/input)"


class EvdevKeyDecoder:
    """Turns EV_KEY events into codes: characters until Enter (or Tab when asked)."""

    def __init__(self, *, max_length: int = 256, end_on_tab: bool = False) -> None:
        self.max_length = max_length
        self.end_codes = {KEY_ENTER, KEY_KPENTER} | ({KEY_TAB} if end_on_tab else set())
        self._shift = 0
        self._chars: list[str] = []
        self._unknown = False

    def feed(self, ev_type: int, code: int, value: int) -> list[tuple[str, bool]]:
        """One input event; returns finished ``(text, readable)`` codes."""
        if ev_type != EV_KEY:
            return []
        if code in SHIFT_KEYS:
            self._shift += 1 if value == 1 else (-1 if value == 0 else 0)
            self._shift = max(self._shift, 0)
            return []
        if value != 1:  # key up and auto-repeat carry no new character
            return []
        if code in self.end_codes:
            text, ok = "".join(self._chars), not self._unknown
            self._chars.clear()
            self._unknown = False
            if not text:
                return []
            return [(text[: self.max_length], ok and len(text) <= self.max_length)]
        pair = KEYMAP.get(code)
        if pair is None:
            self._unknown = True
            return []
        if len(self._chars) <= self.max_length:
            self._chars.append(pair[1] if self._shift else pair[0])
        return []


class EvdevScanner(ThreadedSource):
    """Reads one evdev input device (a scanner), optionally grabbed exclusively."""

    def __init__(
        self,
        name: str,
        path: str,
        *,
        grab: bool = True,
        decoder: EvdevKeyDecoder | None = None,
        backoff: float = 1.0,
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(name, on_state=on_state)
        self.path = path
        self.grab = grab
        self.decoder = decoder or EvdevKeyDecoder()
        self.backoff = backoff

    def start(self, on_scan: Any) -> None:
        try:
            import evdev  # noqa: F401 - checked here so a missing package fails loudly at start
        except ImportError as exc:
            raise DeviceUnavailable(f"evdev scanner {self.path}: {INSTALL_HINT}") from exc
        super().start(on_scan)

    def _run(self) -> None:
        import evdev

        while not self._stop.is_set():
            self._set_state(DeviceState.CONNECTING)
            try:
                dev = evdev.InputDevice(self.path)
                if self.grab:
                    dev.grab()
            except OSError as exc:
                log.warning("evdev scanner %s: cannot open %s: %s", self.name, self.path, exc)
                self._set_state(DeviceState.OFFLINE)
                self._stop.wait(self.backoff)
                continue
            self._set_state(DeviceState.READY)
            try:
                while not self._stop.is_set():
                    ready, _, _ = select.select([dev.fd], [], [], 0.2)
                    if not ready:
                        continue
                    for ev in dev.read():
                        for text, ok in self.decoder.feed(ev.type, ev.code, ev.value):
                            sym = Symbology.UNKNOWN if ok else Symbology.UNREADABLE
                            self._emit(Scan(text, sym, self.name))
            except OSError as exc:  # unplugged: ENODEV
                log.warning("evdev scanner %s: lost %s: %s", self.name, self.path, exc)
                self._set_state(DeviceState.OFFLINE)
                self._stop.wait(self.backoff)
            finally:
                try:
                    dev.close()
                except OSError as exc:
                    log.debug("evdev close: %s", exc)
        self._set_state(DeviceState.OFFLINE)


def open_evdev(url: str, **kw: Any) -> EvdevScanner:
    """``evdev:/dev/input/by-id/usb-…-event-kbd?grab=1&suffix=enter|tab``."""
    u = parse_device_url(url)
    if not u.target:
        raise ConfigError(f"scanner URL {url!r} names no input device (evdev:/dev/input/event3)")
    decoder = EvdevKeyDecoder(
        max_length=u.int("max_length", 256),
        end_on_tab=u.options.get("suffix", "enter").lower() == "tab",
    )
    return EvdevScanner(
        str(kw.get("name") or "evdev"),
        u.target,
        grab=u.bool("grab", True),
        decoder=decoder,
        on_state=kw.get("on_state"),
    )
