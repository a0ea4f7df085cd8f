"""One receipt document model, rendered to ESC/POS bytes and to a PNG preview."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class Text:
    """A line (or wrapped paragraph) of text."""

    text: str
    bold: bool = False
    size: int = 1  # 1 normal, 2 double width and height
    align: Align = Align.LEFT


@dataclass(frozen=True, slots=True)
class Columns:
    """Left and right text on one line (for example a title and its due date)."""

    left: str
    right: str
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal separator."""

    char: str = "-"


@dataclass(frozen=True, slots=True)
class Barcode:
    """A Code 128 barcode with its human-readable text."""

    data: str


@dataclass(frozen=True, slots=True)
class QRCode:
    """A QR code (event tickets)."""

    data: str
    size: int = 6


@dataclass(frozen=True, slots=True)
class Feed:
    lines: int = 1


Block = Text | Columns | Rule | Barcode | QRCode | Feed


@dataclass(slots=True)
class Receipt:
    """A slip: an ordered list of blocks, cut at the end."""

    blocks: list[Block] = field(default_factory=list)
    cut: bool = True

    def add(self, *blocks: Block) -> Receipt:
        self.blocks.extend(blocks)
        return self

    def text_lines(self) -> list[str]:
        """The slip's text as lines, as a printer would show them (for tests and logs)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Text):
                out.append(b.text)
            elif isinstance(b, Columns):
                out.append(f"{b.left} {b.right}")
            elif isinstance(b, Barcode | QRCode):
                out.append(f"[{type(b).__name__}:{b.data}]")
        return out
