"""The default decoding pipeline: one fast pass, then a closer look only where a code is.

1. zxing-cpp on the frame as it is (most frames with a code end here, in a few ms).
2. Where is a code that did not read? zxing-cpp reports where it found one it could
   not read (finder patterns, bars whose check digit failed), and a gradient
   localiser on a half-size copy finds dense one-way edges (bars, modules) in about
   a millisecond. Each such place is cropped with its quiet zone and looked at again:
   enlarged (small modules), sharpened (blur from a moving hand or a soft lens),
   brightened by a gamma curve (an underexposed frame), stretched, through both of
   zxing-cpp's binarisers and pyzbar. This is where the extra time goes, and only on
   frames that hold something code-like; it stops at the first read.
3. A frame where nothing was located ends after the first pass. (Whole-frame
   passes on a half-size, stretched or Otsu-binarised copy read nothing more on
   the realistic and the synthetic sets once the closer look existed.)

For the live camera the closer look has a limit in CPU time from the frame's start
(see :class:`DefaultDecoder`); ``kiosk decode`` runs with none.

Each read passes the same checks (check digits, minimum lengths; a QR code's error
correction), so more attempts find more codes without inventing codes in frames
that hold none, and a code that failed its checks is never a read. Two different
codes read on the same spot are kept only when pyzbar confirms them there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
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

Box = tuple[int, int, int, int]

#: The live camera's limits (CPU ms from a frame's start): where only the edge
#: localiser found something (most unread barcodes, but also text, faces, shelves),
#: and where zxing-cpp found a code it could not read (worth more: the camera drops
#: the frames that arrive meanwhile, and a code in view is worth them).
LIVE_BUDGET_MS = 60.0
LIVE_RESCUE_MS = 150.0


#: A crop is enlarged (at most 3x) until its longer side is about this many pixels.
ENLARGE_TO = 1400


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
    """zxing-cpp first, then a closer look where a code is (see module docstring).

    :param budget_ms: time for a frame where only the edge localiser found something
        (``None``: no limit, as for still images; the camera uses
        :data:`LIVE_BUDGET_MS`).
    :param rescue_ms: time for a frame where zxing-cpp found a code it could not read
        (``None``: as ``budget_ms``; the camera uses :data:`LIVE_RESCUE_MS`).
    Both are this thread's CPU time from the frame's start, so they mean the same
    work on a busy machine.
    :param min_length: shortest Code 39/128 accepted.
    Works with only one of the two decoders installed (the other's stages are skipped).
    """

    name = "default"

    def __init__(
        self,
        symbologies: tuple[Symbology, ...] = KIOSK_SYMBOLOGIES,
        *,
        budget_ms: float | None = None,
        rescue_ms: float | None = None,
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
        self._gamma_half = (255 * (np.arange(256) / 255) ** 0.5).astype(np.uint8)
        self.budget_ms = budget_ms
        self.rescue_ms = rescue_ms if rescue_ms is not None else budget_ms
        self.stage_hits: dict[str, int] = {}

    # -- where a code is -------------------------------------------------------
    def _half_image(self, gray: np.ndarray, ctx: dict[str, Any]) -> np.ndarray:
        if "half" not in ctx:
            h, w = gray.shape[:2]
            small = self._cv2.resize(gray, (w // 2, h // 2), interpolation=self._cv2.INTER_AREA)
            ctx["half"] = stretch(small)
        half: np.ndarray = ctx["half"]
        return half

    def _places(self, gray: np.ndarray, located: list[Box], ctx: dict[str, Any]) -> list[Box]:
        """Crops (x0, y0, x1, y1) worth a closer look: zxing-cpp's unread codes, then edges."""
        h, w = gray.shape[:2]
        out: list[Box] = []

        def add(x0: int, y0: int, x1: int, y1: int) -> None:
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            if x1 - x0 < 16 or y1 - y0 < 16:
                return
            for ox0, oy0, ox1, oy1 in out:  # already covered (QR and Micro QR, two finders)
                if x0 >= ox0 - 8 and y0 >= oy0 - 8 and x1 <= ox1 + 8 and y1 <= oy1 + 8:
                    return
            out.append((x0, y0, x1, y1))

        for x, y, bw, bh in located:
            m = max(bw, bh) + 16  # a found part (a finder, a few bars) to the whole code
            add(x - m, y - m, x + bw + m, y + bh + m)
        half = self._half_image(gray, ctx)
        area = half.shape[0] * half.shape[1]
        for x, y, bw, bh in candidate_regions(half, max_regions=3):
            if bw * bh > 0.4 * area:
                continue  # not a code-sized blob (a whole shelf, a striped shirt)
            mx, my = bw // 2 + 12, bh // 2 + 12  # full-size pixels; quiet zone and more
            add(2 * x - mx, 2 * y - my, 2 * (x + bw) + mx, 2 * (y + bh) + my)
        return out[:4]

    # -- a closer look ---------------------------------------------------------
    def _views(self, crop: np.ndarray) -> Iterator[tuple[np.ndarray, float, str]]:
        """Ways to look again at a crop (image, its scale, binariser), most useful first.

        Made one at a time: the first read stops the rest.
        """
        cv2 = self._cv2
        # Enlarged to about ENLARGE_TO pixels (at most 3x): modules of 2-4 pixels in a
        # webcam frame become 6-12, which zxing-cpp's sampling needs on a bent or
        # blurred code. zxing-cpp's time grows slowly with size where nothing reads.
        k = min(3.0, max(1.0, round(ENLARGE_TO / max(crop.shape) * 2) / 2))
        flat = stretch(crop, 0.5, 99.5)
        big = cv2.resize(flat, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC) if k > 1 else flat
        sharp = _unsharp(cv2, big, 1.5 * k)  # undo blur: a moving hand, a soft lens
        yield sharp, k, "LocalAverage"
        smooth = cv2.GaussianBlur(flat, (0, 0), 1.0)  # average out a dark frame's noise
        yield smooth, 1.0, "LocalAverage"
        yield big, k, "LocalAverage"
        bright = cv2.LUT(big, self._gamma_half)  # lifts dark modules apart (underexposed)
        yield bright, k, "LocalAverage"
        yield cv2.LUT(smooth, self._gamma_half), 1.0, "LocalAverage"
        # Denoised, brightened, enlarged, sharpened: a dark and blurred frame.
        dark = cv2.LUT(cv2.GaussianBlur(flat, (0, 0), 0.8), self._gamma_half)
        if k > 1:
            dark = cv2.resize(dark, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
        yield _unsharp(cv2, dark, 1.5 * k), k, "LocalAverage"
        yield sharp, k, "GlobalHistogram"
        yield flat, 1.0, "GlobalHistogram"
        yield bright, k, "GlobalHistogram"
        if k > 1:
            yield _unsharp(cv2, flat, 1.5), 1.0, "LocalAverage"
        soft = cv2.GaussianBlur(flat, (0, 0), 1.0)  # JPEG blocks and noise, then sharpened
        if k > 1:
            soft = cv2.resize(soft, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
        yield _unsharp(cv2, soft, 2.0 * k, 2.5), k, "LocalAverage"

    def _rescue(self, gray: np.ndarray, places: list[Box], ctx: dict[str, Any]) -> list[Decoded]:
        """The places' views through zxing-cpp, then pyzbar on the first two; first read wins.

        Every place gets its first (most often successful) view before any gets the
        rest, so that a place that holds no code does not use up the time.
        """
        pending = [(box, self._views(gray[box[1] : box[3], box[0] : box[2]])) for box in places]
        tried: dict[Box, list[tuple[np.ndarray, float]]] = {box: [] for box in places}
        for first_only in (True, False):
            for (x0, y0, x1, y1), views in pending:
                for img, k, binarizer in views:
                    if _late(ctx):
                        return []
                    tried[(x0, y0, x1, y1)].append((img, k))
                    if self.zxing is not None:
                        found, _ = self.zxing.decode_locating(
                            img, binarizer=binarizer, downscale=False
                        )
                        if found:
                            return _scale_points(found, 1 / k, x0, y0)
                    if first_only:
                        break
        for (x0, y0, _, _), done in tried.items():
            if self.pyzbar is not None:
                for img, k in done[:2]:
                    if _late(ctx, self._pyzbar_ms(img)):
                        break
                    found = self.pyzbar.decode(img)
                    if found:
                        return _scale_points(found, 1 / k, x0, y0)
        return []

    def _pyzbar_ms(self, img: np.ndarray) -> float:
        return 30.0 * img.size / (640 * 360)  # about what pyzbar takes on one core

    # -- public ----------------------------------------------------------------
    def decode(self, gray: np.ndarray) -> list[Decoded]:
        start = _clock()
        if gray.ndim == 3:
            gray = self._cv2.cvtColor(gray, self._cv2.COLOR_BGR2GRAY)
        located: list[Box] = []
        if self.zxing is not None:
            found, located = self.zxing.decode_locating(gray)
        else:
            assert self.pyzbar is not None
            found = self.pyzbar.decode(gray)
        found = self._agreed(found, gray)
        if found:
            return self._hit("first", found)
        ctx: dict[str, Any] = {}
        places = self._places(gray, located, ctx)
        if not places:
            return []
        # A code zxing-cpp found is worth more time than edges alone (text, a face and
        # shelves have edges too); both limits count from the frame's start.
        limit = self.rescue_ms if located else self.budget_ms
        if limit is not None:
            ctx["deadline"] = start + limit / 1000
        found = self._agreed(self._rescue(gray, places, ctx), gray)
        return self._hit("located", found) if found else []

    def _hit(self, stage: str, found: list[Decoded]) -> list[Decoded]:
        self.stage_hits[stage] = self.stage_hits.get(stage, 0) + 1
        return [_tag(d, self.name) for d in found]

    def _agreed(self, found: list[Decoded], gray: np.ndarray) -> list[Decoded]:
        """Drop reads that another read of the same code contradicts, unless confirmed.

        zxing-cpp scans a frame several ways (turned, inverted, smaller); on a blurred
        or badly lit EAN-13 one scan can find a different code whose check digit holds
        by chance (about one wrong digit in ten passes the check), in the same place as
        the right one. Where two different codes overlap, only what a second look at
        that place (pyzbar, or zxing-cpp's other binariser without it) also reads is
        kept: a wrong item is worse than a frame that reads nothing.
        """
        if len(found) < 2:
            return found
        boxes = [_bounds(d.points, d.symbology is not Symbology.QR) for d in found]
        keep: list[Decoded] = []
        for i, d in enumerate(found):
            rivals = [j for j, b in enumerate(boxes) if j != i and _overlap(boxes[i], b)]
            if not rivals:
                keep.append(d)
                continue
            x0, y0, x1, y1 = boxes[i]
            for j in rivals:
                x0, y0 = min(x0, boxes[j][0]), min(y0, boxes[j][1])
                x1, y1 = max(x1, boxes[j][2]), max(y1, boxes[j][3])
            m = max(x1 - x0, y1 - y0) // 3 + 16
            h, w = gray.shape[:2]
            crop = gray[max(0, y0 - m) : min(h, y1 + m), max(0, x0 - m) : min(w, x1 + m)]
            if crop.size == 0:
                continue
            # pyzbar is the second look: zxing-cpp tends to repeat its own misread.
            if self.pyzbar is not None:
                again = self.pyzbar.decode(stretch(crop))
            else:
                assert self.zxing is not None
                again = self.zxing.decode_locating(crop, binarizer="GlobalHistogram")[0]
            if any(a.text == d.text and a.symbology is d.symbology for a in again):
                keep.append(d)
        return keep


def _unsharp(cv2: Any, img: np.ndarray, sigma: float, amount: float = 1.5) -> np.ndarray:
    soft = cv2.GaussianBlur(img, (0, 0), sigma)
    out: np.ndarray = cv2.addWeighted(img, 1 + amount, soft, -amount, 0)
    return out


def _bounds(points: tuple[tuple[int, int], ...], linear: bool = False) -> Box:
    """The box (x0, y0, x1, y1) round a read's corners.

    A linear code is often reported as the one scan line that read it: its box is
    widened to the bars' height (at least half the code's length for every symbology
    the kiosk reads), so that two reads of one code overlap.
    """
    if not points:
        return (0, 0, 0, 0)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs) + 1, max(ys) + 1
    if linear:
        grow = max(x1 - x0, y1 - y0) // 2
        x0, y0, x1, y1 = x0 - grow, y0 - grow, x1 + grow, y1 + grow
    return x0, y0, x1, y1


def _overlap(a: Box, b: Box) -> bool:
    """Whether two boxes (x0, y0, x1, y1) share pixels; a 1D code's box may be a line."""
    pad = 4
    return (
        a[0] - pad < b[2] + pad
        and b[0] - pad < a[2] + pad
        and a[1] - pad < b[3] + pad
        and b[1] - pad < a[3] + pad
    )


def _clock() -> float:
    """This thread's CPU time: budgets count the work done on this frame, not the time
    other processes held the core (a loaded machine would otherwise read fewer codes)."""
    return time.thread_time()


def _late(ctx: dict[str, Any], need_ms: float = 0.0) -> bool:
    """Whether the frame's budget is spent (or would be, after ``need_ms`` more)."""
    deadline = ctx.get("deadline")
    return deadline is not None and _clock() + need_ms / 1000 > deadline


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
