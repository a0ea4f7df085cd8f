"""Render a :class:`Receipt` to a PNG that looks like the printed slip."""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from devices.printer.layout import fit_columns, paper_for, printable, wrap
from devices.receipt import Align, Barcode, Columns, Feed, QRCode, Receipt, Rule, Text

log = logging.getLogger(__name__)

#: DejaVu Sans Mono covers Indonesian (Latin) fully and keeps the printer's fixed columns.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)
FONT_PX = 19  # ~11.5 px advance: 32 columns fit 384 dots, 48 fit 576, like font A
LINE_PX = 24
MARGIN_PX = 6

FontT = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=8)
def load_font(bold: bool = False, size: int = FONT_PX) -> FontT:
    """DejaVu Sans Mono (bold when asked); PIL's default font with a warning when absent."""
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for folder in FONT_DIRS:
        path = folder / name
        if path.exists():
            return ImageFont.truetype(str(path), size)
    log.warning(
        "font %s not found (install fonts-dejavu-core); slip preview uses PIL's default font", name
    )
    return ImageFont.load_default(size)


def code128_image(data: str, *, height_px: int = 64) -> Image.Image:
    """Code 128 via python-barcode at 2 px a module (1 px bars fail with Pillow 13)."""
    from barcode import Code128
    from barcode.writer import ImageWriter

    # 203 dpi thermal head: 0.25 mm = 2 dots a module.
    options = {
        "module_width": 0.25,
        "module_height": height_px / 203 * 25.4,
        "dpi": 203,
        "quiet_zone": 2.5,
        "write_text": False,
    }
    buf = io.BytesIO()
    Code128(data, writer=ImageWriter()).write(buf, options)
    buf.seek(0)
    return Image.open(buf).convert("L")


def qr_image(data: str, scale: int) -> Image.Image:
    """QR via segno.make_qr (never Micro QR, which zbar cannot read)."""
    import segno

    buf = io.BytesIO()
    segno.make_qr(data, error="m").save(buf, kind="png", scale=max(1, scale), border=2)
    buf.seek(0)
    return Image.open(buf).convert("L")


def _x_for(align: Align, content_w: int, width: int) -> int:
    if align is Align.CENTER:
        return max(0, (width - content_w) // 2)
    if align is Align.RIGHT:
        return max(0, width - content_w - MARGIN_PX)
    return MARGIN_PX


def render_png(receipt: Receipt, *, paper_mm: int = 58) -> Image.Image:
    """The slip as a greyscale image, as wide as the roll's printable dots."""
    paper = paper_for(paper_mm)
    width, cols = paper.dots, paper.chars
    char_w = (width - 2 * MARGIN_PX) / cols
    pieces: list[tuple[Image.Image, int]] = []  # (strip image, x)

    def text_strip(line: str, *, bold: bool, size: int, align: Align) -> None:
        font = load_font(bold, FONT_PX * size)
        h = LINE_PX * size
        strip = Image.new("L", (width, h), 255)
        draw = ImageDraw.Draw(strip)
        w = int(draw.textlength(line, font=font))
        if w > width - 2 * MARGIN_PX and line:  # fallback font metrics differ: shrink to fit
            w = width - 2 * MARGIN_PX
        draw.text((_x_for(align, w, width), 0), line, font=font, fill=0)
        pieces.append((strip, 0))

    for block in receipt.blocks:
        if isinstance(block, Text):
            size = 2 if block.size >= 2 else 1
            for line in wrap(block.text, cols // size):
                text_strip(line, bold=block.bold, size=size, align=block.align)
        elif isinstance(block, Columns):
            for line in fit_columns(block, cols):
                text_strip(line, bold=block.bold, size=1, align=Align.LEFT)
        elif isinstance(block, Rule):
            strip = Image.new("L", (width, LINE_PX), 255)
            y = LINE_PX // 2
            ImageDraw.Draw(strip).line(
                [(MARGIN_PX, y), (MARGIN_PX + int(char_w * cols), y)], fill=0, width=2
            )
            pieces.append((strip, 0))
        elif isinstance(block, Barcode) and not all(32 <= ord(c) < 127 for c in block.data or "\0"):
            text_strip(printable(block.data), bold=False, size=1, align=Align.CENTER)
        elif isinstance(block, Barcode):
            img = code128_image(block.data)
            if img.width > width:
                log.warning(
                    "barcode %r wider than %d mm paper; preview scaled", block.data, paper_mm
                )
                img = img.resize((width, img.height), Image.Resampling.NEAREST)
            pieces.append((img, (width - img.width) // 2))
            text_strip(block.data, bold=False, size=1, align=Align.CENTER)
        elif isinstance(block, QRCode):
            img = qr_image(block.data, block.size)
            if img.width > width:
                img = img.resize((width, width), Image.Resampling.NEAREST)
            pieces.append((img, (width - img.width) // 2))
        elif isinstance(block, Feed):
            pieces.append((Image.new("L", (width, LINE_PX * max(0, block.lines)), 255), 0))
    total_h = sum(img.height for img, _ in pieces) + 2 * MARGIN_PX + (LINE_PX if receipt.cut else 0)
    page = Image.new("L", (width, max(total_h, LINE_PX)), 255)
    y = MARGIN_PX
    for img, x in pieces:
        page.paste(img, (x, y))
        y += img.height
    if receipt.cut:  # a dashed tear line where the cutter would go
        draw = ImageDraw.Draw(page)
        yy = page.height - LINE_PX // 2
        for x0 in range(0, width, 12):
            draw.line([(x0, yy), (x0 + 6, yy)], fill=128, width=1)
    return page
