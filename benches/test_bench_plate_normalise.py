"""Plate normalisation, Rust column path vs the pure-Python peer a user would otherwise write."""

from __future__ import annotations

import unicodedata
from typing import Any

import polars as pl

from cgi_match import normalize_plates
from cgi_match.demo import synthetic_reads
from conftest import gate, scaled

_SEPARATORS = str.maketrans("", "", " -.·/")


def python_peer(plates: list[str]) -> list[str | None]:
    """NFKC, upper case, drop separators, fold diacritics: what a user would write with the standard library."""
    out: list[str | None] = []
    for p in plates:
        s = unicodedata.normalize("NFKC", p).upper().translate(_SEPARATORS)
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
        out.append(s if s.isalnum() and len(s) <= 12 else None)
    return out


N = scaled(1_000_000, 2_000)
READS = synthetic_reads(N, seed=1)


def test_normalise_rust(benchmark: Any, bench_scale: str) -> None:
    benchmark.extra_info.update(rows=N, scale=bench_scale)
    gate(benchmark, "plates.normalise", "subject", items=N)
    out = benchmark(normalize_plates, READS)
    assert out.height == N


def test_normalise_python_peer(benchmark: Any, bench_scale: str) -> None:
    plates = READS.to_list()
    benchmark.extra_info.update(rows=N, scale=bench_scale)
    gate(benchmark, "plates.normalise", "peer", items=N)
    out = benchmark(python_peer, plates)
    # Same keys as the Rust path wherever both accept the plate.
    rust = normalize_plates(READS)["plate_key"].to_list()
    assert sum(a == b for a, b in zip(out, rust, strict=True) if a is not None and b is not None) > 0.9 * N


def test_reads_series_is_string() -> None:
    assert READS.dtype == pl.String
