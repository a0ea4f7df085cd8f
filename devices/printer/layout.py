"""Paper geometry and text fitting shared by the ESC/POS and PNG renderers."""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass

from devices.receipt import Columns


@dataclass(frozen=True, slots=True)
class Paper:
    """A roll width: printable dots at 203 dpi and characters per line in font A (12×24)."""

    mm: int
    dots: int
    chars: int


PAPERS: dict[int, Paper] = {58: Paper(58, 384, 32), 80: Paper(80, 576, 48)}


def paper_for(mm: int) -> Paper:
    try:
        return PAPERS[int(mm)]
    except (KeyError, ValueError):
        raise ValueError(f"paper width {mm!r} mm is not supported; use 58 or 80") from None


def wrap(text: str, width: int) -> list[str]:
    """Wrap to ``width`` characters; empty text stays one empty line; long words are split."""
    if not text:
        return [""]
    text = printable(text)
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(para, width, break_long_words=True) or [""])
    return lines


def fit_columns(col: Columns, width: int) -> list[str]:
    """Left text wrapped, right text on the last line, right-aligned.

    When the right text does not fit beside the last left line it gets a line
    of its own, so a due date is never cut off.
    """
    right = printable(col.right)[:width]
    left_lines = wrap(col.left, width)
    last = left_lines[-1]
    if len(last) + 1 + len(right) <= width:
        left_lines[-1] = last + " " * (width - len(last) - len(right)) + right
    else:
        left_lines.append(right.rjust(width))
    return left_lines


def code128_modules(data: str) -> int:
    """Modules a Code 128 symbol of ``data`` needs in code set B (start, data, check, stop)."""
    return 11 * (len(data) + 2) + 13


def code128_fits(data: str, paper_mm: int, module_dots: int = 2) -> bool:
    """Whether ``data`` fits the roll as Code 128 with quiet zones at ``module_dots`` per module."""
    return (code128_modules(data) + 20) * module_dots <= paper_for(paper_mm).dots


# Typographic characters a thermal printer's code pages lack, and their plain forms.
_PLAIN = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
    "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u2022": "*", "\u20ac": "EUR",
}  # fmt: skip


def printable(text: str) -> str:
    """Text a common ESC/POS printer can print: ASCII plus what code page 1252 holds.

    python-escpos would otherwise switch to whatever code page (even a CJK one)
    holds a character, which cheap printers lack and print as garbage. Accents
    are kept where cp1252 has them; anything else is reduced to its base
    letter (NFKD) or ``?``. The PNG preview uses the same text, so it shows
    what the paper will.
    """
    out: list[str] = []
    for ch in text:
        if ch in _PLAIN:
            out.append(_PLAIN[ch])
        elif ord(ch) < 128:
            out.append(ch if ch.isprintable() else " ")
        else:
            try:
                ch.encode("cp1252")
                out.append(ch)
            except UnicodeEncodeError:
                base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
                out.append(base or "?")
    return "".join(out)
