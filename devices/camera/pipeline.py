"""The default decoding pipeline: a fast first pass, then prepared images when it reads nothing.

1. zxing-cpp on the frame as it is (most frames with a code end here, in a few ms).
   It also reports where it found a code it could not read (finder patterns, bars
   whose check digit failed): those places get the extra passes first, cropped with
   their quiet zone, enlarged when small, stretched, sharpened and CLAHE-equalised,
   through two binarisers and pyzbar. A code that failed its checks is never a read.
2. A half-size copy (averaging four pixels halves sensor noise), contrast-stretched:
   zxing-cpp, then pyzbar (each reads frames the other misses).
3. Candidate regions (dense, one-directional edges, as barcodes have) cut from
   the full frame, stretched (CLAHE), enlarged when small: both decoders.
4. A binarised (Otsu) half-size copy: zxing-cpp.

Each read passes the same checks (check digits, minimum lengths), so more
attempts find more codes without inventing codes in frames that hold none.
A time budget (for the live camera) stops the later stages early; the stage a
frame starts its fallbacks at rotates, so a code held in front of the camera
meets every stage within a few frames.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from core.errors import DeviceUnavailable
from devices.base import Symbology
from devices.camera.decoders import (
    KIOSK_SYMBOLOGIES,
    Decoded,
    Decoder,
    PyzbarDecoder,
    ZxingDecoder,
    available,
    require,
)

Stage = Callable[[np.ndarray, dict[str, Any]], list[Decoded]]
Box = tuple[int, int, int, int]


def stretch(gray: np.ndarray, lo_pct: float = 1.0, hi_pct: float = 99.0) -> np.ndarray:
    """Linear contrast stretch between two percentiles (dark and washed-out frames)."""
    lo, hi = np.percentile(gray, (lo_pct, hi_pct))
    if hi - lo < 8:
        return gray
    out = (gray.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(out, 0, 255).astype(np.uint8)


def candidate_regions(
    gray_half: np.ndarray, *, max_regions: int = 3
) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h in half-size pixels) where edges are dense and mostly one-way.

    The classic barcode localiser: gradient difference, blur, threshold, close,
    then the largest blobs. Cheap (about a millisecond at 640×360).
    """
    cv2 = require("cv2")
    gx = cv2.Sobel(gray_half, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray_half, cv2.CV_32F, 0, 1, ksize=3)
    # Both orientations: a 1D code turned 90° has its edges along y.
    mag = cv2.convertScaleAbs(np.abs(np.abs(gx) - np.abs(gy)))
    mag = cv2.blur(mag, (9, 9))
    thr = max(40.0, float(np.percentile(mag, 90)))
    _, mask = cv2.threshold(mag, thr, 255, cv2.THRESH_BINARY)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    mask = cv2.erode(mask, None, iterations=2)
    mask = cv2.dilate(mask, None, iterations=4)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [cv2.boundingRect(c) for c in contours]
    boxes = [b for b in boxes if b[2] * b[3] >= 300]
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return boxes[:max_regions]


class DefaultDecoder:
    """zxing-cpp first, then prepared images with both decoders (see module docstring).

    :param budget_ms: stop trying fallbacks once this much time has gone
        (``None``: try them all, as for still images).
    :param min_length: shortest Code 39/128 accepted.
    Works with only one of the two decoders installed (the other's stages are skipped).
    """

    name = "default"

    def __init__(
        self,
        symbologies: tuple[Symbology, ...] = KIOSK_SYMBOLOGIES,
        *,
        budget_ms: float | None = None,
        min_length: int = 4,
    ) -> None:
        self.zxing: ZxingDecoder | None = (
            ZxingDecoder(symbologies, min_length=min_length) if available("zxingcpp") else None
        )
        self.pyzbar: Decoder | None = None
        if available("pyzbar.pyzbar"):
            self.pyzbar = PyzbarDecoder(symbologies, min_length=min_length)
        if self.zxing is None and self.pyzbar is None:
            raise DeviceUnavailable(
                "no barcode decoder installed: pip install zxing-cpp (recommended) "
                "or pyzbar with apt-get install libzbar0"
            )
        self._cv2 = require("cv2")
        self._clahe = self._cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4))
        self.budget_ms = budget_ms
        self.fallbacks: list[tuple[str, Stage]] = [
            ("half", self._half),
            ("regions", self._regions),
            ("otsu", self._otsu),
        ]
        self._rotation = itertools.cycle(range(len(self.fallbacks)))
        self.stage_hits: dict[str, int] = {}
        # Running estimate of pyzbar's cost, to skip it when it would overrun the budget.
        self._pyzbar_ms_per_px = 30.0 / (640 * 360)

    # -- stages --------------------------------------------------------------
    def _both(self, img: np.ndarray, ctx: dict[str, Any]) -> list[Decoded]:
        for dec in (self.zxing, self.pyzbar):
            if dec is None:
                continue
            slow = dec is self.pyzbar and self.zxing is not None
            if slow and _late(ctx, self._pyzbar_ms_per_px * img.size):
                break  # pyzbar is the slow one: skip it when it would overrun the budget
            t0 = time.perf_counter()
            found = dec.decode(img)
            if slow:
                per_px = (time.perf_counter() - t0) / max(1, img.size)
                self._pyzbar_ms_per_px = 0.8 * self._pyzbar_ms_per_px + 0.2 * per_px * 1000
            if found:
                return found
        return []

    def _half_image(self, gray: np.ndarray, ctx: dict[str, Any]) -> np.ndarray:
        if "half" not in ctx:
            h, w = gray.shape[:2]
            small = self._cv2.resize(gray, (w // 2, h // 2), interpolation=self._cv2.INTER_AREA)
            ctx["half"] = stretch(small)
        half: np.ndarray = ctx["half"]
        return half

    def _half(self, gray: np.ndarray, ctx: dict[str, Any]) -> list[Decoded]:
        return _scale_points(self._both(self._half_image(gray, ctx), ctx), 2.0, 0, 0)

    def _regions(self, gray: np.ndarray, ctx: dict[str, Any]) -> list[Decoded]:
        cv2 = self._cv2
        half = self._half_image(gray, ctx)
        h, w = gray.shape[:2]
        area = half.shape[0] * half.shape[1]
        for x, y, bw, bh in candidate_regions(half, max_regions=2):
            if bw * bh > 0.4 * area or _late(ctx):
                continue  # not a code-sized blob (noise, a whole shelf), or out of time
            # Back to full-size pixels with a margin for the quiet zone.
            mx, my = bw, bh // 2 + 10
            x0, y0 = max(0, 2 * x - mx), max(0, 2 * y - my)
            x1, y1 = min(w, 2 * (x + bw) + mx), min(h, 2 * (y + bh) + my)
            crop = gray[y0:y1, x0:x1]
            if crop.size == 0:
                continue
            prepared = self._clahe.apply(crop)
            scale = 1.0
            if max(crop.shape) < 500:  # a small code: enlarge so bars are several px wide
                scale = 2.0
                prepared = cv2.resize(prepared, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            found = self._both(prepared, ctx)
            if found:
                return _scale_points(found, 1 / scale, x0, y0)
        return []

    def _prepared(self, crop: np.ndarray) -> list[np.ndarray]:
        """Ways to look again at a crop, cheapest and most often useful first."""
        cv2 = self._cv2
        if max(crop.shape) < 600:  # small modules: enlarge so each is several pixels
            crop = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        flat = stretch(crop, 0.5, 99.5)
        blurred = cv2.GaussianBlur(flat, (0, 0), 2.0)
        sharp = cv2.addWeighted(flat, 2.0, blurred, -1.0, 0)  # unsharp mask: undo blur
        return [flat, sharp, self._clahe.apply(crop)]

    def _rescue(self, gray: np.ndarray, boxes: list[Box], ctx: dict[str, Any]) -> list[Decoded]:
        """Crop each box (with its quiet zone) and try prepared images, both decoders."""
        h, w = gray.shape[:2]
        seen: list[Box] = []
        for x, y, bw, bh in boxes:
            if any(abs(x - sx) < bw / 2 and abs(y - sy) < bh / 2 for sx, sy, _, _ in seen):
                continue  # the same code found twice (QR and Micro QR readings)
            seen.append((x, y, bw, bh))
            m = max(bw, bh) * 2 // 3 + 12  # a found part (finders, a few bars) to the whole code
            x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(w, x + bw + m), min(h, y + bh + m)
            crop = gray[y0:y1, x0:x1]
            if crop.size == 0:
                continue
            k = 2.0 if max(crop.shape) < 600 else 1.0
            for img in self._prepared(crop):
                for binarizer in ("LocalAverage", "GlobalHistogram"):
                    if _late(ctx) or self.zxing is None:
                        break
                    found, _ = self.zxing.decode_locating(img, binarizer=binarizer, downscale=False)
                    if found:
                        return _scale_points(found, 1 / k, x0, y0)
            if self.pyzbar is not None and not _late(ctx):
                found = self.pyzbar.decode(self._prepared(crop)[0])
                if found:
                    return _scale_points(found, 1 / k, x0, y0)
            if len(seen) >= 3:
                break
        return []

    def _otsu(self, gray: np.ndarray, ctx: dict[str, Any]) -> list[Decoded]:
        cv2 = self._cv2
        half = self._half_image(gray, ctx)
        smooth = cv2.GaussianBlur(half, (3, 3), 0)
        _, binary = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        dec = self.zxing or self.pyzbar
        assert dec is not None
        return _scale_points(dec.decode(binary), 2.0, 0, 0)

    # -- public ----------------------------------------------------------------
    def decode(self, gray: np.ndarray) -> list[Decoded]:
        start = time.perf_counter()
        if gray.ndim == 3:
            gray = self._cv2.cvtColor(gray, self._cv2.COLOR_BGR2GRAY)
        located: list[Box] = []
        if self.zxing is not None:
            found, located = self.zxing.decode_locating(gray)
        else:
            assert self.pyzbar is not None
            found = self.pyzbar.decode(gray)
        if found:
            self.stage_hits["first"] = self.stage_hits.get("first", 0) + 1
            return [_tag(d, self.name) for d in found]
        ctx: dict[str, Any] = {}
        if self.budget_ms is not None:
            ctx["deadline"] = start + self.budget_ms / 1000
        if located:
            # A code is there but did not read: spend the extra passes on it first, with a
            # budget of its own (frames with nothing located keep the plain budget).
            rescue_ctx = dict(ctx)
            if self.budget_ms is not None:
                rescue_ctx["deadline"] = time.perf_counter() + self.budget_ms / 1000
            found = self._rescue(gray, located, rescue_ctx)
            if found:
                self.stage_hits["located"] = self.stage_hits.get("located", 0) + 1
                return [_tag(d, self.name) for d in found]
        n = len(self.fallbacks)
        offset = next(self._rotation) if self.budget_ms is not None else 0
        for i in range(n):
            if i > 0 and _late(ctx):
                break
            label, stage = self.fallbacks[(offset + i) % n]
            found = stage(gray, ctx)
            if found:
                self.stage_hits[label] = self.stage_hits.get(label, 0) + 1
                return [_tag(d, self.name) for d in found]
        return []


def _late(ctx: dict[str, Any], need_ms: float = 0.0) -> bool:
    """Whether the frame's budget is spent (or would be, after ``need_ms`` more)."""
    deadline = ctx.get("deadline")
    return deadline is not None and time.perf_counter() + need_ms / 1000 > deadline


def _tag(d: Decoded, name: str) -> Decoded:
    return Decoded(d.text, d.symbology, f"{name}/{d.decoder}", d.points)


def _scale_points(found: list[Decoded], k: float, dx: int, dy: int) -> list[Decoded]:
    return [
        Decoded(
            d.text,
            d.symbology,
            d.decoder,
            tuple((int(px * k) + dx, int(py * k) + dy) for px, py in d.points),
        )
        for d in found
    ]
