"""Colours, sizes and fonts of the kiosk screens.

Colours are plain RGB tuples so the contrast rule (at least 7:1 for text,
WCAG AAA) is tested without a window: see ``TEXT_PAIRS``. Sizes are in
millimetres and sp so a touch target stays at least 15 mm on any panel.
"""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FONT_REGULAR = ASSETS / "fonts" / "DejaVuSans.ttf"
FONT_BOLD = ASSETS / "fonts" / "DejaVuSans-Bold.ttf"

RGB = tuple[float, float, float]


def hex_rgb(code: str) -> RGB:
    code = code.lstrip("#")
    return tuple(int(code[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def rgba(code: str, alpha: float = 1.0) -> list[float]:
    """Kivy colour list from a hex code."""
    return [*hex_rgb(code), alpha]


def relative_luminance(rgb: RGB) -> float:
    def chan(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (chan(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG contrast ratio between two hex colours (1.0 to 21.0)."""
    a, b = relative_luminance(hex_rgb(fg)), relative_luminance(hex_rgb(bg))
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


# Palette: warm paper background, near-black ink, deep tile colours with white text.
BG = "#F6F4EF"
SURFACE = "#FFFFFF"
INK = "#111827"
INK_MUTED = "#374151"
WHITE = "#FFFFFF"
HEADER = "#0B2E59"
BORROW = "#0B4A8B"
RETURN = "#14532D"
EVENTS = "#7A2E0E"
ACCOUNT = "#4C1D95"
NEUTRAL = "#1F2937"
FOCUS = "#F59E0B"  # outline of the pressed tile; never carries meaning alone
SUCCESS_BG = "#E7F6EC"
SUCCESS_INK = "#0B4A22"
WARNING_BG = "#FFF4D6"
WARNING_INK = "#5A3600"
ERROR_BG = "#FDECEC"
ERROR_INK = "#7F1010"
INFO_BG = "#E8EEF7"
INFO_INK = "#0B2E59"
OVERDUE_BG = "#FDECEC"

#: Every (text, background) pair the screens use; a unit test checks each is at least 7:1.
TEXT_PAIRS: dict[str, tuple[str, str]] = {
    "body": (INK, BG),
    "body_on_card": (INK, SURFACE),
    "muted": (INK_MUTED, BG),
    "muted_on_card": (INK_MUTED, SURFACE),
    "header": (WHITE, HEADER),
    "tile_borrow": (WHITE, BORROW),
    "tile_return": (WHITE, RETURN),
    "tile_events": (WHITE, EVENTS),
    "tile_account": (WHITE, ACCOUNT),
    "button_neutral": (WHITE, NEUTRAL),
    "success": (SUCCESS_INK, SUCCESS_BG),
    "warning": (WARNING_INK, WARNING_BG),
    "error": (ERROR_INK, ERROR_BG),
    "info": (INFO_INK, INFO_BG),
    "overdue": (ERROR_INK, OVERDUE_BG),
}

# Severity -> (icon, ink, background). The icon and a word always go with the colour.
SEVERITY_STYLE: dict[str, tuple[str, str, str]] = {
    "info": ("ℹ", INFO_INK, INFO_BG),
    "success": ("✔", SUCCESS_INK, SUCCESS_BG),
    "warning": ("⚠", WARNING_INK, WARNING_BG),
    "error": ("✖", ERROR_INK, ERROR_BG),
}

#: Smallest touch target, in millimetres (the issue asks for at least 15 mm).
MIN_TOUCH_MM = 15.0
