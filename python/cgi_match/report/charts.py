"""Charts as inline SVG written by hand: no plotting library, no script, no external font, so the report
opens on an air-gapped network. Every label goes through ``html.escape``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

#: Colours of the series (modalities), readable for the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")


def _svg(width: int, height: int, body: str, title: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{body}</svg>'
    )


def bar_chart(items: Sequence[tuple[str, int]], title: str, *, width: int = 520, bar_height: int = 18) -> str:
    """Horizontal bars, one per (label, count), in the order given."""
    if not items:
        return f'<p class="empty">{escape(title)}: nothing to show.</p>'
    label_w, pad = 150, 6
    height = pad * 2 + 22 + len(items) * (bar_height + 4)
    top = max(v for _, v in items) or 1
    span = width - label_w - 70
    parts = [f'<text x="{pad}" y="16" class="ct">{escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = 26 + i * (bar_height + 4)
        w = max(1.0, span * value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_height - 5}" text-anchor="end">{escape(str(label))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height - 5}">{value:,}</text>'
        )
    return _svg(width, height, "".join(parts), title)


def histogram(
    series: dict[str, Sequence[float]], title: str, *, bins: int = 20, width: int = 520, height: int = 220
) -> str:
    """Overlaid step histograms of scores, one per series, over the common range of all values."""
    values = [v for vs in series.values() for v in vs if v is not None and math.isfinite(v)]
    if not values:
        return f'<p class="empty">{escape(title)}: no scores.</p>'
    lo, hi = min(values), max(values)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    left, right, top, bottom = 44, 12, 24, 34
    pw, ph = width - left - right, height - top - bottom
    counts: dict[str, list[int]] = {}
    for name, vs in series.items():
        c = [0] * bins
        for v in vs:
            if v is None or not math.isfinite(v):
                continue
            c[min(bins - 1, int((v - lo) / (hi - lo) * bins))] += 1
        counts[name] = c
    peak = max(max(c) for c in counts.values()) or 1
    parts = [
        f'<text x="{left}" y="16" class="ct">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" class="axis"/>',
        f'<text x="{left}" y="{height - 8}">{lo:.3g}</text>',
        f'<text x="{left + pw}" y="{height - 8}" text-anchor="end">{hi:.3g}</text>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{peak:,}</text>',
        f'<text x="{left + pw / 2:.0f}" y="{height - 8}" text-anchor="middle">score</text>',
    ]
    bw = pw / bins
    for k, (name, c) in enumerate(counts.items()):
        colour = PALETTE[k % len(PALETTE)]
        pts = []
        for i, n in enumerate(c):
            y = top + ph - ph * n / peak
            pts.append(f"{left + i * bw:.1f},{y:.1f} {left + (i + 1) * bw:.1f},{y:.1f}")
        parts.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(
            f'<rect x="{left + pw - 130}" y="{top + 4 + k * 16}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + pw - 116}" y="{top + 13 + k * 16}">{escape(name)} ({sum(c):,})</text>'
        )
    return _svg(width, height, "".join(parts), title)


def det_curve(
    series: dict[str, Sequence[tuple[float, float]]], title: str, *, width: int = 520, height: int = 300
) -> str:
    """Detection-error trade-off: FNMR against FMR, both on log axes (points are (fmr, fnmr))."""
    pts_all = [(f, n) for pts in series.values() for f, n in pts]
    if not pts_all:
        return f'<p class="empty">{escape(title)}: no ground truth.</p>'
    # A rate of 0 has no logarithm: such points sit on the left (or bottom) edge, one decade below the
    # smallest positive rate seen, and the caption says so.
    pos_f = [f for f, _ in pts_all if f > 0]
    pos_n = [n for _, n in pts_all if n > 0]
    x0 = math.floor(math.log10(min(pos_f))) - 1 if pos_f else -6
    y0 = math.floor(math.log10(min(pos_n))) - 1 if pos_n else -4
    x1 = max(math.ceil(math.log10(max(pos_f))) if pos_f else x0 + 1, x0 + 1)
    y1 = 0
    if y1 <= y0:
        y0 = y1 - 1
    floor, floor_n = 10.0**x0, 10.0**y0
    left, right, top, bottom = 52, 12, 24, 40
    pw, ph = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + pw * (math.log10(max(v, floor)) - x0) / (x1 - x0)

    def sy(v: float) -> float:
        return top + ph - ph * (math.log10(max(v, floor_n)) - y0) / (y1 - y0)

    parts = [
        f'<text x="{left}" y="16" class="ct">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>',
        f'<text x="{left + pw / 2:.0f}" y="{height - 6}" text-anchor="middle">'
        "false match rate (log; a rate of 0 is drawn on the edge)</text>",
        f'<text x="12" y="{top + ph / 2:.0f}" transform="rotate(-90 12 {top + ph / 2:.0f})" '
        'text-anchor="middle">false non-match rate (log)</text>',
    ]
    for e in range(x0, x1 + 1):
        x = left + pw * (e - x0) / (x1 - x0)
        parts.append(f'<text x="{x:.1f}" y="{top + ph + 14}" text-anchor="middle">1e{e}</text>')
    for e in range(y0, y1 + 1):
        y = top + ph - ph * (e - y0) / (y1 - y0)
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">1e{e}</text>')
    for k, (name, pts) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        line = " ".join(f"{sx(f):.1f},{sy(n):.1f}" for f, n in sorted(pts))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [
            f'<rect x="{sx(f) - 2:.1f}" y="{sy(n) - 2:.1f}" width="4" height="4" fill="{colour}"/>' for f, n in pts
        ]
        parts.append(
            f'<rect x="{left + pw - 130}" y="{top + 6 + k * 16}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + pw - 116}" y="{top + 15 + k * 16}">{escape(name)}</text>'
        )
    return _svg(width, height, "".join(parts), title)
