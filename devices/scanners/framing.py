"""Split a serial scanner's byte stream into codes, by a configurable terminator.

Pure and incremental (bytes arrive in any chunking), so it is fuzzed with
hypothesis. Garbage (control bytes, invalid UTF-8) and over-long lines become
frames marked unreadable; nothing here raises on input.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import Symbology

#: Named terminators a config may use.
TERMINATORS: dict[str, bytes] = {
    "cr": b"\r",
    "lf": b"\n",
    "crlf": b"\r\n",
    "tab": b"\t",
    "etx": b"\x03",
    "eot": b"\x04",
}

#: AIM symbology identifiers (``]C0``…) some scanners send before the code.
AIM_IDS: dict[str, Symbology] = {
    "C": Symbology.CODE128,
    "A": Symbology.CODE39,
    "Q": Symbology.QR,
    "E": Symbology.EAN13,  # ]E0 EAN-13/UPC-A, ]E4 EAN-8 (fixed below)
}


def parse_terminator(spec: str) -> bytes:
    """``CR``, ``LF``, ``CRLF``, ``TAB``, ``ETX``, ``0x03``, or the literal characters."""
    if not spec:
        raise ValueError("terminator must not be empty")
    named = TERMINATORS.get(spec.lower())
    if named is not None:
        return named
    if spec.lower().startswith("0x"):
        try:
            return bytes([int(spec, 16)])
        except ValueError:
            raise ValueError(f"terminator {spec!r} is not a byte like 0x03") from None
    return spec.encode("latin-1", errors="strict")


@dataclass(frozen=True, slots=True)
class Frame:
    """One code: its text and symbology (UNREADABLE for garbage or over-long lines)."""

    text: str
    symbology: Symbology = Symbology.UNKNOWN


class LineFramer:
    """Incremental framer.

    :param terminator: the bytes after each code. With CR or LF alone, the
        other of the pair is also accepted and empty lines are skipped, so a
        scanner configured for CRLF still works.
    :param max_length: longest code kept; a longer line is reported once as
        UNREADABLE (its first ``max_length`` characters) and the rest skipped.
    :param prefix: stripped from the front of each code when present.
    :param aim: read AIM symbology identifiers (``]C0`` …) and strip them.
    """

    def __init__(
        self,
        terminator: bytes = b"\r",
        *,
        max_length: int = 256,
        prefix: str = "",
        aim: bool = False,
    ) -> None:
        if not terminator:
            raise ValueError("terminator must not be empty")
        self.terminator = terminator
        self.loose = terminator in (b"\r", b"\n", b"\r\n")
        self.max_length = max_length
        self.prefix = prefix
        self.aim = aim
        self._buf = bytearray()
        self._skipping = False  # inside an over-long line, until its terminator

    def _split_points(self) -> tuple[int, int] | None:
        """(end of code, start of next) for the first terminator in the buffer."""
        if self.loose:
            for i, b in enumerate(self._buf):
                if b in (0x0D, 0x0A):
                    return i, i + 1
            return None
        i = self._buf.find(self.terminator)
        return None if i < 0 else (i, i + len(self.terminator))

    def _frame(self, raw: bytes) -> Frame | None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Frame(raw.decode("latin-1")[: self.max_length], Symbology.UNREADABLE)
        # Some scanners wrap codes in STX/ETX; those are framing, not content.
        text = text.strip("\x02\x03 ")
        if not text:
            return None
        if not text.isprintable():
            return Frame(text[: self.max_length], Symbology.UNREADABLE)
        symbology = Symbology.UNKNOWN
        if self.aim and len(text) >= 3 and text[0] == "]":
            symbology = AIM_IDS.get(text[1], Symbology.UNKNOWN)
            if text[1] == "E" and text[2] == "4":
                symbology = Symbology.EAN8
            text = text[3:]
        if self.prefix and text.startswith(self.prefix):
            text = text[len(self.prefix) :]
        return Frame(text, symbology) if text else None

    def feed(self, data: bytes) -> list[Frame]:
        """Take the next chunk; return the codes it completes."""
        self._buf.extend(data)
        frames: list[Frame] = []
        while True:
            cut = self._split_points()
            if cut is None:
                break
            end, nxt = cut
            raw = bytes(self._buf[:end])
            del self._buf[:nxt]
            if self._skipping:
                self._skipping = False
                continue
            frame = self._frame(raw)
            if frame is not None:
                if len(frame.text) > self.max_length:
                    frame = Frame(frame.text[: self.max_length], Symbology.UNREADABLE)
                frames.append(frame)
        if len(self._buf) > self.max_length * 4 + 16:
            # No terminator for far too long: report once, then skip to the next one.
            if not self._skipping:
                head = bytes(self._buf[: self.max_length]).decode("latin-1")
                frames.append(Frame(head, Symbology.UNREADABLE))
            self._skipping = True
            self._buf.clear()
        return frames

    def reset(self) -> None:
        """Forget a partial line (after an unplug, the rest of it will never come)."""
        self._buf.clear()
        self._skipping = False
