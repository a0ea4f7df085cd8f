"""``stdin:`` — one line per scan, for the screenless station and scripts."""

from __future__ import annotations

import os
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

    def _fd(self) -> int | None:
        try:
            return self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            return None  # StringIO and friends: readline never blocks

    def _handle(self, line: str) -> None:
        text = line.rstrip("\r\n").strip()
        if not text:
            return
        if len(text) > self.max_length or not text.isprintable():
            self._emit(Scan(text[: self.max_length], Symbology.UNREADABLE, self.name))
        else:
            self._emit(Scan(text, Symbology.UNKNOWN, self.name))

    def _run(self) -> None:
        self._set_state(DeviceState.READY)
        fd = self._fd()
        if fd is None:
            while not self._stop.is_set():
                line = self.stream.readline()
                if line == "":
                    break  # end of input
                self._handle(line)
        else:
            self._read_fd(fd)
        self._set_state(DeviceState.OFFLINE)

    def _read_fd(self, fd: int) -> None:
        """Read the descriptor itself, waiting in select() so stop() is seen.

        A buffered text stream (``sys.stdin``) may hold several lines in its
        own buffer while select() reports nothing more to read; reading the
        descriptor directly keeps the two in step.
        """
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break  # end of input
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                self._handle(raw.decode("utf-8", errors="replace"))
            if len(pending) > 4 * self.max_length:  # no newline for far too long
                self._handle(pending.decode("utf-8", errors="replace"))
                pending = b""
        if pending:
            self._handle(pending.decode("utf-8", errors="replace"))


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
