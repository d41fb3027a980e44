"""Small inline SVG charts for the analysis report: no plotting library, no file, no network.

Every text that goes into a chart is escaped; every chart is a string holding one ``<svg>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

__all__ = ["bars", "heatmap", "intervals"]

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096", "#b7791f")
_FONT = 'font-family="sans-serif" font-size="11"'


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    low: float | None = None,
    high: float | None = None,
    digits: int = 2,
) -> str:
    """Horizontal grouped bars: one group per label, one bar per series (NaN: no bar)."""
    names = list(series)
    values = np.array([[float(v) for v in series[name]] for name in names], dtype=float)
    finite = values[np.isfinite(values)]
    lo = min(0.0, float(finite.min()) if finite.size else 0.0) if low is None else low
    hi = max(float(finite.max()) if finite.size else 1.0, lo + 1e-9) if high is None else high
    label_width, plot_width, bar, gap = 170, 380, 10, 8
    group = bar * len(names) + gap
    legend = 18
    height = legend + group * len(labels) + 24
    width = label_width + plot_width + 60

    def x(v: float) -> float:
        return label_width + (min(max(v, lo), hi) - lo) / (hi - lo) * plot_width

    body = []
    for s, name in enumerate(names):
        body.append(
            f'<rect x="{label_width + s * 120}" y="2" width="10" height="10" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/><text x="{label_width + s * 120 + 14}" y="11" '
            f"{_FONT}>{escape(name)}</text>"
        )
    zero = x(0.0)
    for i, label in enumerate(labels):
        top = legend + i * group
        body.append(
            f'<text x="{label_width - 6}" y="{top + group / 2}" text-anchor="end" '
            f'dominant-baseline="middle" {_FONT}>{escape(str(label))}</text>'
        )
        for s in range(len(names)):
            v = values[s, i]
            if not np.isfinite(v):
                continue
            left, right = sorted((zero, x(v)))
            y = top + s * bar
            body.append(
                f'<rect x="{left:.1f}" y="{y:.1f}" width="{max(right - left, 0.5):.1f}" '
                f'height="{bar - 1}" fill="{PALETTE[s % len(PALETTE)]}"/>'
                f'<text x="{right + 3:.1f}" y="{y + bar - 2:.1f}" font-family="sans-serif" '
                f'font-size="9">{v:.{digits}f}</text>'
            )
    bottom = legend + group * len(labels)
    body.append(
        f'<line x1="{zero:.1f}" y1="{legend}" x2="{zero:.1f}" y2="{bottom}" stroke="#333"/>'
        f'<text x="{label_width}" y="{bottom + 14}" {_FONT}>{lo:.{digits}f}</text>'
        f'<text x="{label_width + plot_width}" y="{bottom + 14}" text-anchor="end" {_FONT}>'
        f"{hi:.{digits}f}</text>"
    )
    return _svg(width, height, body, title)


def _diverging(v: float) -> str:
    """Blue (1) - white (0) - red (-1)."""
    if not np.isfinite(v):
        return "#dddddd"
    t = min(abs(v), 1.0)
    if v >= 0:
        r, g, b = 255 - t * (255 - 43), 255 - t * (255 - 108), 255 - t * (255 - 176)
    else:
        r, g, b = 255 - t * (255 - 197), 255 - t * (255 - 48), 255 - t * (255 - 48)
    return f"#{int(r):02x}{int(g):02x}{int(b):02x}"


def heatmap(matrix: np.ndarray, labels: Sequence[str], *, title: str) -> str:
    """A correlation heatmap with values written in the cells."""
    M = np.asarray(matrix, dtype=float)
    n = len(labels)
    cell, margin = 30, 130
    width = height = margin + cell * n + 10
    body = []
    for i, label in enumerate(labels):
        body.append(
            f'<text x="{margin - 4}" y="{margin + i * cell + cell / 2}" text-anchor="end" '
            f'dominant-baseline="middle" {_FONT}>{escape(str(label))}</text>'
            f'<text transform="translate({margin + i * cell + cell / 2},{margin - 4}) rotate(-60)"'
            f" {_FONT}>{escape(str(label))}</text>"
        )
        for j in range(n):
            v = M[i, j]
            text = "" if not np.isfinite(v) else f"{v:.2f}"
            body.append(
                f'<rect x="{margin + j * cell}" y="{margin + i * cell}" width="{cell}" '
                f'height="{cell}" fill="{_diverging(v)}" stroke="#fff"/>'
                f'<text x="{margin + j * cell + cell / 2}" y="{margin + i * cell + cell / 2}" '
                f'text-anchor="middle" dominant-baseline="middle" font-family="sans-serif" '
                f'font-size="8">{text}</text>'
            )
    return _svg(width, height, body, title)


def intervals(
    nominal: np.ndarray,
    low: np.ndarray,
    median: np.ndarray,
    high: np.ndarray,
    *,
    title: str,
    x_label: str,
    y_label: str,
    legend: Sequence[str],
    limit: int = 300,
) -> str:
    """Companies in order of nominal rank (x) against rank (y, 1 at the top): a vertical line
    from ``low`` to ``high``, a dot at the median and a dash at the nominal rank. At most
    ``limit`` companies, evenly spaced along the nominal order."""
    nominal = np.asarray(nominal, dtype=float)
    order = np.argsort(nominal, kind="stable")
    if len(order) > limit:
        order = order[np.linspace(0, len(order) - 1, limit).round().astype(int)]
    top = float(np.nanmax(np.concatenate([high, nominal]))) if len(nominal) else 1.0
    left, plot_w, plot_h, upper = 50, 560, 240, 24
    width, height = left + plot_w + 20, upper + plot_h + 40
    step = plot_w / max(len(order), 1)

    def y(rank: float) -> float:
        return upper + (rank - 1) / max(top - 1, 1) * plot_h

    body = [
        f'<rect x="{left}" y="{upper}" width="{plot_w}" height="{plot_h}" fill="none" '
        f'stroke="#999"/>',
        f'<text x="{left}" y="{height - 8}" {_FONT}>{escape(x_label)}</text>',
        f'<text x="4" y="{upper - 8}" {_FONT}>{escape(y_label)}</text>',
        f'<text x="{left - 4}" y="{upper + 4}" text-anchor="end" {_FONT}>1</text>',
        f'<text x="{left - 4}" y="{upper + plot_h}" text-anchor="end" {_FONT}>{top:.0f}</text>',
    ]
    for s, text in enumerate(legend):
        colour = ("#90cdf4", "#2b6cb0", "#c53030")[s]
        body.append(
            f'<rect x="{left + 200 + s * 130}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + 214 + s * 130}" y="15" {_FONT}>{escape(text)}</text>'
        )
    for position, i in enumerate(order):
        cx = left + (position + 0.5) * step
        body.append(
            f'<line x1="{cx:.1f}" y1="{y(low[i]):.1f}" x2="{cx:.1f}" y2="{y(high[i]):.1f}" '
            f'stroke="#90cdf4" stroke-width="{max(step * 0.6, 0.8):.1f}"/>'
            f'<circle cx="{cx:.1f}" cy="{y(median[i]):.1f}" r="1.6" fill="#2b6cb0"/>'
            f'<line x1="{cx - max(step / 2, 1.5):.1f}" y1="{y(nominal[i]):.1f}" '
            f'x2="{cx + max(step / 2, 1.5):.1f}" y2="{y(nominal[i]):.1f}" stroke="#c53030" '
            f'stroke-width="1.2"/>'
        )
    return _svg(width, height, body, title)
