"""Device URLs checked when the config loads, before any device is opened.

Each scheme of ``devices.scanners`` and ``devices.printer`` declares the options it
reads and what their values may be (:data:`SCANNER_OPTIONS`, :data:`PRINTER_OPTIONS`);
:func:`check_scanner_url` and :func:`check_printer_url` return every problem of one
URL as a sentence ``what is wrong; what is allowed``, so a typo in ``kiosk.toml``
stops start-up with one line per problem instead of surfacing when the device opens.
A test builds every scheme's device from URLs that pass here, so a declaration that
drifts from what a factory reads is noticed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.errors import ConfigError
from devices.urls import SERIAL_URL_SCHEMES, DeviceURL, parse_device_url

Check = Callable[[str], str | None]


def _number(kind: type, low: float | None = None, high: float | None = None) -> Check:
    word = "a whole number" if kind is int else "a number"

    def check(value: str) -> str | None:
        try:
            n = kind(value)
        except ValueError:
            return f"{value!r} is not {word}"
        if (low is not None and n < low) or (high is not None and n > high):
            return f"{value!r} is out of range; allowed {low:g} to {high:g}"
        return None

    return check


def _int_auto(value: str) -> str | None:
    try:
        int(value, 0)
    except ValueError:
        return f"{value!r} is not a number (for example 0x81 or 129)"
    return None


def _bool(value: str) -> str | None:
    if value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        return None
    return f"{value!r} is not yes/no; allowed 1, 0, yes, no, true, false"


def _choice(*allowed: str, many: bool = False) -> Check:
    def check(value: str) -> str | None:
        values = [v for v in value.split(",") if v] if many else [value.lower()]
        wrong = [v for v in values if v.lower() not in allowed]
        if wrong:
            return f"{', '.join(map(repr, wrong))} is not allowed; allowed {', '.join(allowed)}"
        return None

    return check


def _terminator(value: str) -> str | None:
    from devices.scanners.framing import parse_terminator

    try:
        parse_terminator(value)
    except (ValueError, UnicodeEncodeError) as exc:
        return str(exc)
    return None


def _text(_value: str) -> str | None:
    return None


@dataclass(frozen=True)
class Scheme:
    """What one URL scheme accepts: its options, and whether it needs a target."""

    options: Mapping[str, Check]
    #: an example shown when the URL names no port, file, host or device
    target_example: str | None = None
    #: a pattern the target must match, with the example shown when it does not
    target_pattern: str | None = None


_MAX_LENGTH = {"max_length": _number(int, 1, 4096)}
#: pyserial's own URL options, passed through to ``serial_for_url`` as they are
_PYSERIAL = {
    "loop": {"logging": _text},
    "socket": {"logging": _text},
    "rfc2217": {"logging": _text, "ign_set_control": _text, "poll_modem": _text, "timeout": _text},
    "spy": {"file": _text, "color": _text, "raw": _text},
    "hwgrep": {"n": _text, "skip_busy": _text},
    "alt": {"class": _text},
}
_SERIAL_SCANNER = {
    "baudrate": _number(int, 50, 4_000_000),
    "suffix": _terminator,
    "terminator": _terminator,
    "prefix": _text,
    "aim": _bool,
    **_MAX_LENGTH,
}

SCANNER_OPTIONS: dict[str, Scheme] = {
    "wedge": Scheme(
        {"max_gap_ms": _number(float, 1, 1000), "min_length": _number(int, 1, 64), **_MAX_LENGTH}
    ),
    "evdev": Scheme(
        {"grab": _bool, "suffix": _choice("enter", "tab"), **_MAX_LENGTH},
        target_example="evdev:/dev/input/by-id/usb-Scanner-event-kbd",
    ),
    "stdin": Scheme(dict(_MAX_LENGTH)),
    "camera": Scheme(
        {
            "decoder": _choice("default", "zxing", "pyzbar"),
            "budget_ms": _number(float, 1, 1000),
            "width": _number(int, 160, 7680),
            "height": _number(int, 120, 4320),
            "repeat_ms": _number(float, 0, 60_000),
            "codes": _text,
            "interval": _number(float, 0.01, 3600),
        }
    ),
    **{
        s: Scheme(
            {**_SERIAL_SCANNER, **_PYSERIAL.get(s, {})},
            target_example="serial:///dev/ttyACM0" if s == "serial" else None,
        )
        for s in SERIAL_URL_SCHEMES
    },
    "fake-scanner": Scheme(
        {
            "codes": _text,
            "faults": _choice("garbage", "double", "overlong", many=True),
            "interval": _number(float, 0.01, 3600),
        }
    ),
}

_PRINTER_COMMON = {
    "qr": _choice("native", "image"),
    "status_timeout": _number(float, 0.05, 30),
    "status": _bool,
}
_SERIAL_PRINTER = {"baudrate": _number(int, 50, 4_000_000), "timeout": _number(float, 0, 60)}

PRINTER_OPTIONS: dict[str, Scheme] = {
    **{
        s: Scheme(
            {**_SERIAL_PRINTER, **_PYSERIAL.get(s, {})},
            target_example="serial:///dev/ttyUSB0" if s == "serial" else None,
        )
        for s in SERIAL_URL_SCHEMES
    },
    "tcp": Scheme(
        {"timeout": _number(float, 0.1, 60)},
        target_example="tcp://192.168.1.50:9100",
        target_pattern=r"^[^:/]+(:\d{1,5})?$",
    ),
    "file": Scheme({}, target_example="file:///dev/usb/lp0"),
    "usb": Scheme(
        {"in_ep": _int_auto, "out_ep": _int_auto},
        target_example="usb://0x0416:0x5011",
        target_pattern=r"^(0x[0-9a-fA-F]{1,4}|\d{1,5}):(0x[0-9a-fA-F]{1,4}|\d{1,5})$",
    ),
    "preview": Scheme({"dir": _text, "keep": _number(int, 1, 100_000)}),
    "dummy": Scheme({}),
    "fake-printer": Scheme(
        {"paper": _choice("ok", "out", "low"), "cover": _choice("open", "closed")}
    ),
    "none": Scheme({}),
}
PAPER_MM = (58, 80)


def _check(url: str, table: Mapping[str, Scheme], common: Mapping[str, Check]) -> list[str]:
    try:
        u: DeviceURL = parse_device_url(url)
    except ConfigError as exc:
        return [str(exc)]
    scheme = table.get(u.scheme)
    if scheme is None:
        return [f"unknown scheme {u.scheme!r} in {url!r}; allowed {', '.join(sorted(table))}"]
    problems = []
    options = {"name": _text, **common, **scheme.options}
    for key, value in u.options.items():
        check = options.get(key)
        if check is None:
            allowed = ", ".join(sorted(options))
            problems.append(f"{url!r}: unknown option {key!r}; allowed {allowed}")
            continue
        wrong = check(value)
        if wrong:
            problems.append(f"{url!r}: option {key}: {wrong}")
    if scheme.target_example and not u.target:
        problems.append(f"{url!r} names no device; for example {scheme.target_example}")
    elif scheme.target_pattern and not re.match(scheme.target_pattern, u.target):
        problems.append(f"{url!r}: {u.target!r} is not valid; for example {scheme.target_example}")
    return problems


def check_scanner_url(url: str) -> list[str]:
    """Every problem of one scanner URL; empty when the scanner can be made from it."""
    return _check(url, SCANNER_OPTIONS, {})


def check_printer_url(url: str, paper_mm: int = 58) -> list[str]:
    """Every problem of one printer URL and the paper width; empty when it can be made."""
    problems = _check(url, PRINTER_OPTIONS, _PRINTER_COMMON)
    if paper_mm not in PAPER_MM:
        problems.append(f"paper width {paper_mm} mm; allowed {', '.join(map(str, PAPER_MM))}")
    return problems
