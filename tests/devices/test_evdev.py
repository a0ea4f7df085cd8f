"""evdev decoding, fed synthetic key events (no /dev/uinput here)."""

from __future__ import annotations

import importlib.util

import pytest

from core.errors import DeviceUnavailable
from devices.scanners import open_scanner
from devices.scanners.evdev_source import EV_KEY, KEYMAP, EvdevKeyDecoder

CODE_FOR = {plain: code for code, (plain, _) in KEYMAP.items() if code < 60}
SHIFT_FOR = {shifted: code for code, (_, shifted) in KEYMAP.items() if code < 60}


def events_for(text: str, enter: int = 28):
    evs = []
    for ch in text:
        if ch in CODE_FOR:
            evs += [(EV_KEY, CODE_FOR[ch], 1), (EV_KEY, CODE_FOR[ch], 0)]
        else:
            code = SHIFT_FOR[ch]
            evs += [(EV_KEY, 42, 1), (EV_KEY, code, 1), (EV_KEY, code, 0), (EV_KEY, 42, 0)]
        evs.append((0, 0, 0))  # EV_SYN between keys, as the kernel sends
    return evs + [(EV_KEY, enter, 1), (EV_KEY, enter, 0)]


def decode(dec, evs):
    out = []
    for e in evs:
        out += dec.feed(*e)
    return out


def test_decodes_codes_with_shift_and_enter():
    dec = EvdevKeyDecoder()
    assert decode(dec, events_for("AGT0000101")) == [("AGT0000101", True)]
    assert decode(dec, events_for("PK1.abc-Z_9", enter=96)) == [("PK1.abc-Z_9", True)]


def test_unknown_key_marks_code_unreadable_and_length_is_bounded():
    dec = EvdevKeyDecoder(max_length=5)
    evs = [(EV_KEY, 30, 1), (EV_KEY, 200, 1), (EV_KEY, 28, 1)]
    assert decode(dec, evs) == [("a", False)]
    assert decode(dec, events_for("abcdefgh")) == [("abcde", False)]


def test_evdev_without_package_fails_with_hint():
    src = open_scanner("evdev:/dev/input/event99?grab=1")
    if importlib.util.find_spec("evdev") is None:
        with pytest.raises(DeviceUnavailable, match="pip install evdev"):
            src.start(lambda s: None)
