"""Static SVG charts for documents that must open anywhere and run nothing (the model card).

Plotly charts need plotly.js; a report meant to be e-mailed, printed and opened years
later is better served by plain SVG: a few kilobytes, no script, every label escaped.
Builders take plain numbers and return an ``<svg>`` string.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["PALETTE", "line_chart", "scatter_chart", "bar_chart"]

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f"]
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:11px"
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 50, 10, 26, 38


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: float) -> str:
    """Short tick labels: 0.25, 120, 15k, 2.5M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= limit:
            return f"{value / (limit if limit != 1e4 else 1e3):.3g}{suffix}"
    if abs(value) >= 1_000:
        return f"{value:,.0f}"
    if value == 0 or abs(value) >= 0.01:
        return f"{value:.3g}"
    return f"{value:.1e}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


class _Frame:
    """Axes, ticks and the mapping from data to pixels."""

    def __init__(self, width, height, x_range, y_range, title, x_label, y_label):
        self.w, self.h = width, height
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        if self.x1 <= self.x0:
            self.x1 = self.x0 + 1
        if self.y1 <= self.y0:
            self.y1 = self.y0 + 1
        self.parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                      f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" style="{_FONT}">',
                      f'<text x="{width / 2}" y="15" text-anchor="middle" font-weight="600">{_e(title)}</text>']
        left, right, top, bottom = _PAD_L, width - _PAD_R, _PAD_T, height - _PAD_B
        self.parts.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="#fff" '
                          'stroke="#ccc"/>')
        for t in _ticks(self.x0, self.x1):
            x = self.px(t)
            self.parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#eee"/>'
                              f'<text x="{x:.1f}" y="{bottom + 13}" text-anchor="middle" fill="#555">{_fmt(t)}</text>')
        for t in _ticks(self.y0, self.y1):
            y = self.py(t)
            self.parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>'
                              f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{_fmt(t)}</text>')
        self.parts.append(f'<text x="{(left + right) / 2}" y="{height - 6}" text-anchor="middle" fill="#333">'
                          f'{_e(x_label)}</text>')
        self.parts.append(f'<text transform="translate(11 {(top + bottom) / 2}) rotate(-90)" text-anchor="middle" '
                          f'fill="#333">{_e(y_label)}</text>')

    def px(self, x: float) -> float:
        return _PAD_L + (x - self.x0) / (self.x1 - self.x0) * (self.w - _PAD_L - _PAD_R)

    def py(self, y: float) -> float:
        return self.h - _PAD_B - (y - self.y0) / (self.y1 - self.y0) * (self.h - _PAD_T - _PAD_B)

    def diagonal(self) -> None:
        lo, hi = max(self.x0, self.y0), min(self.x1, self.y1)
        self.parts.append(f'<line x1="{self.px(lo):.1f}" y1="{self.py(lo):.1f}" x2="{self.px(hi):.1f}" '
                          f'y2="{self.py(hi):.1f}" stroke="#999" stroke-dasharray="4 3"/>')

    def legend(self, names: Sequence[str], corner: str = "bottom-right") -> None:
        """A legend in a corner of the plot area that the curves leave empty."""
        names = [str(n) if len(str(n)) <= 26 else str(n)[:25] + "…" for n in names[:8]]
        width = 16 + 6.2 * max((len(n) for n in names), default=0)
        x = _PAD_L + 6 if corner.endswith("left") else self.w - _PAD_R - width - 4
        top = _PAD_T + 14 if corner.startswith("top") else self.h - _PAD_B - 6 - 13 * (len(names) - 1)
        self.parts.append(f'<rect x="{x - 3}" y="{top - 11}" width="{width + 4:.0f}" height="{13 * len(names) + 4}" '
                          'fill="#fff" fill-opacity="0.85"/>')
        for i, name in enumerate(names):
            y = top + 13 * i
            colour = PALETTE[i % len(PALETTE)]
            self.parts.append(f'<rect x="{x:.0f}" y="{y - 8}" width="9" height="9" fill="{colour}"/>'
                              f'<text x="{x + 13:.0f}" y="{y}" fill="#333">{_e(name)}</text>')

    def svg(self) -> str:
        return "".join(self.parts) + "</svg>"


def _finite(xs, ys) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in zip(xs, ys)
            if x is not None and y is not None and math.isfinite(float(x)) and math.isfinite(float(y))]


def line_chart(series: Sequence[dict], *, title: str, x_label: str, y_label: str,
               x_range: tuple[float, float] = (0.0, 1.0), y_range: tuple[float, float] = (0.0, 1.0),
               diagonal: bool = False, width: int = 300, height: int = 260, legend: str = "bottom-right") -> str:
    """``series``: ``{"name", "x", "y"}`` dicts, drawn as lines (ROC, precision-recall, calibration);
    ``legend`` names the corner the curves leave free."""
    frame = _Frame(width, height, x_range, y_range, title, x_label, y_label)
    if diagonal:
        frame.diagonal()
    for i, s in enumerate(series):
        points = " ".join(f"{frame.px(x):.1f},{frame.py(y):.1f}" for x, y in _finite(s["x"], s["y"]))
        if points:
            frame.parts.append(f'<polyline points="{points}" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" '
                               'stroke-width="1.8"/>')
    if len(series) > 1 or (series and series[0].get("name")):
        frame.legend([s.get("name", "") for s in series], legend)
    return frame.svg()


def scatter_chart(x: Sequence[float], y: Sequence[float], *, title: str, x_label: str, y_label: str,
                  diagonal: bool = True, width: int = 340, height: int = 280, max_points: int = 1_500) -> str:
    """Points (e.g. predicted against actual), thinned to ``max_points`` evenly spaced ones."""
    points = _finite(x, y)
    if len(points) > max_points:
        step = len(points) / max_points
        points = [points[int(i * step)] for i in range(max_points)]
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        lo, hi = min(min(xs), min(ys)), max(max(xs), max(ys))
        pad = (hi - lo) * 0.03 or 1.0
        lo, hi = lo - pad, hi + pad
    else:
        lo, hi = 0.0, 1.0
    frame = _Frame(width, height, (lo, hi), (lo, hi), title, x_label, y_label)
    if diagonal:
        frame.diagonal()
    frame.parts.append('<g fill="#1f77b4" fill-opacity="0.35">' + "".join(
        f'<circle cx="{frame.px(a):.1f}" cy="{frame.py(b):.1f}" r="2"/>' for a, b in points) + "</g>")
    return frame.svg()


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, value_format: str = "{:.0%}",
              width: int = 520, label_width: int = 190) -> str:
    """Horizontal bars, largest first as given (e.g. feature importance shares)."""
    row = 20
    height = 28 + row * len(items) + 6
    top = max((v for _, v in items), default=1.0) or 1.0
    span = width - label_width - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" style="{_FONT}">',
             f'<text x="0" y="15" font-weight="600">{_e(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = 28 + i * row
        length = max(value, 0.0) / top * span
        shown = str(label) if len(str(label)) <= 30 else str(label)[:29] + "…"
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" fill="#333">{_e(shown)}</text>'
                     f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="#1f77b4"/>'
                     f'<text x="{label_width + length + 4:.1f}" y="{y + 13}" fill="#555">'
                     f'{_e(value_format.format(value))}</text>')
    return "".join(parts) + "</svg>"
