"""Charts drawn on the server as inline SVG: no script, no chart library to vendor.

Every chart is also given as a table beside it (and as CSV), so nothing is carried by
the picture alone; the SVG has a ``<title>`` and ``role="img"`` for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#0b5a8a", "#17673a", "#8a4b00", "#6b2c91", "#a3161c")


def bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str,
    width: int = 1000,
    height: int = 220,
) -> str:
    """Stacked bars, one per label; ``series`` is (name, values) in stacking order."""
    n = max(1, len(labels))
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top = max([1, *totals])
    left, bottom, pad = 40, 24, 6
    plot_w, plot_h = width - left - pad, height - bottom - pad
    bar_w = plot_w / n
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{pad + plot_h}" x2="{width - pad}" y2="{pad + plot_h}" '
        'stroke="#4a5563"/>',
        f'<text x="{left - 4}" y="{pad + 10}" font-size="11" text-anchor="end">{top}</text>',
        f'<text x="{left - 4}" y="{pad + plot_h}" font-size="11" text-anchor="end">0</text>',
    ]
    for i in range(len(labels)):
        y = float(pad + plot_h)
        for k, (_name, values) in enumerate(series):
            h = plot_h * values[i] / top
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{left + i * bar_w + 1:.1f}" y="{y:.1f}" width="{max(1, bar_w - 2):.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}"/>'
            )
    step = max(1, n // 10)
    for i in range(0, len(labels), step):
        x = left + (i + 0.5) * bar_w
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle">'
            f"{escape(labels[i])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def legend(names: Sequence[str]) -> str:
    """Colour keys for :func:`bars`' series, as HTML."""
    return " ".join(
        f'<span><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
        f'fill="{PALETTE[k % len(PALETTE)]}"/></svg> {escape(name)}</span>'
        for k, name in enumerate(names)
    )


def heatmap(
    rows: Sequence[str], cols: Sequence[str], values: Sequence[Sequence[int]], *, title: str
) -> str:
    """A grid of cells shaded by value (busiest hours of the week), numbers in the cells."""
    cell_w, cell_h, left, topm = 26, 22, 70, 18
    width, height = left + cell_w * len(cols) + 4, topm + cell_h * len(rows) + 4
    peak = max([1, *(v for row in values for v in row)])
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for j, col in enumerate(cols):
        parts.append(
            f'<text x="{left + j * cell_w + cell_w / 2}" y="12" font-size="10" '
            f'text-anchor="middle">{escape(col)}</text>'
        )
    for i, row in enumerate(rows):
        y = topm + i * cell_h
        parts.append(
            f'<text x="{left - 4}" y="{y + 15}" font-size="11" text-anchor="end">'
            f"{escape(row)}</text>"
        )
        for j in range(len(cols)):
            v = values[i][j]
            share = v / peak
            # light to the brand blue; text flips to white where the cell is dark
            shade = int(245 - 180 * share)
            fill = f"rgb({shade},{int(248 - 150 * share)},{int(252 - 90 * share)})"
            ink = "#ffffff" if share > 0.55 else "#1b2430"
            parts.append(
                f'<rect x="{left + j * cell_w}" y="{y}" width="{cell_w - 1}" '
                f'height="{cell_h - 1}" fill="{fill}"/>'
            )
            if v:
                parts.append(
                    f'<text x="{left + j * cell_w + cell_w / 2}" y="{y + 15}" font-size="9" '
                    f'text-anchor="middle" fill="{ink}">{v}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)
