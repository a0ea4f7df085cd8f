"""Render a :class:`Receipt` with python-escpos commands.

Everything goes through the ``Escpos`` command methods; the bytes are
collected in a ``Dummy`` first and sent in one write, so a job either reaches
the printer whole or fails before any paper moves (as far as the link allows).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import threading

from escpos.escpos import Escpos
from escpos.printer import Dummy

from devices.printer.layout import code128_fits, fit_columns, paper_for, printable, wrap
from devices.receipt import Barcode, Columns, Feed, QRCode, Receipt, Rule, Text

log = logging.getLogger(__name__)

# python-escpos print()s "Using hardware barcode renderer" to stdout; the
# headless station uses stdout for its own output, so it is muted here.
_stdout_lock = threading.Lock()


def configure_profile(p: Escpos, paper_mm: int) -> None:
    """Give ``p`` its own copy of the profile with the roll width set.

    The default profile's data dict is shared by every instance, so set it on a
    copy; without ``media.width.pixels`` centring of images has no effect.
    """
    paper = paper_for(paper_mm)
    data = copy.deepcopy(p.profile.profile_data)
    data.setdefault("media", {}).setdefault("width", {})["pixels"] = paper.dots
    data["media"]["width"]["mm"] = paper.mm
    p.profile.profile_data = data


def render_escpos(
    receipt: Receipt,
    p: Escpos,
    *,
    paper_mm: int = 58,
    qr_native: bool = False,
) -> None:
    """Send ``receipt`` to ``p`` as ESC/POS commands.

    ``qr_native`` uses the printer's own QR command (about 40 bytes); the
    default sends the QR as a raster image, which every printer prints.
    """
    paper = paper_for(paper_mm)
    width = paper.chars
    with _stdout_lock, contextlib.redirect_stdout(io.StringIO()):
        p.hw("INIT")
        for block in receipt.blocks:
            if isinstance(block, Text):
                double = block.size >= 2
                p.set(
                    align=str(block.align),
                    bold=block.bold,
                    double_height=double,
                    double_width=double,
                    normal_textsize=not double,
                )
                for line in wrap(block.text, width // 2 if double else width):
                    p.textln(line)
            elif isinstance(block, Columns):
                p.set(align="left", bold=block.bold, normal_textsize=True)
                for line in fit_columns(block, width):
                    p.textln(line)
            elif isinstance(block, Rule):
                p.set(align="left", bold=False, normal_textsize=True)
                p.textln((block.char or "-")[0] * width)
            elif isinstance(block, Barcode) and not _code128_ok(block.data):
                # Code 128 set B holds printable ASCII only: print the text instead.
                log.warning("barcode data %r is not printable ASCII; printed as text", block.data)
                p.set(align="center", bold=False, normal_textsize=True)
                p.textln(printable(block.data)[:width])
            elif isinstance(block, Barcode):
                module = 2 if code128_fits(block.data, paper_mm, 2) else 1
                if module == 1:
                    log.warning("barcode %r is too long for %d mm paper", block.data, paper_mm)
                p.set(align="center", bold=False, normal_textsize=True)
                # Code set B needs its "{B" prefix in the data (machine-notes.md).
                p.barcode(
                    "{B" + block.data,
                    "CODE128",
                    function_type="B",
                    height=64,
                    width=max(module, 2),
                    pos="BELOW",
                    font="A",
                    align_ct=True,
                    check=False,
                )
                p.ln()
            elif isinstance(block, QRCode):
                p.set(align="center", normal_textsize=True)
                # escpos cannot centre a native QR itself; ESC a 1 (set above) does it there.
                p.qr(
                    block.data,
                    size=max(1, min(16, block.size)),
                    native=qr_native,
                    center=not qr_native,
                )
            elif isinstance(block, Feed):
                p.ln(max(0, block.lines))
        p.set(align="left", bold=False, normal_textsize=True)
        if receipt.cut:
            p.cut()


def _code128_ok(data: str) -> bool:
    return bool(data) and all(32 <= ord(c) < 127 for c in data)


def receipt_bytes(receipt: Receipt, *, paper_mm: int = 58, qr_native: bool = False) -> bytes:
    """The bytes a printer would get for ``receipt``."""
    d = Dummy()
    configure_profile(d, paper_mm)
    render_escpos(receipt, d, paper_mm=paper_mm, qr_native=qr_native)
    return bytes(d.output)
