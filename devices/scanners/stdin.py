"""``stdin:`` — one line per scan, for the screenless station and scripts."""

from __future__ import annotations

import select
import sys
from typing import TextIO

from devices.base import DeviceState, Scan, StateCallback, Symbology
from devices.scanners._thread import ThreadedSource
from devices.urls import parse_device_url


class StdinScanner(ThreadedSource):
    """Reads lines from a text stream (``sys.stdin`` by default); each non-empty line is a scan.

    Lines longer than ``max_length`` or holding control characters come out
    as :attr:`Symbology.UNREADABLE`. End of input turns the source OFFLINE.
    """

    def __init__(
        self,
        name: str = "stdin",
        *,
        stream: TextIO | None = None,
        max_length: int = 256,
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(name, on_state=on_state)
        self.stream = stream if stream is not None else sys.stdin
        self.max_length = max_length

    def _readable(self) -> bool:
        """Wait up to 0.2 s for input when the stream has a file descriptor, so stop() works."""
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            return True  # StringIO and friends: readline never blocks
        ready, _, _ = select.select([fd], [], [], 0.2)
        return bool(ready)

    def _run(self) -> None:
        self._set_state(DeviceState.READY)
        while not self._stop.is_set():
            if not self._readable():
                continue
            line = self.stream.readline()
            if line == "":
                break  # end of input
            text = line.rstrip("\r\n").strip()
            if not text:
                continue
            if len(text) > self.max_length or not text.isprintable():
                self._emit(Scan(text[: self.max_length], Symbology.UNREADABLE, self.name))
            else:
                self._emit(Scan(text, Symbology.UNKNOWN, self.name))
        self._set_state(DeviceState.OFFLINE)


def open_stdin(url: str, **kw: object) -> StdinScanner:
    """``stdin:?max_length=256``."""
    u = parse_device_url(url)
    stream = kw.get("stream")
    return StdinScanner(
        str(kw.get("name") or "stdin"),
        stream=stream if stream is not None else None,  # type: ignore[arg-type]
        max_length=u.int("max_length", 256),
        on_state=kw.get("on_state"),  # type: ignore[arg-type]
    )
