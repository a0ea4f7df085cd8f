"""Paper geometry and text fitting shared by the ESC/POS and PNG renderers."""

from __future__ import annotations

import textwrap
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
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(para, width, break_long_words=True) or [""])
    return lines


def fit_columns(col: Columns, width: int) -> list[str]:
    """Left text wrapped, right text on the last line, right-aligned.

    When the right text does not fit beside the last left line it gets a line
    of its own, so a due date is never cut off.
    """
    right = col.right[:width]
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
