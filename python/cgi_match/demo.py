"""``cgi-match demo``: the main job end to end on built-in synthetic data, with a printed summary.

It runs every stage that exists today: synthetic plate reads → Rust normalisation → accounted rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from cgi_match.plates import normalize_plates

_LETTERS = np.array(list("ABCDEFGHJKLMNPRSTVWXYZ"))
_DIGITS = np.array(list("0123456789"))
# Separators and scripts seen on real reads: hyphens, spaces, dots, Cyrillic look-alikes, lower case.
_DECOR = np.array(["-", " ", ".", "", "·"])
_GARBAGE = np.array(["", "   ", "--", "AB\tC12", "ABCDEFGHIJKLMNOP"])


@dataclass
class StageTiming:
    """Wall time of one stage of the demo, for the printed summary."""

    name: str
    seconds: float


@dataclass
class DemoSummary:
    """What the demo did, with counts that must add up."""

    rows_in: int
    rows_kept: int
    rejects_by_reason: dict[str, int]
    timings: list[StageTiming] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        out = [
            f"plate reads in      {self.rows_in:>10,}",
            f"  normalised        {self.rows_kept:>10,}",
            f"  rejected          {sum(self.rejects_by_reason.values()):>10,}",
        ]
        out += [f"    {reason:<56} {n:>8,}" for reason, n in sorted(self.rejects_by_reason.items())]
        out += [f"time {t.name:<20} {t.seconds:8.3f} s" for t in self.timings]
        return out


def synthetic_reads(n: int, seed: int = 0) -> pl.Series:
    """``n`` plate reads in mixed formats and decorations, about 1% of them unusable."""
    rng = np.random.default_rng(seed)
    left = _LETTERS[rng.integers(0, len(_LETTERS), size=(n, 3))]
    right = _DIGITS[rng.integers(0, len(_DIGITS), size=(n, 3))]
    sep = _DECOR[rng.integers(0, len(_DECOR), size=n)]
    plates = np.char.add(np.char.add(np.char.add(left[:, 0], left[:, 1]), left[:, 2]), sep)
    plates = np.char.add(plates, np.char.add(np.char.add(right[:, 0], right[:, 1]), right[:, 2]))
    lower = rng.random(n) < 0.1
    plates[lower] = np.char.lower(plates[lower])
    plates = plates.astype(f"<U{max(len(g) for g in _GARBAGE)}")
    bad = rng.random(n) < 0.01
    plates[bad] = _GARBAGE[rng.integers(0, len(_GARBAGE), size=int(bad.sum()))]
    return pl.Series("plate", plates.astype(str), dtype=pl.String)


def run_demo(n_reads: int = 1_000_000, seed: int = 0) -> DemoSummary:
    """Generates reads, normalises them in Rust and accounts for every row."""
    t0 = time.perf_counter()
    reads = synthetic_reads(n_reads, seed)
    t1 = time.perf_counter()
    out = normalize_plates(reads)
    t2 = time.perf_counter()
    counts = out.group_by("reject_reason").len().drop_nulls("reject_reason")
    rejects = dict(zip(counts["reject_reason"].to_list(), counts["len"].to_list(), strict=True))
    kept = int(out["plate_key"].is_not_null().sum())
    summary = DemoSummary(
        rows_in=n_reads,
        rows_kept=kept,
        rejects_by_reason=rejects,
        timings=[StageTiming("synthesise", t1 - t0), StageTiming("normalise (Rust)", t2 - t1)],
    )
    if summary.rows_kept + sum(rejects.values()) != summary.rows_in:
        raise AssertionError("demo lost rows: kept + rejected != in")
    return summary
