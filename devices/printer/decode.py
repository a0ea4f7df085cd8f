"""Parse ESC/POS bytes back into what the paper would show: lines, barcodes, QR codes.

Used by the fake printer (to answer status queries and keep what it "printed")
and by tests, which assert on the decoded slip rather than on raw bytes. The
parser is incremental: feed chunks as they arrive; an incomplete command waits
for the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ESC, GS, DLE, FS, LF, CR, HT = 0x1B, 0x1D, 0x10, 0x1C, 0x0A, 0x0D, 0x09

#: GS k m (m >= 65) barcode systems.
BARCODE_SYSTEMS = {
    65: "UPC-A",
    66: "UPC-E",
    67: "EAN13",
    68: "EAN8",
    69: "CODE39",
    70: "ITF",
    71: "CODABAR",
    72: "CODE93",
    73: "CODE128",
}
#: Legacy GS k m (m <= 6), NUL-terminated.
LEGACY_BARCODES = {
    0: "UPC-A",
    1: "UPC-E",
    2: "EAN13",
    3: "EAN8",
    4: "CODE39",
    5: "ITF",
    6: "CODABAR",
}
#: ESC t n code pages the kiosk may meet; anything else is read as latin-1.
CODEPAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858"}

# ESC commands followed by a fixed number of argument bytes.
_ESC_ARGS = {
    ord("@"): 0, ord("2"): 0, ord("<"): 0, ord("i"): 0, ord("m"): 0,
    ord("!"): 1, ord("E"): 1, ord("G"): 1, ord("M"): 1, ord("a"): 1, ord("t"): 1,
    ord("-"): 1, ord("d"): 1, ord("J"): 1, ord("3"): 1, ord("V"): 1, ord("r"): 1,
    ord("{"): 1, ord("R"): 1, ord("U"): 1, ord(" "): 1, ord("c"): 2, ord("p"): 3,
    ord("$"): 2, ord("\\"): 2, ord("="): 1, ord("e"): 1,
}  # fmt: skip
_GS_ARGS = {
    ord("!"): 1, ord("h"): 1, ord("w"): 1, ord("f"): 1, ord("H"): 1, ord("B"): 1,
    ord("b"): 1, ord("a"): 1, ord("r"): 1, ord("I"): 1, ord("L"): 2, ord("W"): 2,
    ord("P"): 2, ord("$"): 2, ord("\\"): 2,
}  # fmt: skip


@dataclass(slots=True)
class DecodedSlip:
    """What was printed, in order. ``items`` hold ``(kind, value)``: kind is
    ``text``, ``barcode`` (value ``(system, data)``), ``qr``, ``image`` or ``cut``."""

    items: list[tuple[str, object]] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        """Text lines only, right-trimmed."""
        return [str(v).rstrip() for k, v in self.items if k == "text"]

    @property
    def barcodes(self) -> list[tuple[str, str]]:
        return [v for k, v in self.items if k == "barcode"]  # type: ignore[misc]

    @property
    def qr_codes(self) -> list[str]:
        return [str(v) for k, v in self.items if k == "qr"]

    @property
    def cuts(self) -> int:
        return sum(1 for k, _ in self.items if k == "cut")

    def text(self) -> str:
        return "\n".join(self.lines)

    def __contains__(self, needle: str) -> bool:
        return any(needle in line for line in self.lines)


class EscposParser:
    """Incremental ESC/POS parser.

    :param on_status: called with ``n`` for each real-time status request
        (``DLE EOT n``) and ``GS r n`` (as ``0x100 | n``); the fake printer answers there.
    :param image_decoder: turns a raster image (PIL ``Image``) into QR/barcode
        text, so a QR sent as an image still reads back; ``None`` keeps the image.
    """

    def __init__(
        self,
        *,
        on_status: Callable[[int], None] | None = None,
        image_decoder: Callable[[object], list[str]] | None = None,
    ) -> None:
        self.on_status = on_status
        self.image_decoder = image_decoder
        self.slip = DecodedSlip()
        self.slips: list[DecodedSlip] = []  # finished by a cut
        self._buf = bytearray()
        self._line = bytearray()
        self._codepage = "cp437"
        self._qr_store = b""
        self.unknown: list[int] = []

    # -- output helpers ---------------------------------------------------
    def _end_line(self) -> None:
        self.slip.items.append(("text", self._line.decode(self._codepage, errors="replace")))
        self._line.clear()

    def _flush_partial(self) -> None:
        if self._line:
            self._end_line()

    def _add(self, kind: str, value: object) -> None:
        self._flush_partial()
        self.slip.items.append((kind, value))
        if kind == "cut":
            self.slips.append(self.slip)
            self.slip = DecodedSlip()

    def _raster(self, width_bytes: int, height: int, data: bytes) -> None:
        from PIL import Image

        img = Image.frombytes("1", (width_bytes * 8, height), data)
        # ESC/POS: bit 1 = black; PIL "1": 1 = white, so invert.
        img = Image.eval(img.convert("L"), lambda v: 255 - v)
        texts = self.image_decoder(img) if self.image_decoder else []
        if texts:
            for t in texts:
                self._add("qr", t)
        else:
            self._add("image", img)

    # -- parsing ------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self._buf.extend(data)
        while self._buf:
            used = self._step(self._buf)
            if used == 0:
                break  # incomplete command: wait for more bytes
            del self._buf[:used]

    def close(self) -> DecodedSlip:
        """Finish: a trailing partial line is kept; returns every item since the start."""
        self._flush_partial()
        allitems = [i for s in self.slips for i in s.items] + self.slip.items
        return DecodedSlip(allitems)

    def _step(self, b: bytearray) -> int:  # noqa: C901 - one flat dispatch is clearest
        c = b[0]
        if c == LF:
            self._end_line()
            return 1
        if c == CR:
            return 1
        if c == HT:
            self._line.extend(b"    ")
            return 1
        if c == ESC:
            return self._esc(b)
        if c == GS:
            return self._gs(b)
        if c == DLE:
            if len(b) < 3:
                return 0
            if b[1] == 0x04:
                if self.on_status:
                    self.on_status(b[2])
                return 3
            if b[1] == 0x05:
                return 3
            if b[1] == 0x14:
                return 5 if len(b) >= 5 else 0
            return 1
        if c == FS:
            if len(b) < 2:
                return 0
            return 2
        if c >= 0x20:
            self._line.append(c)
            return 1
        self.unknown.append(c)
        return 1

    def _esc(self, b: bytearray) -> int:
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd == ord("*"):  # ESC * m nL nH data: column bit image (not used by our renderer)
            if len(b) < 5:
                return 0
            n = b[3] + 256 * b[4]
            total = 5 + n * (3 if b[2] in (32, 33) else 1)
            if len(b) < total:
                return 0
            self._add("image", None)
            return total
        nargs = _ESC_ARGS.get(cmd)
        if nargs is None:
            self.unknown.append(cmd)
            return 2
        if len(b) < 2 + nargs:
            return 0
        if cmd == ord("t"):
            self._codepage = CODEPAGES.get(b[2], "latin-1")
        elif cmd == ord("d"):
            self._flush_partial()
            for _ in range(b[2]):
                self._end_line()
        elif cmd in (ord("i"), ord("m")):
            self._add("cut", None)
        return 2 + nargs

    def _gs(self, b: bytearray) -> int:
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd == ord("V"):
            if len(b) < 3:
                return 0
            n = 4 if b[2] in (65, 66, 97, 98, 103, 104) else 3
            if len(b) < n:
                return 0
            self._add("cut", None)
            return n
        if cmd == ord("k"):
            return self._barcode(b)
        if cmd == ord("v"):  # GS v 0 m xL xH yL yH data
            if len(b) < 8:
                return 0
            wb = b[4] + 256 * b[5]
            h = b[6] + 256 * b[7]
            total = 8 + wb * h
            if len(b) < total:
                return 0
            self._raster(wb, h, bytes(b[8:total]))
            return total
        if cmd == ord("("):  # GS ( fn pL pH data
            if len(b) < 5:
                return 0
            n = b[3] + 256 * b[4]
            total = 5 + n
            if len(b) < total:
                return 0
            body = bytes(b[5:total])
            if b[2] == ord("k") and len(body) >= 2 and body[0] == 49:
                if body[1] == 80:  # store QR data (after m)
                    self._qr_store = body[3:]
                elif body[1] == 81:  # print stored QR
                    self._add("qr", self._qr_store.decode("utf-8", errors="replace"))
            return total
        if cmd == ord("r"):
            if len(b) < 3:
                return 0
            if self.on_status:
                self.on_status(0x100 | b[2])
            return 3
        nargs = _GS_ARGS.get(cmd)
        if nargs is None:
            self.unknown.append(cmd)
            return 2
        if len(b) < 2 + nargs:
            return 0
        return 2 + nargs

    def _barcode(self, b: bytearray) -> int:
        if len(b) < 3:
            return 0
        m = b[2]
        if m <= 6:
            end = b.find(b"\x00", 3)
            if end < 0:
                return 0
            self._add("barcode", (LEGACY_BARCODES[m], b[3:end].decode("ascii", "replace")))
            return end + 1
        if len(b) < 4:
            return 0
        n = b[3]
        if len(b) < 4 + n:
            return 0
        data = bytes(b[4 : 4 + n]).decode("ascii", "replace")
        system = BARCODE_SYSTEMS.get(m, f"type{m}")
        if system == "CODE128" and len(data) >= 2 and data[0] == "{" and data[1] in "ABC":
            data = data[2:]  # the code-set selector is not part of the content
        self._add("barcode", (system, data))
        return 4 + n


def zxing_image_decoder(img: object) -> list[str]:
    """Read QR codes in a raster image with zxing-cpp when it is installed (else none)."""
    try:
        import zxingcpp
        from PIL import ImageOps
    except ImportError:
        return []
    padded = ImageOps.expand(img, border=16, fill=255)  # type: ignore[arg-type]
    return [r.text for r in zxingcpp.read_barcodes(padded) if r.valid]


def decode_bytes(
    data: bytes, *, image_decoder: Callable[[object], list[str]] | None = None
) -> DecodedSlip:
    """Decode a whole ESC/POS byte string at once (raster QR images read with zxing-cpp)."""
    parser = EscposParser(image_decoder=image_decoder or zxing_image_decoder)
    parser.feed(data)
    return parser.close()
