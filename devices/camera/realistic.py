"""Realistic camera frames: codes the way a kiosk webcam sees them, and frames that hold none.

No photographs can be taken where the tests run, so this module makes them, in the
order light travels: an object (a printed slip, a book, a phone's screen) carries
the code and its own defects; it is held in front of the camera at a slant; the
lens softens, bends and smears it; the sensor exposes it too bright or too dark and
adds its noise, row by row (rolling shutter); the webcam's encoder compresses it to
JPEG. Every frame has a little of each (a real webcam always does); a named
degradation pushes one cause to its ``mild`` or its ``hard`` level. ``hard`` is the
worst a person at the kiosk would still call a readable code: the code is plainly in
view and a person would expect a scanner to read it.

Everything is seeded: ``frame(kind, level, symbology, seed)`` is the same on every
run. Used by the tests and ``bench/bench_camera.py``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from devices.base import Symbology

LEVELS = {"mild": 0.5, "hard": 1.0}
#: A combination pushes each of its causes this far (two causes at once, each a bit less).
COMBO_SEVERITY = 0.8

#: The symbologies a kiosk camera meets: QR tickets, book and item barcodes, library cards.
LINEAR = (Symbology.EAN13, Symbology.CODE128, Symbology.CODE39, Symbology.UPCA)


def _cv2() -> Any:
    from devices.camera.decoders import require

    return require("cv2", "opencv-python-headless")


# -- what the codes say --------------------------------------------------------------


def ticket_text(rng: random.Random) -> str:
    """A door ticket as the kiosk prints it: signed (about 105 characters) or unsigned."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    code = "".join(rng.choice(alphabet) for _ in range(10))
    event = rng.randint(1, 9999)
    if rng.random() < 0.2:
        return f"PKU.{event}.{code}"
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return f"PK1.{event}.{code}." + "".join(rng.choice(b64) for _ in range(86))


def _gs1_check(body: str) -> str:
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def linear_text(symbology: Symbology, rng: random.Random) -> str:
    """An ISBN, a UPC, a library item barcode or a patron card number."""
    if symbology is Symbology.EAN13:
        body = rng.choice(["978602", "978623", "979"]) + "".join(
            rng.choice("0123456789") for _ in range(12 - 6)
        )
        body = body[:12].ljust(12, "0")
        return body + _gs1_check(body)
    if symbology is Symbology.UPCA:
        body = "0" + "".join(rng.choice("0123456789") for _ in range(10))
        return body + _gs1_check(body)
    if symbology is Symbology.CODE39:
        return rng.choice("BPR") + "".join(rng.choice("0123456789") for _ in range(7))
    return rng.choice(["AGT", "B", "PK"]) + "".join(rng.choice("0123456789") for _ in range(7))


#: python-barcode's names and payloads (it adds the check digit itself).
_LINEAR_KINDS: dict[Symbology, tuple[str, Callable[[str], str], dict[str, Any]]] = {
    Symbology.CODE128: ("code128", lambda d: d, {}),
    Symbology.CODE39: ("code39", lambda d: d, {"add_checksum": False}),
    Symbology.EAN13: ("ean13", lambda d: d[:12], {}),
    Symbology.UPCA: ("upca", lambda d: d[:11], {}),
}


def _code_modules(symbology: Symbology, data: str) -> tuple[np.ndarray, int]:
    """The code at one pixel per module (0 black, 255 white), with its quiet zone; modules wide.

    QR codes come from zxing-cpp's writer (level M, the mask chosen by the standard's
    penalty rules, as segno does), in a fraction of segno's time: scoring the eight
    masks in Python was the slowest step of a QR frame.
    """
    if symbology is Symbology.QR:
        from devices.camera.decoders import require

        z = require("zxingcpp")
        qr = z.create_barcode(data, z.BarcodeFormat.QRCode, ec_level="M")
        m = np.asarray(qr.to_image(scale=1, add_quiet_zones=False), dtype=np.uint8)
        img = np.pad(m, 4, constant_values=255)
        return img, img.shape[1]
    import barcode

    name, payload, extra = _LINEAR_KINDS[symbology]
    bars = barcode.get(name, payload(data), options=extra).build()[0].strip("0")
    dark = np.frombuffer(bars.encode(), np.uint8) == ord("1")
    # Two pixels a module, every bar exactly its width; quiet zones and bar height as
    # synth.code_image draws them.
    row = np.pad(np.where(np.repeat(dark, 2), 0, 255).astype(np.uint8), 32, constant_values=255)
    img = np.full((156, row.size), 255, np.uint8)
    img[18:139] = row
    return img, img.shape[1] // 2


# -- the conditions of one frame -----------------------------------------------------


@dataclass
class Conditions:
    """Everything that shapes one frame; a degradation changes some of these."""

    scene: str = "slip"  # slip | book | phone
    frame_size: tuple[int, int] = (1280, 720)
    px_per_module: float = 4.0
    rotation_deg: float = 0.0
    tilt: float = 0.05  # perspective: how much nearer one edge is than the other (fraction)
    centre: tuple[float, float] = (0.5, 0.5)  # where the code is, as a fraction of the frame
    paper: float = 0.0  # paper texture and uneven light
    ink_spread: float = 0.0  # fraction of a module the ink grows by
    curl_deg: float = 0.0  # arc the slip bends through across the code
    fold: float = 0.0  # a crease: angle change and shadow
    cover_curve_deg: float = 0.0  # a book's curved, glossy cover
    screen_door: float = 0.0  # phone pixel grid, sampled by the sensor: moiré
    glare: float = 0.0  # a lamp's reflection on glass or gloss
    screen_bright: float = 0.0  # phone at full brightness: whites clip and bloom
    finger: float = 0.0  # a thumb over a corner, as a fraction of the code's width
    exposure: float = 1.0  # gain: >1 too bright, <1 too dark
    jpeg_quality: int = 85
    motion_px: float = 0.0  # length of the smear from a moving hand, in pixels
    shutter_skew: float = 0.0  # rolling shutter: horizontal shift per row
    lens_k1: float = 0.0  # barrel distortion of a cheap wide lens
    softness: float = 0.6  # lens blur sigma in pixels
    noise: float = 2.0  # sensor noise sigma at mid grey
    extra: dict[str, float] = field(default_factory=dict)


def _lerp(a: float, b: float, s: float) -> float:
    return a + (b - a) * s


# Each degradation: (scene it belongs to or None for any, how it changes the conditions
# at severity s in 0..1, where 1 is "hard").
Change = Callable[[Conditions, float, random.Random], Conditions]


def _paper_texture(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, scene="slip", paper=s)


def _ink_spread(c: Conditions, s: float, r: random.Random) -> Conditions:
    # Thermal and inkjet dot gain: bars and modules grow into the white.
    return replace(c, scene="slip", ink_spread=_lerp(0.06, 0.12, s))


def _curl(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, scene="slip", curl_deg=_lerp(0, 100, s))


def _fold(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, scene="slip", fold=s)


def _curved_cover(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, scene="book", cover_curve_deg=_lerp(0, 110, s), glare=0.5 * s)


def _screen_door(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, scene="phone", screen_door=_lerp(0.3, 1.0, s))


def _glare(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, scene="phone", glare=_lerp(0.2, 1.0, s))


def _screen_bright(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, scene="phone", screen_bright=s, exposure=_lerp(1.0, 1.6, s))


def _finger(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, scene="phone", finger=_lerp(0.06, 0.16, s))


def _overexposed(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, exposure=_lerp(1.4, 2.2, s))


def _underexposed(c: Conditions, s: float, r: random.Random) -> Conditions:
    # Too little light: a dim frame with the sensor's noise turned up by its gain.
    return replace(c, exposure=_lerp(0.45, 0.15, s), noise=_lerp(3.0, 5.0, s))


def _jpeg(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, jpeg_quality=int(_lerp(45, 20, s)))


def _motion_blur(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, motion_px=c.px_per_module * _lerp(0.5, 1.1, s))


def _rolling_shutter(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, shutter_skew=r.choice([-1, 1]) * _lerp(0.08, 0.2, s))


def _lens_distortion(c: Conditions, s: float, r: random.Random) -> Conditions:
    corner = (r.choice([0.2, 0.8]), r.choice([0.25, 0.75]))
    return replace(c, lens_k1=_lerp(-0.12, -0.3, s), centre=corner)


def _vga_small(c: Conditions, s: float, r: random.Random) -> Conditions:
    return replace(c, frame_size=(640, 480), px_per_module=_lerp(2.6, 1.8, s), softness=0.5)


DEGRADATIONS: dict[str, Change] = {
    "paper_texture": _paper_texture,
    "ink_spread": _ink_spread,
    "curl": _curl,
    "fold": _fold,
    "curved_cover": _curved_cover,
    "screen_door": _screen_door,
    "glare": _glare,
    "screen_bright": _screen_bright,
    "finger": _finger,
    "overexposed": _overexposed,
    "underexposed": _underexposed,
    "jpeg": _jpeg,
    "motion_blur": _motion_blur,
    "rolling_shutter": _rolling_shutter,
    "lens_distortion": _lens_distortion,
    "vga_small": _vga_small,
}

#: Causes that come together in life: a moving hand smears and skews; a dark room and
#: a compressing webcam; a small code on a cheap camera; glare on a phone's pixel grid.
COMBINATIONS: tuple[str, ...] = (
    "motion_blur+rolling_shutter",
    "curl+motion_blur",
    "underexposed+jpeg",
    "vga_small+jpeg",
    "screen_door+glare",
    "finger+screen_bright",
    "fold+overexposed",
    "curved_cover+lens_distortion",
)

KINDS: tuple[str, ...] = (*DEGRADATIONS, *COMBINATIONS)


def conditions(kind: str, level: str, symbology: Symbology, rng: random.Random) -> Conditions:
    """The conditions of one frame of ``kind`` (a degradation, a combination or ``clean``)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use {', '.join(LEVELS)}")
    linear = symbology is not Symbology.QR
    # Held at 15-40 cm from a 720p webcam: 2.5-4.5 px a module for a ticket, 2-3.5 for a
    # book's 0.33 mm bars; tilted and turned by a hand.
    ppm = rng.uniform(2.2, 3.5) if linear else rng.uniform(2.6, 4.5)
    scene = rng.choice(["slip", "book"]) if linear else rng.choice(["slip", "phone"])
    c = Conditions(
        scene=scene,
        px_per_module=ppm,
        rotation_deg=rng.uniform(-12, 12) if linear else rng.uniform(-30, 30),
        tilt=rng.uniform(0.0, 0.12),
        centre=(rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65)),
        jpeg_quality=rng.randint(75, 92),
        softness=rng.uniform(0.5, 0.8),
        noise=rng.uniform(1.5, 3.0),
    )
    if kind == "clean":
        return c
    parts = kind.split("+")
    unknown = [p for p in parts if p not in DEGRADATIONS]
    if unknown:
        raise ValueError(f"unknown degradation {unknown[0]!r}")
    s = LEVELS[level] * (COMBO_SEVERITY if len(parts) > 1 else 1.0)
    for p in parts:
        c = DEGRADATIONS[p](c, s, rng)
    return c


# -- the object: slip, book, phone ---------------------------------------------------

OBJ_PPM = 6  # object drawn at 6 px a module, then seen by the camera at its own scale


def _object(code: np.ndarray, modules: int, c: Conditions, rng: random.Random) -> np.ndarray:
    """The code on its carrier at ``OBJ_PPM`` px a module, as float32 reflectance 0..1."""
    cv2 = _cv2()
    scale = OBJ_PPM * modules / code.shape[1]
    img = cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    if c.ink_spread > 0:
        # Dot gain: blur the print, threshold below the middle, so edges move out by
        # ink_spread of a module and corners round, as ink and thermal dots do.
        sigma = 0.3 * OBJ_PPM
        level = 0.5 * (1 + math.erf(c.ink_spread * OBJ_PPM / (sigma * math.sqrt(2))))
        rough = _normal(np.random.default_rng(rng.randrange(2**32)), img.shape, 0.04)
        soft = cv2.GaussianBlur(img.astype(np.float32) / 255, (0, 0), sigma) + rough
        img = np.where(soft > level, 255, 0).astype(np.uint8)
    obj = img.astype(np.float32) / 255.0
    h, w = obj.shape
    # The carrier around the code: paper margin, a phone's app screen, a book's cover.
    pad = int(OBJ_PPM * rng.uniform(3, 8))
    if c.scene == "phone":
        obj = 0.05 + 0.95 * obj  # screen black is not quite black
        obj = np.pad(obj, ((pad * 4, pad * 6), (pad, pad)), constant_values=1.0)
        # App header text above the code.
        for i in range(3):
            y = pad + i * OBJ_PPM * 4
            x1 = int(obj.shape[1] * rng.uniform(0.3, 0.9))
            obj[y : y + OBJ_PPM * 2, pad : pad + x1 - pad] = 0.35
        obj = np.pad(obj, OBJ_PPM * 2, constant_values=0.03)  # bezel
    elif c.scene == "book":
        obj = 0.08 + 0.88 * obj
        obj = np.pad(obj, pad, constant_values=0.96)  # the white label
        cover = rng.uniform(0.15, 0.7)
        obj = np.pad(obj, pad * 3, constant_values=cover)
    else:
        ink = rng.uniform(0.04, 0.12)
        white = rng.uniform(0.82, 0.95)  # thermal paper is greyish
        obj = ink + (white - ink) * obj
        obj = np.pad(obj, ((pad * 4, pad * 6), (pad, pad)), constant_values=white)
        for i in range(4):  # slip text around the code
            y = pad + i * OBJ_PPM * 4
            obj[y : y + OBJ_PPM * 2, pad : int(obj.shape[1] * rng.uniform(0.4, 0.9))] = ink + 0.2
    oh, ow = obj.shape
    # Coordinates as a column and a row: the formulas below broadcast to the whole object.
    ys = np.arange(oh, dtype=np.float32)[:, None]
    xs = np.arange(ow, dtype=np.float32)[None, :]
    nprng = np.random.default_rng(rng.randrange(2**32))
    code_box = ((ow - w) // 2, (oh - h) // 2, w, h)
    if c.paper > 0:
        # Fibres (low-frequency blotches and fine grain) and light falling off across the slip.
        blot = cv2.resize(
            nprng.normal(0, 1, (oh // 24 + 2, ow // 24 + 2)).astype(np.float32), (ow, oh)
        )
        grain = _normal(nprng, (oh, ow))
        light = 1.0 - 0.35 * c.paper * (xs / ow if rng.random() < 0.5 else ys / oh)
        obj = obj * light * (1 + 0.06 * c.paper * blot) + 0.05 * c.paper * grain
    if c.finger > 0:
        # A thumb from the phone's lower right, over the code's corner with no finder.
        cx = code_box[0] + w * (1 - c.finger) + w * 0.35
        cy = code_box[1] + h * (1 - c.finger) + h * 0.35
        rx = w * 0.4
        inside = ((xs - cx) / rx) ** 2 + ((ys - cy) / (rx * 1.4)) ** 2 < 1
        shade = 0.55 + 0.15 * ((ys - cy) / (rx * 1.4))
        obj = np.where(inside, shade, obj)
    if c.fold > 0:
        # A crease across the slip and the bars: the far side turned from the light, a dark line.
        angle = rng.uniform(-0.4, 0.4)
        pos = rng.uniform(0.35, 0.65)
        d = (ys - oh * pos) * math.cos(angle) + (xs - ow * 0.5) * math.sin(angle)
        obj = np.where(d > 0, obj * (1 - 0.35 * c.fold), obj)
        obj = obj * (1 - 0.5 * c.fold * np.exp(-((d / (OBJ_PPM * 0.8)) ** 2)))
    if c.screen_door > 0:
        # Pixel grid: dark gaps between a phone's pixels, about one camera pixel apart.
        pitch = OBJ_PPM / (c.px_per_module * rng.uniform(0.7, 1.1))
        gap = 0.45 * c.screen_door
        grid = (np.abs(np.sin(math.pi * xs / pitch)) ** 0.5) * (
            np.abs(np.sin(math.pi * ys / pitch)) ** 0.5
        )
        obj = obj * (1 - gap + gap * grid)
    if c.screen_bright > 0:
        # Full brightness: blacks lifted by reflections, whites blooming into the modules.
        bloom = cv2.GaussianBlur(obj, (0, 0), OBJ_PPM * 0.5)
        obj = np.maximum(obj, 0.5 * c.screen_bright * bloom) + 0.12 * c.screen_bright
    if c.glare > 0:
        gx = code_box[0] + w * rng.uniform(0.1, 0.9)
        gy = code_box[1] + h * rng.uniform(0.1, 0.9)
        gr = w * rng.uniform(0.12, 0.22)
        blob = np.exp(-(((xs - gx) ** 2 + ((ys - gy) * 1.6) ** 2) / (2 * gr * gr)))
        obj = obj + 0.9 * c.glare * blob
    bend = c.curl_deg or c.cover_curve_deg
    if bend > 0:
        # Bent round a cylinder: the sides foreshortened and turned from the light.
        half = math.radians(bend) / 2
        radius = (ow / 2) / half
        u = (xs - ow / 2) / (radius * math.sin(half)) * math.sin(half)
        theta = np.arcsin(np.clip(u, -0.999, 0.999))
        mapx = np.broadcast_to(ow / 2 + radius * theta, (oh, ow)).astype(np.float32)
        mapy = np.broadcast_to(ys, (oh, ow)).astype(np.float32)
        obj = cv2.remap(obj, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        obj = obj * (0.55 + 0.45 * np.cos(theta))
        if c.cover_curve_deg > 0:  # gloss: a highlight band along the cylinder
            band = np.exp(-(((theta - rng.uniform(-0.3, 0.3)) / 0.12) ** 2))
            obj = obj + 0.5 * c.glare * band
    return obj.astype(np.float32)


# -- the scene and the camera ----------------------------------------------------------


def _background(size: tuple[int, int], rng: random.Random) -> np.ndarray:
    """Out of focus behind the object: a person, a room; reflectance 0..1."""
    cv2 = _cv2()
    w, h = size
    small = np.full((h // 8, w // 8), rng.uniform(0.25, 0.6), np.float32)
    for _ in range(rng.randint(3, 7)):
        cv2.ellipse(
            small,
            (rng.randrange(w // 8), rng.randrange(h // 8)),
            (rng.randint(5, w // 16), rng.randint(5, h // 10)),
            rng.uniform(0, 180),
            0,
            360,
            rng.uniform(0.05, 0.9),
            -1,
        )
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


Box = tuple[int, int, int, int]


def _place(frame: np.ndarray, obj: np.ndarray, c: Conditions, rng: random.Random) -> Box | None:
    """Project the object into the frame: scaled, turned and tilted by the hand.

    Returns where it landed (x0, y0, x1, y1), or ``None`` when it fell outside.
    """
    cv2 = _cv2()
    fh, fw = frame.shape
    oh, ow = obj.shape
    k = c.px_per_module / OBJ_PPM
    a = math.radians(c.rotation_deg)
    # Corners of the object in the frame: a rotated, scaled rectangle, one side nearer.
    hw, hh = ow * k / 2, oh * k / 2
    near = 1 + c.tilt
    far = 1 - c.tilt
    local = [
        (-hw * far, -hh * far),
        (hw * near, -hh * near),
        (hw * near, hh * near),
        (-hw * far, hh * far),
    ]
    if rng.random() < 0.5:
        local = [(-x, y) for x, y in local][::-1]
        local = [local[1], local[0], local[3], local[2]]
    cx, cy = c.centre[0] * fw, c.centre[1] * fh
    dst = np.array(
        [
            (cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a))
            for x, y in local
        ],
        np.float32,
    )
    src = np.array([(0, 0), (ow, 0), (ow, oh), (0, oh)], np.float32)
    x0, y0 = np.floor(dst.min(axis=0)).astype(int)
    x1, y1 = np.ceil(dst.max(axis=0)).astype(int)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(fw, x1), min(fh, y1)
    if x1 <= x0 or y1 <= y0:
        return None
    m = cv2.getPerspectiveTransform(src, dst - np.array([x0, y0], np.float32))
    # Prefilter so that shrinking by k integrates like a sensor pixel (less for the moiré case).
    sigma = 0.45 / k * (0.4 if c.screen_door > 0 else 1.0)
    if sigma > 0.3:
        obj = cv2.GaussianBlur(obj, (0, 0), sigma)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(obj, m, size, flags=cv2.INTER_LINEAR, borderValue=-1.0)
    region = frame[y0:y1, x0:x1]
    np.copyto(region, warped, where=warped >= 0)
    return int(x0), int(y0), int(x1), int(y1)


@lru_cache(maxsize=1)
def _noise_field() -> np.ndarray:
    """Unit Gaussian noise a little larger than a 720p frame, made once per process.

    Each frame reads it at its own random offset: drawing a million fresh samples
    per frame cost more than the rest of the camera together.
    """
    return np.random.default_rng(0x5EED).standard_normal((720 + 512, 1280 + 512), np.float32)


def _normal(nprng: np.random.Generator, shape: tuple[int, ...], sigma: float = 1.0) -> np.ndarray:
    out = nprng.standard_normal(shape, np.float32)
    if sigma != 1.0:
        out *= sigma
    return out


def _sensor_noise(shape: tuple[int, int], rng: random.Random) -> np.ndarray:
    h, w = shape
    field = _noise_field()
    y, x = rng.randrange(field.shape[0] - h + 1), rng.randrange(field.shape[1] - w + 1)
    return field[y : y + h, x : x + w]


@lru_cache(maxsize=8)
def _lens_maps(w: int, h: int, k1: float) -> tuple[np.ndarray, np.ndarray]:
    cv2 = _cv2()
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    nx, ny = (xs - w / 2) / (w / 2), (ys - h / 2) / (w / 2)
    f = 1 + k1 * (nx * nx + ny * ny)
    # Barrel: a frame pixel sees further out; rescaled so the frame stays full.
    fill = 1 + k1 * (1 + (h / w) ** 2)
    mapx = ((nx * f / fill) * (w / 2) + w / 2).astype(np.float32)
    mapy = ((ny * f / fill) * (w / 2) + h / 2).astype(np.float32)
    maps: tuple[np.ndarray, np.ndarray] = cv2.convertMaps(mapx, mapy, cv2.CV_16SC2)
    return maps


def _camera(
    img: np.ndarray, c: Conditions, rng: random.Random, roi: Box | None = None
) -> np.ndarray:
    """Lens, motion, sensor and encoder: reflectance 0..1 in, an 8-bit grey frame out.

    ``roi`` (x0, y0, x1, y1) is where the frame has detail; outside it the scene is
    already smooth (an out-of-focus room), so lens softness and motion smear are
    computed only there (``None``: everywhere).
    """
    cv2 = _cv2()
    h, w = img.shape
    n = int(math.ceil(c.motion_px)) | 1 if c.motion_px > 1 else 0
    if roi is None:
        x0, y0, x1, y1 = 0, 0, w, h
    else:
        m = n + int(4 * c.softness) + 4
        x0, y0 = max(0, roi[0] - m), max(0, roi[1] - m)
        x1, y1 = min(w, roi[2] + m), min(h, roi[3] + m)
    part = cv2.GaussianBlur(img[y0:y1, x0:x1], (0, 0), c.softness)
    if n:
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1.0
        rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (n, n))
        part = cv2.filter2D(part, -1, kernel / max(kernel.sum(), 1e-6))
    img[y0:y1, x0:x1] = part
    if c.lens_k1:
        map1, map2 = _lens_maps(w, h, c.lens_k1)
        img = cv2.remap(img, map1, map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if c.shutter_skew:
        m2 = np.array([[1, c.shutter_skew, -c.shutter_skew * h / 2], [0, 1, 0]], np.float32)
        img = cv2.warpAffine(img, m2, (w, h), borderMode=cv2.BORDER_REFLECT)
    # Exposure: gain on the light, then the sensor's shot and read noise, then clipping.
    signal = img * np.float32(235.0 * c.exposure)
    sigma = np.maximum(signal, 0)
    sigma *= 0.02
    sigma += np.float32(c.noise**2)
    np.sqrt(sigma, out=sigma)
    sigma *= _sensor_noise((h, w), rng)
    signal += sigma
    np.clip(signal, 0, 255, out=signal)
    out = signal.astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(c.jpeg_quality)])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else out


# -- public ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    """One generated frame and what it holds (``data`` ``None``: no code)."""

    image: np.ndarray
    symbology: Symbology | None
    data: str | None
    kind: str
    level: str


def frame(kind: str, level: str, symbology: Symbology, seed: int = 0) -> Frame:
    """A frame holding one code of ``symbology`` under ``kind`` at ``level``."""
    rng = random.Random(f"realistic-{kind}-{level}-{symbology}-{seed}")
    cv2 = _cv2()
    cv2.setRNGSeed(rng.randrange(2**31))
    data = ticket_text(rng) if symbology is Symbology.QR else linear_text(symbology, rng)
    c = conditions(kind, level, symbology, rng)
    code, modules = _code_modules(symbology, data)
    obj = _object(code, modules, c, rng)
    bg = _background(c.frame_size, rng)
    box = _place(bg, obj, c, rng)
    return Frame(_camera(bg, c, rng, box), symbology, data, kind, level)


NEGATIVE_KINDS: tuple[str, ...] = (
    "printed_text",
    "face",
    "shelves",
    "phone_home",
    "phone_chat",
    "phone_keyboard",
    "striped_shirt",
    "book_cover",
)


def _text(
    img: np.ndarray,
    text: str,
    org: tuple[int, int],
    font: int,
    scale: float,
    value: float,
    thickness: int,
) -> None:
    """cv2.putText on a float image (OpenCV draws text on 8-bit images only)."""
    cv2 = _cv2()
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    # Drawn into a mask just around the text: a whole-frame mask per line was the
    # slowest part of a negative frame.
    m = thickness + 2
    x0, y0 = max(0, org[0] - m), max(0, org[1] - th - m)
    x1, y1 = min(img.shape[1], org[0] + tw + m), min(img.shape[0], org[1] + base + m)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.putText(mask, text, (org[0] - x0, org[1] - y0), font, scale, 255, thickness, cv2.LINE_AA)
    a = mask.astype(np.float32) / 255
    view = img[y0:y1, x0:x1]
    view *= 1 - a
    view += a * value


def negative(kind: str, seed: int = 0) -> Frame:
    """A frame with no code: text, a face, shelves, a phone's other screens, stripes."""
    cv2 = _cv2()
    rng = random.Random(f"realistic-neg-{kind}-{seed}")
    cv2.setRNGSeed(rng.randrange(2**31))
    c = conditions(
        rng.choice(("clean", "jpeg", "underexposed", "overexposed", "motion_blur")),
        "mild",
        Symbology.QR,
        rng,
    )
    w, h = c.frame_size
    img = _background((w, h), rng)
    font = cv2.FONT_HERSHEY_SIMPLEX
    words = "perpustakaan kota probolinggo buku pinjam kembali anggota ISBN 978 tiket acara".split()
    if kind == "printed_text":
        x0, y0 = rng.randint(200, 500), rng.randint(20, 120)
        cv2.rectangle(img, (x0, y0), (x0 + 420, h - 20), 0.9, -1)
        for row in range(rng.randint(10, 20)):
            line = " ".join(rng.choice(words) for _ in range(rng.randint(2, 4)))
            _text(
                img,
                line.upper() if row % 3 == 0 else line,
                (x0 + 10, y0 + 30 + row * 28),
                font,
                0.55,
                0.05,
                1 + row % 2,
            )
    elif kind == "face":
        cx, cy = w // 2 + rng.randint(-150, 150), h // 2
        cv2.ellipse(img, (cx, cy + 330), (260, 140), 0, 180, 360, rng.uniform(0.1, 0.4), -1)
        cv2.ellipse(img, (cx, cy), (150, 200), 0, 0, 360, rng.uniform(0.5, 0.75), -1)
        for dx in (-60, 60):
            cv2.circle(img, (cx + dx, cy - 40), 38, 0.1, 3)  # glasses
            cv2.circle(img, (cx + dx, cy - 40), 9, 0.05, -1)
        cv2.ellipse(img, (cx, cy + 80), (60, 25), 0, 20, 160, 0.2, 6)
        for i in range(0, 200, 12):  # hair strands
            cv2.line(
                img, (cx - 150 + i * 3 // 2, cy - 200), (cx - 140 + i * 3 // 2, cy - 120), 0.08, 3
            )
    elif kind == "shelves":
        for top in range(0, h, 240):
            x = 0
            while x < w:
                bw = rng.randint(14, 60)
                shade = rng.uniform(0.05, 0.9)
                cv2.rectangle(img, (x, top + 20), (x + bw, top + 230), shade, -1)
                if bw > 22:
                    _text(
                        img,
                        rng.choice(words)[:8].upper(),
                        (x + bw // 2 + 6, top + 220),
                        font,
                        0.5,
                        1 - shade,
                        1,
                    )
                x += bw + rng.randint(0, 3)
            cv2.rectangle(img, (0, top), (w, top + 18), 0.35, -1)
        img = np.ascontiguousarray(np.rot90(img, 2)) if rng.random() < 0.5 else img
    elif kind.startswith("phone_"):
        pw, ph = 300, 600
        x0, y0 = rng.randint(100, w - pw - 100), (h - ph) // 2 + rng.randint(-50, 50)
        cv2.rectangle(img, (x0 - 12, y0 - 40), (x0 + pw + 12, y0 + ph + 40), 0.03, -1)
        cv2.rectangle(img, (x0, y0), (x0 + pw, y0 + ph), 0.95, -1)
        if kind == "phone_home":
            for i in range(5):
                for j in range(4):
                    sh = rng.uniform(0.1, 0.8)
                    cv2.rectangle(
                        img,
                        (x0 + 15 + j * 72, y0 + 30 + i * 100),
                        (x0 + 70 + j * 72, y0 + 85 + i * 100),
                        sh,
                        -1,
                    )
                    _text(
                        img,
                        rng.choice(words)[:6],
                        (x0 + 15 + j * 72, y0 + 102 + i * 100),
                        font,
                        0.35,
                        0.2,
                        1,
                    )
        elif kind == "phone_chat":
            for i in range(9):
                left = i % 2 == 0
                bx = x0 + (10 if left else 90)
                cv2.rectangle(
                    img,
                    (bx, y0 + 20 + i * 62),
                    (bx + 200, y0 + 70 + i * 62),
                    0.8 if left else 0.55,
                    -1,
                )
                _text(
                    img,
                    " ".join(rng.choice(words) for _ in range(2)),
                    (bx + 8, y0 + 50 + i * 62),
                    font,
                    0.45,
                    0.05,
                    1,
                )
        else:
            for i, keys in enumerate(("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")):
                for j, ch in enumerate(keys):
                    kx, ky = x0 + 4 + j * 29 + i * 10, y0 + 380 + i * 60
                    cv2.rectangle(img, (kx, ky), (kx + 25, ky + 50), 0.75, -1)
                    _text(img, ch, (kx + 5, ky + 33), font, 0.6, 0.05, 2)
            cv2.rectangle(img, (x0 + 60, y0 + 560), (x0 + 240, y0 + 590), 0.75, -1)
    elif kind == "striped_shirt":
        period = rng.randint(6, 20)
        shirt = np.zeros((h, w), np.float32)
        for x in range(0, w, period):
            shirt[:, x : x + period // 2] = 1.0
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-20, 20), 1.0)
        shirt = cv2.warpAffine(shirt, rot, (w, h))
        mask = np.zeros((h, w), np.float32)
        cv2.ellipse(mask, (w // 2, h), (w // 3, h // 2 + 50), 0, 180, 360, 1.0, -1)
        img = np.where(mask > 0, 0.15 + 0.7 * shirt, img).astype(np.float32)
    elif kind == "book_cover":
        x0, y0 = rng.randint(100, 600), rng.randint(20, 80)
        cv2.rectangle(img, (x0, y0), (x0 + 420, h - 30), rng.uniform(0.2, 0.8), -1)
        _text(img, "LASKAR PELANGI", (x0 + 20, y0 + 90), cv2.FONT_HERSHEY_DUPLEX, 1.3, 0.05, 3)
        for i in range(12):  # an ornament band of thin lines
            cv2.line(img, (x0 + 30 + i * 8, y0 + 150), (x0 + 30 + i * 8, y0 + 300), 0.95, 2 + i % 3)
        _text(img, "ANDREA HIRATA", (x0 + 20, h - 80), font, 1.0, 0.95, 2)
    else:
        raise ValueError(f"unknown negative frame kind {kind!r}")
    return Frame(_camera(img, c, rng), None, None, kind, "mild")


def dataset(
    *,
    level: str = "hard",
    per_kind: int = 6,
    negatives_per_kind: int = 3,
    kinds: tuple[str, ...] = KINDS,
    seed: int = 0,
) -> list[Frame]:
    """Per kind, ``per_kind`` QR tickets and ``per_kind`` linear codes; then negatives."""
    out: list[Frame] = []
    for kind in kinds:
        for i in range(per_kind):
            s = seed * 1000 + i
            out.append(frame(kind, level, Symbology.QR, s))
            out.append(frame(kind, level, LINEAR[i % len(LINEAR)], s))
    for kind in NEGATIVE_KINDS:
        out.extend(negative(kind, seed * 1000 + i) for i in range(negatives_per_kind))
    return out
