"""Window key events -> keyboard-wedge detector -> scans.

A wedge scanner is a keyboard: its keys arrive as the window's key-down
events. They go to ``devices.wedge.KeyboardWedge``, which tells a scanner's
burst from a person typing; scans never pass through a focused TextInput
(fast scanners lose characters there, kivy/kivy#6801).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# Kivy keycodes for keys a scanner may send that have no codepoint of their own.
_NAMED = {13: "enter", 271: "enter", 9: "tab", 8: "backspace", 27: "escape"}
# Kivy's codes for keys above the keypad (importing kivy.core.window for its table
# would open a window, so the few the wedge must recognise are listed here).
_HIGH = {
    301: "capslock",
    303: "rshift",
    304: "shift",
    305: "rctrl",
    306: "lctrl",
    307: "alt-gr",
    308: "alt",
    273: "up",
    274: "down",
    275: "right",
    276: "left",
}
# US layout: what a shifted digit or symbol types (scanners emulate a US keyboard).
_SHIFTED = dict(zip("1234567890-=[];'\\,./`", '!@#$%^&*()_+{}:"|<>?~', strict=True))


def key_text(key: int, codepoint: str | None, modifiers: list[str]) -> str:
    """The character (or key name) one key-down event stands for."""
    if key in _NAMED:
        return _NAMED[key]
    if 256 <= key <= 265:  # keypad digits
        return str(key - 256)
    if key > 265:
        # Shift, Ctrl, arrows…: Kivy gives them codes above 265 and SDL2 a bogus
        # codepoint (chr(304) is "İ"), so use the key's name, which the wedge knows.
        return _HIGH.get(key, f"key{key}")
    if codepoint and len(codepoint) == 1 and codepoint.isprintable():
        shifted = "shift" in modifiers
        if codepoint.isalpha():
            # SDL2 reports the unshifted key; Shift xor Caps Lock makes a capital.
            upper = shifted != ("capslock" in modifiers)
            return codepoint.upper() if upper else codepoint.lower()
        if shifted:
            return _SHIFTED.get(codepoint, codepoint)
        return codepoint
    return f"key{key}"


class KeyRouter:
    """Feeds window keys to the wedge; typed keys go to ``on_typed``.

    ``manual_entry`` (demo mode) also takes a line typed by hand and ended with
    Enter as a scan, so the demo can be driven from a laptop keyboard.
    """

    def __init__(
        self,
        wedge: object | None,
        on_scan: Callable[[str], None],
        *,
        manual_entry: bool = False,
        on_key: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.wedge = wedge
        self.on_scan = on_scan
        self.manual_entry = manual_entry
        self.on_key = on_key
        self.clock = clock
        self._typed: list[str] = []

    def on_key_down(
        self, _window: object, key: int, _scancode: int, codepoint: str | None, modifiers: list
    ) -> bool:
        if self.on_key is not None:
            self.on_key()
        text = key_text(key, codepoint, list(modifiers or []))
        if self.wedge is None:
            self._take_typed([text])
            return True
        self._take_typed(self.wedge.feed_key(text, self.clock()))  # type: ignore[attr-defined]
        # Swallow every key: Escape must not close the kiosk, and no widget reads keys.
        return True

    def poll(self, _dt: float = 0.0) -> None:
        if self.wedge is not None:
            self._take_typed(self.wedge.poll(self.clock()))  # type: ignore[attr-defined]

    def _take_typed(self, keys: list[str]) -> None:
        for k in keys:
            if k == "enter":
                line = "".join(self._typed).strip()
                self._typed.clear()
                if line and self.manual_entry:
                    log.info("manual entry taken as a scan: %r", line)
                    self.on_scan(line)
            elif k == "backspace":
                if self._typed:
                    self._typed.pop()
            elif len(k) == 1:
                self._typed.append(k)
                del self._typed[:-64]
            else:
                self._typed.clear()
