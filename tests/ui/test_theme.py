"""Accessibility rules checked without a window: contrast of at least 7:1, icons with colours."""

from __future__ import annotations

import pytest

from kiosk.ui import theme


@pytest.mark.parametrize("name", sorted(theme.TEXT_PAIRS))
def test_text_contrast_is_at_least_7_to_1(name: str) -> None:
    fg, bg = theme.TEXT_PAIRS[name]
    assert theme.contrast_ratio(fg, bg) >= 7.0, (name, theme.contrast_ratio(fg, bg))


def test_contrast_formula_matches_wcag_examples() -> None:
    assert theme.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert theme.contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


def test_every_severity_has_its_own_icon() -> None:
    icons = [icon for icon, _ink, _paper in theme.SEVERITY_STYLE.values()]
    assert len(set(icons)) == len(icons)


def test_font_covers_indonesian_and_status_symbols() -> None:
    from PIL import ImageFont

    font = ImageFont.truetype(str(theme.FONT_REGULAR), 20)
    missing = bytes(font.getmask("\U000f0000"))
    text = "Peminjaman Mandiri · Rp 1.500 · 28 Nov 2026 ✔✖⚠ℹ↗↙★☺⌂▤⊘⊗"
    assert [ch for ch in text if ch.strip() and bytes(font.getmask(ch)) == missing] == []
