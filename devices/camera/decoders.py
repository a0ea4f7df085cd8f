"""Barcode decoders behind one interface: zxing-cpp, pyzbar, and the default pipeline.

Imports are guarded: ``import devices.camera`` never fails for want of
OpenCV, zxing-cpp or pyzbar; making a decoder that needs one raises
:class:`DeviceUnavailable` with the install command.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.errors import DeviceUnavailable
from devices.base import Symbology
from devices.checkdigits import ean8_valid, ean13_valid, upca_valid, upce_to_upca, upce_valid

#: The symbologies the kiosk reads (others are not even searched for: faster, fewer misreads).
KIOSK_SYMBOLOGIES: tuple[Symbology, ...] = (
    Symbology.CODE128,
    Symbology.CODE39,
    Symbology.EAN13,
    Symbology.EAN8,
    Symbology.UPCA,
    Symbology.UPCE,
    Symbology.QR,
)

_HINTS = {
    "cv2": "pip install opencv-python-headless",
    "zxingcpp": "pip install zxing-cpp",
    "pyzbar": "pip install pyzbar, and the zbar library: apt-get install libzbar0",
}


def require(module: str, package: str = "") -> Any:
    """Import ``module`` or raise :class:`DeviceUnavailable` naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pyzbar raises ImportError when libzbar0 is missing too
        hint = _HINTS.get(module, f"pip install {package or module}")
        raise DeviceUnavailable(
            f"the camera needs {module!r} ({exc}); install it: {hint} "
            "(or: pip install 'pustaka-kiosk[camera]')"
        ) from exc


def available(module: str) -> bool:
    try:
        require(module)
    except DeviceUnavailable:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Decoded:
    """One code found in a frame."""

    text: str
    symbology: Symbology
    decoder: str = ""
    points: tuple[tuple[int, int], ...] = ()


def upca_to_upce(upca: str) -> str | None:
    """Compress a 12-digit UPC-A to UPC-E when it has a UPC-E form (else ``None``)."""
    if len(upca) != 12 or not upca.isdigit() or upca[0] not in "01":
        return None
    ns, m, p, check = upca[0], upca[1:6], upca[6:11], upca[11]
    candidates = [
        m[0:2] + p[2:5] + m[2],
        m[0:3] + p[3:5] + "3",
        m[0:4] + p[4] + "4",
        m[0:5] + p[4],
    ]
    for body in candidates:
        e = ns + body + check
        if upce_to_upca(e) == upca:
            return e
    return None


def normalize(symbology: Symbology, text: str, *, min_length: int = 4) -> Decoded | None:
    """Canonical text per symbology, or ``None`` for a read to reject.

    EAN/UPC: a 13-digit code starting with 0 is a UPC-A (GS1), UPC-E is given
    in its 8-digit form, and every check digit is verified (a misread digit
    must never become a wrong item). Code 39/128 shorter than ``min_length``
    are dropped: short 1D "codes" are what shelves and text produce.
    """
    t = text.strip()
    if not t:
        return None
    if symbology is Symbology.UPCE:
        if len(t) == 13 and t[0] == "0":
            t = t[1:]
        if len(t) == 12:
            t = upca_to_upce(t) or ""
        return Decoded(t, symbology) if upce_valid(t) else None
    if symbology in (Symbology.EAN13, Symbology.UPCA):
        if len(t) == 13 and t[0] == "0":
            t, symbology = t[1:], Symbology.UPCA
        if len(t) == 12:
            return Decoded(t, Symbology.UPCA) if upca_valid(t) else None
        return Decoded(t, Symbology.EAN13) if ean13_valid(t) else None
    if symbology is Symbology.EAN8:
        return Decoded(t, symbology) if ean8_valid(t) else None
    if symbology in (Symbology.CODE39, Symbology.CODE128):
        if len(t) < min_length or not t.isprintable():
            return None
        return Decoded(t, symbology)
    if symbology is Symbology.QR:
        return Decoded(t, symbology)
    return None


@runtime_checkable
class Decoder(Protocol):
    """Finds codes in a greyscale frame (``uint8`` 2-D array)."""

    name: str

    def decode(self, gray: np.ndarray) -> list[Decoded]: ...


def _finish(
    raw: list[tuple[Symbology, str, tuple[tuple[int, int], ...]]], name: str, min_length: int
) -> list[Decoded]:
    out: list[Decoded] = []
    seen: set[tuple[Symbology, str]] = set()
    for sym, text, pts in raw:
        d = normalize(sym, text, min_length=min_length)
        if d is None or (d.symbology, d.text) in seen:
            continue
        seen.add((d.symbology, d.text))
        out.append(Decoded(d.text, d.symbology, name, pts))
    return out


class ZxingDecoder:
    """zxing-cpp, restricted to the kiosk's symbologies (fast: ~ms per frame)."""

    name = "zxing"

    _FORMATS = {
        Symbology.CODE128: "Code128",
        Symbology.CODE39: "Code39",
        Symbology.EAN13: "EAN13",
        Symbology.EAN8: "EAN8",
        Symbology.UPCA: "UPCA",
        Symbology.UPCE: "UPCE",
        Symbology.QR: "QRCode",
    }
    _BACK = {
        "Code 128": Symbology.CODE128,
        "Code 39": Symbology.CODE39,
        "EAN-13": Symbology.EAN13,
        "EAN-8": Symbology.EAN8,
        "UPC-A": Symbology.UPCA,
        "UPC-E": Symbology.UPCE,
        "QR Code": Symbology.QR,
    }

    def __init__(
        self,
        symbologies: tuple[Symbology, ...] = KIOSK_SYMBOLOGIES,
        *,
        try_rotate: bool = True,
        try_downscale: bool = True,
        try_invert: bool = True,
        binarizer: str = "LocalAverage",
        min_length: int = 4,
    ) -> None:
        self._z: ModuleType = require("zxingcpp")
        fmt = self._z.BarcodeFormat
        self.formats = tuple(getattr(fmt, self._FORMATS[s]) for s in symbologies)
        self.try_rotate = try_rotate
        self.try_downscale = try_downscale
        self.try_invert = try_invert
        self.binarizer = getattr(self._z.Binarizer, binarizer)
        self.min_length = min_length
        self._plain = self._z.TextMode.Plain

    def decode(self, gray: np.ndarray) -> list[Decoded]:
        return self.decode_locating(gray)[0]

    def decode_locating(
        self, gray: np.ndarray, *, binarizer: str | None = None, downscale: bool | None = None
    ) -> tuple[list[Decoded], list[tuple[int, int, int, int]]]:
        """The codes read, and boxes (x, y, w, h) where a code was found but not read.

        A code that fails its checks (a QR with too many damaged modules, a barcode
        whose check digit is wrong) is never reported as read, only as a place worth
        a closer look.
        """
        results = self._z.read_barcodes(
            gray,
            formats=self.formats,
            try_rotate=self.try_rotate,
            try_downscale=self.try_downscale if downscale is None else downscale,
            try_invert=self.try_invert,
            binarizer=self.binarizer
            if binarizer is None
            else getattr(self._z.Binarizer, binarizer),
            text_mode=self._plain,
            return_errors=True,
        )
        raw = []
        located: list[tuple[int, int, int, int]] = []
        for r in results:
            p = r.position
            if not r.valid:
                xs = [q.x for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
                ys = [q.y for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
                x0, y0 = int(min(xs)), int(min(ys))
                located.append((x0, y0, int(max(xs)) - x0 + 1, int(max(ys)) - y0 + 1))
                continue
            sym = self._BACK.get(str(r.format))
            if sym is None:
                continue
            pts = tuple(
                (int(q.x), int(q.y))
                for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
            )
            raw.append((sym, r.text, pts))
        return _finish(raw, self.name, self.min_length), located


class PyzbarDecoder:
    """pyzbar (the zbar library): slower, but it reads some frames zxing-cpp misses."""

    name = "pyzbar"

    _SYMBOLS = {
        Symbology.CODE128: "CODE128",
        Symbology.CODE39: "CODE39",
        Symbology.EAN13: "EAN13",
        Symbology.EAN8: "EAN8",
        Symbology.UPCA: "UPCA",
        Symbology.UPCE: "UPCE",
        Symbology.QR: "QRCODE",
    }

    def __init__(
        self, symbologies: tuple[Symbology, ...] = KIOSK_SYMBOLOGIES, *, min_length: int = 4
    ) -> None:
        self._pz: ModuleType = require("pyzbar.pyzbar", "pyzbar")
        zs = self._pz.ZBarSymbol
        self.symbols = [getattr(zs, self._SYMBOLS[s]) for s in symbologies]
        self._back = {self._SYMBOLS[s]: s for s in symbologies}
        self.min_length = min_length

    def decode(self, gray: np.ndarray) -> list[Decoded]:
        h, w = gray.shape[:2]
        data = np.ascontiguousarray(gray)
        results = self._pz.decode((data.tobytes(), w, h), symbols=self.symbols)
        raw = []
        for r in results:
            sym = self._back.get(r.type)
            if sym is None:
                continue
            try:
                text = r.data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            raw.append((sym, text, tuple((int(p.x), int(p.y)) for p in r.polygon)))
        return _finish(raw, self.name, self.min_length)
