"""Synthetic camera frames: codes (clean and degraded) and frames holding no code.

Used by the tests, the benchmark and the ``camera:synthetic`` fake source, so
the whole camera path runs without a camera. Codes are drawn with
python-barcode (1D) and segno (QR); UPC-E, which python-barcode lacks, with
zxing-cpp's writer. Everything is seeded, so a set is the same on every run.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import numpy as np

from devices.base import Symbology

FRAME_W, FRAME_H = 1280, 720

#: One sample code per symbology the kiosk reads.
SAMPLES: dict[Symbology, str] = {
    Symbology.CODE128: "AGT0000101",
    Symbology.CODE39: "B000123",
    Symbology.EAN13: "9786020332956",
    Symbology.EAN8: "96385074",
    Symbology.UPCA: "036000291452",
    Symbology.UPCE: "01234565",
    Symbology.QR: "PK1.eyJlIjoxMjMsInAiOiJBR1QwMDAwMTAxIn0.c2lnbmF0dXJl",
}

DEGRADATIONS = ("blur", "noise", "rotate", "perspective", "low_contrast", "small", "dark")


def _cv2():  # type: ignore[no-untyped-def]
    from devices.camera.decoders import require

    return require("cv2", "opencv-python-headless")


def code_image(symbology: Symbology, data: str, module_px: int = 3) -> np.ndarray:
    """The code alone, black on white with its quiet zone, as a grey uint8 array."""
    from PIL import Image

    if symbology is Symbology.QR:
        import segno

        buf = io.BytesIO()
        segno.make_qr(data, error="m").save(buf, kind="png", scale=module_px, border=4)
        buf.seek(0)
        return np.array(Image.open(buf).convert("L"))
    if symbology is Symbology.UPCE:
        zxingcpp = __import__("zxingcpp")
        img = zxingcpp.write_barcode_to_image(
            zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.UPCE), scale=module_px
        )
        pad = 4 * module_px
        return np.pad(np.array(img), ((pad, pad), (pad, pad)), constant_values=255)
    import barcode
    from barcode.writer import ImageWriter

    # 254 dpi makes 0.1 mm one pixel; bars stay >= 2 px (Pillow 13, machine-notes.md).
    options = {
        "module_width": 0.1 * module_px,
        "module_height": 6.0 * module_px,
        "dpi": 254,
        "quiet_zone": 1.0 * module_px * 1.2,
        "write_text": False,
    }
    kinds = {
        Symbology.CODE128: ("code128", data, {}),
        Symbology.CODE39: ("code39", data, {"add_checksum": False}),
        Symbology.EAN13: ("ean13", data[:12], {}),
        Symbology.EAN8: ("ean8", data[:7], {}),
        Symbology.UPCA: ("upca", data[:11], {}),
    }
    name, payload, extra = kinds[symbology]
    code = barcode.get(name, payload, writer=ImageWriter(mode="L"), options=extra)
    buf = io.BytesIO()
    code.write(buf, options)
    buf.seek(0)
    arr = np.array(Image.open(buf).convert("L"))
    pad = 4 * module_px
    return np.pad(arr, ((pad, pad), (pad, pad)), constant_values=255)


def _background(rng: random.Random) -> np.ndarray:
    """A desk-like background: a smooth gradient with a little texture."""
    base = rng.uniform(90, 170)
    x = np.linspace(0, 1, FRAME_W, dtype=np.float32)
    y = np.linspace(0, 1, FRAME_H, dtype=np.float32)
    g = base + rng.uniform(-40, 40) * x[None, :] + rng.uniform(-30, 30) * y[:, None]
    nprng = np.random.default_rng(rng.randrange(2**32))
    g = g + nprng.normal(0, 3, size=g.shape)
    return np.clip(g, 0, 255).astype(np.uint8)


def place(code: np.ndarray, rng: random.Random, *, width_frac: float = 0.35) -> np.ndarray:
    """Put ``code`` on a 1280×720 background at a random spot, ``width_frac`` of the frame wide."""
    cv2 = _cv2()
    frame = _background(rng)
    target_w = max(8, int(FRAME_W * width_frac))
    scale = target_w / code.shape[1]
    h = max(8, int(code.shape[0] * scale))
    if h > FRAME_H - 20:
        scale = (FRAME_H - 20) / code.shape[0]
        target_w, h = int(code.shape[1] * scale), FRAME_H - 20
    # Smooth resampling, as a lens would: nearest-neighbour makes uneven bars no camera shows.
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(code, (target_w, h), interpolation=interp)
    # Paper is not pure white under a kiosk lamp.
    paper = rng.uniform(215, 245)
    small = (small.astype(np.float32) / 255 * (paper - 20) + 20).astype(np.uint8)
    x = rng.randrange(10, max(11, FRAME_W - target_w - 10))
    y = rng.randrange(10, max(11, FRAME_H - h - 10))
    frame[y : y + h, x : x + target_w] = small
    return frame


def degrade(frame: np.ndarray, kind: str, rng: random.Random) -> np.ndarray:
    """Apply one degradation a kiosk camera meets."""
    cv2 = _cv2()
    nprng = np.random.default_rng(rng.randrange(2**32))
    f = frame.astype(np.float32)
    if kind == "blur":
        k = rng.choice([5, 7])
        out = cv2.GaussianBlur(frame, (k, k), 0)
    elif kind == "noise":
        out = np.clip(f + nprng.normal(0, rng.uniform(18, 28), f.shape), 0, 255).astype(np.uint8)
    elif kind == "rotate":
        angle = rng.choice([-1, 1]) * rng.uniform(8, 25)
        m = cv2.getRotationMatrix2D((FRAME_W / 2, FRAME_H / 2), angle, 1.0)
        out = cv2.warpAffine(frame, m, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REPLICATE)
    elif kind == "perspective":
        d = rng.uniform(0.06, 0.12)
        src = np.array([[0, 0], [FRAME_W, 0], [FRAME_W, FRAME_H], [0, FRAME_H]], dtype=np.float32)
        dst = np.array(
            [
                [FRAME_W * d, FRAME_H * d * 0.5],
                [FRAME_W * (1 - d * 0.3), 0],
                [FRAME_W, FRAME_H],
                [0, FRAME_H * (1 - d)],
            ],
            dtype=np.float32,
        )
        m = cv2.getPerspectiveTransform(src, dst)
        out = cv2.warpPerspective(frame, m, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REPLICATE)
    elif kind == "low_contrast":
        lo = rng.uniform(95, 115)
        out = (lo + f / 255 * rng.uniform(30, 45)).astype(np.uint8)
    elif kind == "dark":
        out = np.clip(f * rng.uniform(0.18, 0.25) + nprng.normal(0, 4, f.shape), 0, 255)
        out = out.astype(np.uint8)
    elif kind == "small":
        out = frame  # "small" is made by placing the code small; see make_frame
    else:
        raise ValueError(f"unknown degradation {kind!r}")
    return out


@dataclass(frozen=True, slots=True)
class Sample:
    """One frame and what it holds (``data`` ``None``: no code at all)."""

    frame: np.ndarray
    symbology: Symbology | None
    data: str | None
    degradation: str


def make_frame(
    symbology: Symbology, data: str, degradation: str = "clean", seed: int = 0
) -> Sample:
    rng = random.Random(f"{symbology}-{data}-{degradation}-{seed}")
    module = 2 if symbology is Symbology.QR else 3
    code = code_image(symbology, data, module_px=module)
    if degradation == "small":
        # About 1.6–2 px a module in the frame: near what both decoders can still read.
        modules = code.shape[1] / module
        frac = modules * rng.uniform(1.6, 2.0) / FRAME_W
    else:
        frac = rng.uniform(0.3, 0.45) if symbology is not Symbology.QR else rng.uniform(0.2, 0.3)
    frame = place(code, rng, width_frac=frac)
    if degradation != "clean":
        frame = degrade(frame, degradation, rng)
    return Sample(frame, symbology, data, degradation)


def negative_frame(kind: str, seed: int = 0) -> Sample:
    """A frame with no code: noise, text, shelves of book spines, gradient, face, stripes."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(f"neg-{kind}-{seed}")
    nprng = np.random.default_rng(rng.randrange(2**32))
    if kind == "noise":
        arr = nprng.integers(0, 256, (FRAME_H, FRAME_W), dtype=np.uint8)
        return Sample(arr, None, None, kind)
    if kind == "gradient":
        return Sample(_background(rng), None, None, kind)
    img = Image.fromarray(_background(rng))
    draw = ImageDraw.Draw(img)
    if kind == "text":
        try:
            font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", rng.randint(18, 40)
            )
        except OSError:
            font = ImageFont.load_default()
        words = "perpustakaan kota probolinggo buku pinjam kembali anggota 1234 ISBN 978".split()
        for row in range(rng.randint(6, 14)):
            line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 8)))
            draw.text(
                (rng.randint(10, 200), 20 + row * 48), line, fill=rng.randint(0, 60), font=font
            )
    elif kind == "shelves":
        # Book spines: vertical bands of random width and shade, shelf boards between rows.
        for top in range(0, FRAME_H, 240):
            x = 0
            while x < FRAME_W:
                w = rng.randint(12, 60)
                shade = rng.randint(20, 230)
                draw.rectangle([x, top + 20, x + w, top + 230], fill=shade)
                if rng.random() < 0.4:  # a title band across the spine
                    draw.rectangle([x + 2, top + 80, x + w - 2, top + 120], fill=255 - shade)
                x += w + rng.randint(0, 4)
            draw.rectangle([0, top, FRAME_W, top + 18], fill=rng.randint(60, 120))
    elif kind == "stripes":
        # Regular black/white bars: the worst case for a 1D decoder's false positives.
        period = rng.randint(6, 24)
        for x in range(0, FRAME_W, period):
            draw.rectangle([x, 100, x + period // 2, FRAME_H - 100], fill=0)
    elif kind == "face":
        cx, cy = FRAME_W // 2 + rng.randint(-200, 200), FRAME_H // 2
        draw.ellipse([cx - 160, cy - 210, cx + 160, cy + 210], fill=rng.randint(150, 210))
        for dx in (-60, 60):
            draw.ellipse([cx + dx - 25, cy - 60, cx + dx + 25, cy - 30], fill=40)
        draw.arc([cx - 70, cy + 40, cx + 70, cy + 120], 20, 160, fill=60, width=8)
        draw.rectangle([cx - 200, cy + 210, cx + 200, FRAME_H], fill=rng.randint(30, 90))
    elif kind == "checker":
        step = rng.randint(8, 30)
        for yy in range(0, FRAME_H, step):
            for xx in range(0, FRAME_W, step):
                if (xx // step + yy // step) % 2:
                    draw.rectangle([xx, yy, xx + step - 1, yy + step - 1], fill=20)
    else:
        raise ValueError(f"unknown negative frame kind {kind!r}")
    return Sample(np.array(img), None, None, kind)


NEGATIVE_KINDS = ("noise", "gradient", "text", "shelves", "stripes", "face", "checker")


def dataset(
    *,
    seeds: int = 2,
    degradations: tuple[str, ...] = DEGRADATIONS,
    symbologies: tuple[Symbology, ...] = tuple(SAMPLES),
    negatives_per_kind: int = 3,
) -> list[Sample]:
    """The standard set: every symbology clean and degraded, plus negative frames."""
    out: list[Sample] = []
    for sym in symbologies:
        for seed in range(seeds):
            out.append(make_frame(sym, SAMPLES[sym], "clean", seed))
            out.extend(make_frame(sym, SAMPLES[sym], d, seed) for d in degradations)
    for kind in NEGATIVE_KINDS:
        out.extend(negative_frame(kind, s) for s in range(negatives_per_kind))
    return out
