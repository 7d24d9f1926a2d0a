"""Plate matching: index build, throughput by match kind, the rapidfuzz peer with identical hits, accuracy.

Full size (``make bench``): 1M alerts x 1M reads; rapidfuzz side by side at 100k alerts x 10k reads.
Tiny size (inside ``make test``): a few thousand rows, so the suite keeps working.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pytest
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from cgi_match import PlateIndex, normalize_plates
from cgi_match.synth.plates import PlateDataset, generate, lookalike_reads
from conftest import gate, scaled

N_ALERTS = scaled(1_000_000, 3_000)
N_READS = scaled(1_000_000, 3_000)
PEER_ALERTS = scaled(100_000, 2_000)
PEER_READS = scaled(10_000, 300)


@cache
def data() -> PlateDataset:
    """Alerts and reads (10% derived from alerts), held back from any tuning: seed 2024 is used nowhere else."""
    return generate(N_ALERTS, N_READS, related_share=0.1, seed=2024)


@cache
def index() -> PlateIndex:
    return PlateIndex(data().alerts)


def test_build(benchmark: Any, bench_scale: str) -> None:
    alerts = data().alerts
    built = benchmark.pedantic(PlateIndex, args=(alerts,), rounds=3, iterations=1)
    base = built.nbytes / len(built)
    built.prepare(1)
    with_edit = built.nbytes / len(built)
    benchmark.extra_info.update(
        alerts=len(built),
        scale=bench_scale,
        bytes_per_alert=round(base, 1),
        bytes_per_alert_with_edit1=round(with_edit, 1),
    )
    assert len(built) == alerts.height


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("exact", {"max_ocr": 0, "max_edits": 0}),
        ("default_ocr2", {}),
        ("ocr2_edit1", {"max_edits": 1}),
    ],
)
def test_match(benchmark: Any, bench_scale: str, name: str, options: dict[str, int]) -> None:
    idx = index()
    idx.prepare(options.get("max_edits", 0))
    reads = data().reads
    if name == "exact":
        gate(benchmark, "plates.match_exact", "subject", items=reads.height)
    result = benchmark.pedantic(idx.match_with_rejects, args=(reads,), kwargs=options, rounds=3, iterations=1)
    benchmark.extra_info.update(
        alerts=len(idx), reads=reads.height, scale=bench_scale, hits=result.hits.height, by_kind=result.hits_by_kind
    )
    assert result.reads_with_hits + result.reads_without_hits + result.reads_rejected == reads.height


def _polars_exact_join(alerts: pl.DataFrame, reads: pl.DataFrame) -> pl.DataFrame:
    """The peer for exact matching: normalise both sides (in Rust, same rules) and hash-join in polars."""
    a = alerts.select("alert_id", normalize_plates(alerts["plate"])["plate_key"])
    r = reads.select("read_id", normalize_plates(reads["plate"])["plate_key"])
    return r.join(a, on="plate_key", how="inner")


def test_match_exact_peer_polars_join(benchmark: Any, bench_scale: str) -> None:
    alerts, reads = data().alerts, data().reads
    gate(benchmark, "plates.match_exact", "peer", items=reads.height)
    out = benchmark.pedantic(_polars_exact_join, args=(alerts, reads), rounds=3, iterations=1)
    benchmark.extra_info.update(alerts=alerts.height, reads=reads.height, scale=bench_scale, hits=out.height)
    # Same (read, alert) pairs as the index's exact kind, countries and validity left out.
    plain = PlateIndex(alerts.select("alert_id", "plate"))
    ours = plain.match(reads.select("read_id", "plate"), max_ocr=0, country_policy="ignore")
    assert set(ours.select("read_id", "alert_id").iter_rows()) == set(out.select("read_id", "alert_id").iter_rows())


@cache
def peer_keys() -> tuple[list[str], list[str]]:
    """Normalised keys of 100k alerts and 10k reads (half of them one edit away from an alert)."""
    d = generate(PEER_ALERTS, PEER_READS, related_share=0.5, seed=77)
    alerts = normalize_plates(d.alerts["plate"])["plate_key"].drop_nulls().to_list()
    reads = normalize_plates(d.reads["plate"])["plate_key"].drop_nulls().to_list()
    return alerts, reads


def _rapidfuzz_pairs(alerts: list[str], reads: list[str]) -> set[tuple[int, int]]:
    dist = process.cdist(reads, alerts, scorer=Levenshtein.distance, score_cutoff=1, workers=-1, dtype=np.uint8)
    r, a = np.nonzero(dist <= 1)
    return set(zip(r.tolist(), a.tolist(), strict=True))


def _index_pairs(idx: PlateIndex, reads: list[str]) -> set[tuple[int, int]]:
    hits = idx.match(
        pl.DataFrame({"read_id": np.arange(len(reads)), "plate": reads}),
        max_ocr=0,
        max_edits=1,
        min_fuzzy_length=0,
        country_policy="ignore",
        at=0,
    )
    return set(zip(hits["read_id"].to_list(), hits["alert_row"].to_list(), strict=True))


@cache
def peer_index() -> PlateIndex:
    alerts, _ = peer_keys()
    table = pl.DataFrame({"alert_id": [f"a{i:07d}" for i in range(len(alerts))], "plate": alerts})
    idx = PlateIndex(table.with_row_index("alert_row"), ocr_classes=[])
    idx.prepare(1)
    return idx


def test_edit1_index_vs_rapidfuzz_index(benchmark: Any, bench_scale: str) -> None:
    _, reads = peer_keys()
    idx = peer_index()
    gate(benchmark, "plates.edit1", "subject", items=len(reads))
    pairs = benchmark.pedantic(_index_pairs, args=(idx, reads), rounds=5, iterations=1)
    benchmark.extra_info.update(alerts=len(idx), reads=len(reads), scale=bench_scale, pairs=len(pairs))
    assert pairs


def test_edit1_index_vs_rapidfuzz_peer(benchmark: Any, bench_scale: str) -> None:
    alerts, reads = peer_keys()
    gate(benchmark, "plates.edit1", "peer", items=len(reads))
    pairs = benchmark.pedantic(_rapidfuzz_pairs, args=(alerts, reads), rounds=1, iterations=1)
    benchmark.extra_info.update(alerts=len(alerts), reads=len(reads), scale=bench_scale, pairs=len(pairs))
    # Identical hit sets: plain Levenshtein distance <= 1, no look-alikes, no length floor.
    assert pairs == _index_pairs(peer_index(), reads)


def test_accuracy_false_hits_and_lookalike_recall(benchmark: Any, bench_scale: str) -> None:
    """Default options: share of unrelated random reads with a hit, and recall of one-look-alike reads."""
    idx = index()
    alerts = data().alerts
    unrelated = generate(0, N_READS, related_share=0.0, seed=99).reads.drop("country", "seen_at")
    result = benchmark.pedantic(idx.match_with_rejects, args=(unrelated,), rounds=1, iterations=1)
    hit_reads = result.hits.group_by("read_id").agg(pl.col("match_kind").min())
    false_any = hit_reads.height / unrelated.height
    false_fuzzy = hit_reads.filter(pl.col("match_kind") != "exact").height / unrelated.height

    # Alerts still valid at the synthetic reference moment (the generator expires 3% before it).
    valid = alerts.filter(pl.col("valid_to").is_null())
    swapped = lookalike_reads(valid, N_READS, seed=98)
    hits = idx.match(swapped.drop("source_alert_id"), at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    found = swapped.join(
        hits.select("read_id", pl.col("alert_id").alias("source_alert_id")),
        on=["read_id", "source_alert_id"],
        how="semi",
    )
    keys = normalize_plates(swapped["plate"])["plate_key"].str.len_chars()
    long_enough = swapped.filter(keys >= 5)
    found_long = found.join(long_enough.select("read_id"), on="read_id", how="semi")
    # Short plates get ocr hits within max_ocr_short=1 (one look-alike swap), so they are found too.
    short = swapped.filter(keys < 5)
    found_short = found.join(short.select("read_id"), on="read_id", how="semi")
    benchmark.extra_info.update(
        alerts=len(idx),
        reads=unrelated.height,
        scale=bench_scale,
        random_reads_with_any_hit=round(false_any, 5),
        random_reads_with_ocr_hit=round(false_fuzzy, 5),
        lookalike_recall=round(found.height / swapped.height, 5),
        lookalike_recall_plates_ge_5=round(found_long.height / max(long_enough.height, 1), 5),
        lookalike_recall_plates_lt_5=round(found_short.height / max(short.height, 1), 5),
    )
    # Gated accuracy figures (benches/README.md): bounds per scale in benches/floors.toml.
    benchmark.extra_info.update(
        gate="plates.accuracy",
        metrics={
            "false_hit_rate": false_fuzzy,
            "recall": found.height / swapped.height,
            "recall_plates_ge_5": found_long.height / max(long_enough.height, 1),
        },
        better={"recall_plates_ge_5": "higher"},
    )
    assert found_long.height == long_enough.height  # every look-alike read of a fuzzy-length plate is found
    assert found_short.height == short.height  # and of a short plate (one swap is within max_ocr_short)
