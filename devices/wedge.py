"""Keyboard-wedge scanners: tell a scanner's burst of keys from a person typing.

A wedge scanner "types" a code: characters a few milliseconds apart, usually
ended by Enter. A person types 60+ ms apart at best. :class:`WedgeDetector`
holds keys back until it knows which of the two it is looking at, so a scan
never lands in a text field and typing is never taken for a scan (fast
scanners also lose characters inside a focused TextInput, kivy/kivy#6801).

The detector is pure Python and driven by timestamps, so it is tested with
synthetic timings. :class:`KeyboardWedge` wraps it as a :class:`ScanSource`
the Kivy UI feeds from the window's key events.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from devices.base import DeviceState, Scan, ScanCallback, Symbology

log = logging.getLogger(__name__)

#: Key names that end a line. Kivy reports Enter as codepoint "\r" or keyname "enter".
ENTER_KEYS = frozenset({"\r", "\n", "enter", "return", "numpadenter", "kp_enter"})
TAB_KEYS = frozenset({"\t", "tab"})
#: Modifier keys a scanner emulating a keyboard sends around capitals; they carry no text.
MODIFIER_KEYS = frozenset(
    {"shift", "lshift", "rshift", "ctrl", "lctrl", "rctrl", "alt", "alt-gr", "capslock"}
)

#: Accepted ``suffix`` settings (config may say "enter" or the character itself, "\r").
SUFFIXES: dict[str, frozenset[str]] = {
    "enter": ENTER_KEYS,
    "cr": ENTER_KEYS,
    "lf": ENTER_KEYS,
    "crlf": ENTER_KEYS,
    "\r": ENTER_KEYS,
    "\n": ENTER_KEYS,
    "\r\n": ENTER_KEYS,
    "tab": TAB_KEYS,
    "\t": TAB_KEYS,
}


@dataclass(frozen=True, slots=True)
class ScanDetected:
    """A scanner burst: ``text`` without prefix and suffix.

    ``overlong`` is set when the burst passed ``max_length`` before its
    suffix came; the text is then what arrived so far (for the log)."""

    text: str
    overlong: bool = False


@dataclass(frozen=True, slots=True)
class TypedKeys:
    """Keys a person typed, released in order to whatever field has focus."""

    keys: tuple[str, ...]


Event = ScanDetected | TypedKeys


class WedgeDetector:
    """Splits a key stream into scanner bursts and human typing.

    Feed every key with its timestamp (seconds, monotonic) to :meth:`feed`;
    call :meth:`poll` now and then (every ~20 ms from a UI clock) so keys a
    person typed are released even when no further key follows.

    :param max_gap: largest gap between two keys of one burst, in seconds.
        Scanners send a key every 1–15 ms; people rarely go under 60 ms.
    :param min_length: fewest characters (before the suffix) that count as a scan.
    :param max_length: a burst longer than this is reported as overlong.
    :param suffix: ``"enter"`` (default), ``"tab"``, or ``None`` for scanners
        that send no suffix (the burst then ends when the keys stop).
    :param prefix: stripped from the front of a scan when present.
    """

    def __init__(
        self,
        *,
        max_gap: float = 0.040,
        min_length: int = 3,
        max_length: int = 256,
        suffix: str | None = "enter",
        prefix: str = "",
    ) -> None:
        if max_gap <= 0:
            raise ValueError(f"max_gap must be positive, got {max_gap!r}")
        if min_length < 1:
            raise ValueError(f"min_length must be at least 1, got {min_length!r}")
        if suffix == "":
            suffix = None
        if suffix is not None and suffix.lower() not in SUFFIXES:
            raise ValueError(f"unknown wedge suffix {suffix!r}; use one of {sorted(SUFFIXES)}")
        self.max_gap = max_gap
        self.min_length = min_length
        self.max_length = max_length
        self.suffix_keys = SUFFIXES[suffix.lower()] if suffix is not None else frozenset()
        self.prefix = prefix
        self._keys: list[str] = []
        self._last_t: float | None = None
        self._overlong = False
        self._scan_end_t: float | None = None

    # -- helpers ---------------------------------------------------------
    def _release(self, extra: tuple[str, ...] = ()) -> list[Event]:
        keys = tuple(self._keys) + extra
        self._keys.clear()
        self._last_t = None
        self._overlong = False
        return [TypedKeys(keys)] if keys else []

    def _is_burst(self) -> bool:
        return len(self._keys) >= self.min_length

    def _scan(self) -> list[Event]:
        text = "".join(self._keys)
        if self.prefix and text.startswith(self.prefix):
            text = text[len(self.prefix) :]
        overlong = self._overlong
        self._scan_end_t = self._last_t
        self._keys.clear()
        self._last_t = None
        self._overlong = False
        return [ScanDetected(text, overlong=overlong)]

    # -- public ----------------------------------------------------------
    @property
    def pending(self) -> bool:
        """True while keys are held back, undecided."""
        return bool(self._keys)

    def deadline(self) -> float | None:
        """When :meth:`poll` can next decide something (``None``: nothing held)."""
        return None if self._last_t is None else self._last_t + self.max_gap

    def feed(self, key: str, t: float) -> list[Event]:
        """Take one key (a character or a Kivy key name) pressed at time ``t``."""
        if key.lower() in MODIFIER_KEYS:
            return []
        events: list[Event] = []
        gap_ok = self._last_t is not None and 0 <= t - self._last_t <= self.max_gap
        if self._keys and not gap_ok:
            # The held keys were followed by a pause: a person typed them.
            events += self.poll(t)
        lowered = key.lower() if len(key) > 1 else key
        if lowered in self.suffix_keys:
            if self._keys and self._is_burst():
                scanned = self._scan()
                self._scan_end_t = t
                return events + scanned
            end = self._scan_end_t
            if not self._keys and end is not None and 0 <= t - end <= self.max_gap:
                # The LF of a CR LF suffix: part of the scan, not an Enter for the field.
                self._scan_end_t = t
                return events
            return events + self._release((key,))
        if len(key) != 1 or not key.isprintable():
            # Backspace, arrows, escape…: scanners never send these.
            return events + self._release((key,))
        self._keys.append(key)
        self._last_t = t
        if len(self._keys) > self.max_length:
            self._overlong = True
            if not self.suffix_keys:
                return events + self._scan()
            del self._keys[self.max_length :]  # keep memory bounded until the suffix
        return events

    def poll(self, t: float) -> list[Event]:
        """Release held keys once the pause after them shows no burst follows."""
        if self._last_t is None or t - self._last_t <= self.max_gap:
            return []
        if not self.suffix_keys and self._is_burst():
            return self._scan()
        return self._release()

    def flush(self) -> list[Event]:
        """Release whatever is held as typing (for example when focus changes)."""
        return self._release()


class KeyboardWedge:
    """A :class:`ScanSource` for a wedge scanner, fed by the UI's key events.

    The UI calls :meth:`feed_key` for every key-down event and inserts the
    keys it returns into the focused field (they were typed by a person);
    scans go to the ``on_scan`` callback given to :meth:`start`. The UI calls
    :meth:`poll` from a clock so a person's last keys are not held back.
    """

    def __init__(self, name: str = "wedge", *, detector: WedgeDetector | None = None) -> None:
        self.name = name
        self.detector = detector or WedgeDetector()
        self._on_scan: ScanCallback | None = None
        self._lock = threading.Lock()  # UI thread and tests may both feed

    @property
    def state(self) -> DeviceState:
        # A wedge cannot be seen until it types; "ready" once the UI listens.
        return DeviceState.READY if self._on_scan else DeviceState.UNKNOWN

    def start(self, on_scan: ScanCallback) -> None:
        self._on_scan = on_scan

    def stop(self, timeout: float = 2.0) -> None:
        self._on_scan = None

    def _dispatch(self, events: list[Event]) -> list[str]:
        typed: list[str] = []
        for ev in events:
            if isinstance(ev, TypedKeys):
                typed.extend(ev.keys)
            elif self._on_scan is not None:
                sym = Symbology.UNREADABLE if ev.overlong else Symbology.UNKNOWN
                self._on_scan(Scan(ev.text, sym, self.name))
            else:
                log.info("wedge scan %r dropped: source not started", ev.text)
        return typed

    def feed_key(self, key: str, t: float) -> list[str]:
        """Feed one key; returns the keys a person typed, to insert into the focused field."""
        with self._lock:
            return self._dispatch(self.detector.feed(key, t))

    def poll(self, t: float) -> list[str]:
        """Release keys held past the burst gap; returns typed keys like :meth:`feed_key`."""
        with self._lock:
            return self._dispatch(self.detector.poll(t))


def open_wedge(url: str, **kw: object) -> KeyboardWedge:
    """``wedge:?max_gap_ms=40&min_length=3&suffix=enter&prefix=`` → :class:`KeyboardWedge`."""
    from devices.urls import parse_device_url

    u = parse_device_url(url)
    opts = u.options
    suffix_raw = opts.get("suffix", "enter")
    detector = WedgeDetector(
        max_gap=u.float("max_gap_ms", 40.0) / 1000.0,
        min_length=u.int("min_length", 3),
        max_length=u.int("max_length", 256),
        suffix=None if suffix_raw.lower() in {"", "none"} else suffix_raw,
        prefix=opts.get("prefix", ""),
    )
    return KeyboardWedge(str(kw.get("name") or "wedge"), detector=detector)
