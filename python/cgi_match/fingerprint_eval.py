"""Verification accuracy of the fingerprint matcher with the FVC protocol, on real template folders or on
synthetic data: EER, FNMR at FMR 1 % and 0.1 %, the threshold table, a DET curve and score histograms.

Protocol (FVC2000-2006, Maio et al.): templates are named ``FINGER_IMPRESSION``; genuine pairs are all pairs of
impressions of one finger; impostor pairs are every pair of templates of different fingers (for the 80
templates of FVC2002 DB2_B: 280 genuine and 2,880 impostor pairs). Each pair is compared once (lower index as
probe). Rates: FMR(t) is the share of impostor scores ≥ t, FNMR(t) the share of genuine scores < t; the EER
is the smallest max(FMR, FNMR) over all thresholds (conservative: never below either rate); "FNMR at FMR x" is
the smallest FNMR among thresholds with FMR ≤ x.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from cgi_match.fingerprint_gallery import compare_pairs
from cgi_match.fingerprints import FingerprintTemplate

#: FMR levels of the threshold table.
THRESHOLD_FMRS: tuple[float, ...] = (0.01, 0.001, 0.0001)
_FVC_NAME = re.compile(r"^(?P<finger>[^_#]+)_(?P<impression>\d+)$")


@dataclass(frozen=True)
class Evaluation:
    """Scores of the genuine and impostor pairs and the error rates derived from them."""

    genuine: npt.NDArray[np.float32]
    impostor: npt.NDArray[np.float32]
    eer: float
    fnmr_at_fmr: dict[float, float]
    thresholds: dict[float, float | None]

    def summary(self) -> dict[str, Any]:
        """The figures as JSON-ready numbers (rates in %, thresholds as scores)."""
        return {
            "genuine_pairs": int(self.genuine.size),
            "impostor_pairs": int(self.impostor.size),
            "eer_percent": round(100 * self.eer, 3),
            "fnmr_at_fmr_1_percent": round(100 * self.fnmr_at_fmr[0.01], 3),
            "fnmr_at_fmr_0_1_percent": round(100 * self.fnmr_at_fmr[0.001], 3),
            "threshold_table": {
                f"fmr_{100 * k:g}_percent": (None if v is None else round(v, 6)) for k, v in self.thresholds.items()
            },
            # With n impostor pairs an FMR below 1/n cannot be observed: the table says so instead of guessing.
            "lowest_measurable_fmr": (1.0 / self.impostor.size) if self.impostor.size else None,
        }


def error_rates(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> Evaluation:
    """EER, FNMR at FMR 1 % / 0.1 % and the score thresholds at FMR 1 %, 0.1 %, 0.01 %."""
    g = np.sort(np.asarray(genuine, dtype=np.float32))
    i = np.sort(np.asarray(impostor, dtype=np.float32))
    if g.size == 0 or i.size == 0:
        raise ValueError("an evaluation needs at least one genuine and one impostor pair")
    fmr, fnmr, t = _curves(g, i)
    eer = float(np.min(np.maximum(fmr, fnmr)))
    fnmr_at = {x: float(np.min(fnmr[fmr <= x])) for x in (0.01, 0.001)}
    thresholds: dict[float, float | None] = {}
    for x in THRESHOLD_FMRS:
        if x < 1.0 / i.size:
            thresholds[x] = None
        else:
            ok = t[(fmr <= x) & np.isfinite(t)]
            thresholds[x] = float(ok.min()) if ok.size else None
    return Evaluation(genuine=g, impostor=i, eer=eer, fnmr_at_fmr=fnmr_at, thresholds=thresholds)


def _curves(
    g: npt.NDArray[np.float32], i: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """FMR and FNMR at every distinct score (and +∞, where FMR is 0 and FNMR 1)."""
    t = np.append(np.unique(np.concatenate([g, i])).astype(np.float64), np.inf)
    fmr = (i.size - np.searchsorted(i, t, side="left")) / i.size
    fnmr = np.searchsorted(g, t, side="left") / g.size
    return fmr, fnmr, t


def fvc_pairs(ids: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
    """Index pairs of the protocol for ``FINGER_IMPRESSION`` ids: (left, right, is_genuine), left < right."""
    fingers = []
    for name in ids:
        m = _FVC_NAME.match(name)
        if m is None:
            raise ValueError(f"template id {name!r} is not FINGER_IMPRESSION")
        fingers.append(m["finger"])
    codes = pl.Series(fingers).cast(pl.Categorical).to_physical().to_numpy()
    n = len(ids)
    left, right = np.triu_indices(n, k=1)
    genuine = codes[left] == codes[right]
    return left.astype(np.uint32), right.astype(np.uint32), genuine


def evaluate_templates(ids: Sequence[str], templates: Sequence[FingerprintTemplate]) -> Evaluation:
    """Runs the protocol over templates named ``FINGER_IMPRESSION``."""
    left, right, genuine = fvc_pairs(ids)
    scores = compare_pairs(templates, left, right)
    return error_rates(scores[genuine], scores[~genuine])


def evaluate_synthetic(subjects: int, impressions: int, *, seed: int = 0) -> Evaluation:
    """Runs the protocol on a synthetic set (``subjects`` fingers, ``impressions`` each) of the Rust generator."""
    from cgi_match.synth.fingerprints import templates

    truth, temps = templates(subjects, impressions, seed=seed)
    return evaluate_templates(truth["template_id"].to_list(), temps)


# --- Pictures: hand-written SVG, self-contained (no scripts, fonts or network) ----------------------------

_W, _H, _PAD = 480, 360, 48


def det_svg(ev: Evaluation, *, title: str = "DET curve") -> str:
    """FNMR against FMR, both on log axes from 0.01 % to 100 %, as a standalone SVG document."""
    fmr, fnmr, _ = _curves(ev.genuine, ev.impostor)
    lo = -4.0

    def ax(v: float) -> float:
        return (max(math.log10(max(v, 10**lo)), lo) - lo) / -lo

    points = " ".join(
        f"{_PAD + ax(a) * (_W - 2 * _PAD):.1f},{_H - _PAD - ax(b) * (_H - 2 * _PAD):.1f}"
        for a, b in zip(fmr, fnmr, strict=False)
    )
    ticks = []
    for k in range(int(lo), 1):
        x = _PAD + ax(10.0**k) * (_W - 2 * _PAD)
        y = _H - _PAD - ax(10.0**k) * (_H - 2 * _PAD)
        label = f"{100 * 10.0**k:g}%"
        ticks.append(f'<line x1="{x:.1f}" y1="{_PAD}" x2="{x:.1f}" y2="{_H - _PAD}" stroke="#ddd"/>')
        ticks.append(f'<text x="{x:.1f}" y="{_H - _PAD + 16}" text-anchor="middle">{label}</text>')
        ticks.append(f'<line x1="{_PAD}" y1="{y:.1f}" x2="{_W - _PAD}" y2="{y:.1f}" stroke="#ddd"/>')
        ticks.append(f'<text x="{_PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    eer = f"EER {100 * ev.eer:.2f} %"
    return _svg(
        title,
        "\n".join(ticks)
        + f'\n<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{points}"/>'
        + f'\n<text x="{_W - _PAD}" y="{_PAD - 8}" text-anchor="end">{eer}</text>'
        + f'\n<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle">FMR</text>'
        + f'\n<text x="12" y="{_H / 2}" transform="rotate(-90 12 {_H / 2})" text-anchor="middle">FNMR</text>',
    )


def histogram_svg(ev: Evaluation, *, bins: int = 50, title: str = "Score histograms") -> str:
    """Genuine (green) and impostor (grey) score distributions, each normalised to its own total."""
    top = float(max(ev.genuine.max(initial=0.0), ev.impostor.max(initial=0.0), 1e-6))
    edges = np.linspace(0.0, top, bins + 1)
    parts = []
    g_hist, _ = np.histogram(ev.genuine, edges)
    i_hist, _ = np.histogram(ev.impostor, edges)
    g_share, i_share = g_hist / max(ev.genuine.size, 1), i_hist / max(ev.impostor.size, 1)
    peak = float(max(g_share.max(), i_share.max(), 1e-9))
    width = (_W - 2 * _PAD) / bins
    for share, colour in ((i_share, "#7f8c8d"), (g_share, "#27ae60")):
        for k, v in enumerate(share):
            h = v / peak * (_H - 2 * _PAD)
            x = _PAD + k * width
            parts.append(
                f'<rect x="{x:.1f}" y="{_H - _PAD - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
                f'fill="{colour}" fill-opacity="0.6"/>'
            )
    for k in range(6):
        v = top * k / 5
        x = _PAD + (_W - 2 * _PAD) * k / 5
        parts.append(f'<text x="{x:.1f}" y="{_H - _PAD + 16}" text-anchor="middle">{v:.2f}</text>')
    parts.append(f'<text x="{_W - _PAD}" y="{_PAD - 8}" text-anchor="end" fill="#27ae60">genuine</text>')
    parts.append(f'<text x="{_W - _PAD - 70}" y="{_PAD - 8}" text-anchor="end" fill="#7f8c8d">impostor</text>')
    parts.append(f'<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle">score</text>')
    return _svg(title, "\n".join(parts))


def _svg(title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
        'font-family="sans-serif" font-size="11">\n'
        f"<title>{title}</title>\n"
        f'<rect x="{_PAD}" y="{_PAD}" width="{_W - 2 * _PAD}" height="{_H - 2 * _PAD}" fill="none" stroke="#333"/>\n'
        f'<text x="{_PAD}" y="{_PAD - 8}" font-weight="bold">{title}</text>\n'
        f"{body}\n</svg>\n"
    )
