"""Window key events -> characters the wedge detector sees (no window needed)."""

from __future__ import annotations

from devices.wedge import KeyboardWedge, WedgeDetector
from kiosk.ui.keys import KeyRouter, key_text


def test_shift_letters_and_modifier_codes() -> None:
    assert key_text(97, "a", ["shift"]) == "A"
    assert key_text(97, "a", []) == "a"
    assert key_text(97, "a", ["shift", "capslock"]) == "a"
    assert key_text(304, "İ", ["shift"]) == "shift"  # SDL2 gives chr(304) for Shift
    assert key_text(13, None, []) == "enter"
    assert key_text(271, None, []) == "enter"
    assert key_text(257, None, []) == "1"
    assert key_text(49, "1", ["shift"]) == "!"


def _feed(router: KeyRouter, text: str, t0: float, gap: float) -> None:
    clock = iter([t0 + i * gap for i in range(len(text) * 2 + 4)])
    router.clock = lambda: next(clock)
    for ch in text:
        if ch.isupper():
            router.on_key_down(None, 304, 0, "İ", ["shift"])
        router.on_key_down(None, ord(ch.lower()), 0, ch.lower(), ["shift"] if ch.isupper() else [])
    router.on_key_down(None, 13, 0, None, [])


def test_scanner_burst_becomes_a_scan() -> None:
    scans: list[str] = []
    wedge = KeyboardWedge(detector=WedgeDetector(max_gap=0.05))
    wedge.start(lambda scan: scans.append(scan.text))
    router = KeyRouter(wedge, scans.append)
    _feed(router, "AGT0001", 10.0, 0.005)
    assert scans == ["AGT0001"]


def test_slow_typing_is_not_a_scan_unless_manual_entry() -> None:
    scans: list[str] = []
    wedge = KeyboardWedge(detector=WedgeDetector(max_gap=0.05))
    wedge.start(lambda scan: scans.append(scan.text))
    router = KeyRouter(wedge, lambda text: scans.append("manual:" + text))
    _feed(router, "B000101", 10.0, 0.2)
    assert scans == []
    router.manual_entry = True
    _feed(router, "B000101", 20.0, 0.2)
    assert scans == ["manual:B000101"]
