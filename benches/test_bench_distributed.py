"""The distributed path's overhead: 1 and 2 local Dask workers vs the plain single-process run, same data.

In ``make bench``: 2M plate reads in 20 Parquet partitions against 200k alerts; tiny inside ``make test``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import cgi_match
from conftest import scaled

pytest.importorskip("distributed")
if not hasattr(cgi_match, "PlateIndex"):
    pytest.skip("plate matcher not in this build", allow_module_level=True)

from distributed import Client, LocalCluster

from cgi_match.distributed import match_partitions, match_partitions_in_process

N_ALERTS = scaled(200_000, 2_000)
N_PARTS = scaled(20, 4)
READS_PER_PART = scaled(100_000, 500)
AT = datetime(2026, 6, 1, tzinfo=UTC)
LETTERS = np.array(list("ABCDEFGHJKLMNPRSTVWXYZ"))
DIGITS = np.array(list("0123456789"))


def _plates(rng: np.random.Generator, n: int) -> pl.Series:
    a = LETTERS[rng.integers(0, len(LETTERS), size=(n, 3))]
    d = DIGITS[rng.integers(0, len(DIGITS), size=(n, 4))]
    s = np.char.add(np.char.add(np.char.add(a[:, 0], a[:, 1]), a[:, 2]), "-")
    for k in range(4):
        s = np.char.add(s, d[:, k])
    return pl.Series(s.astype(str))


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    root = tmp_path_factory.mktemp("bench-dist")
    alerts = pl.DataFrame({"alert_id": np.arange(N_ALERTS).astype(str), "plate": _plates(rng, N_ALERTS)})
    files = []
    for p in range(N_PARTS):
        plates = _plates(rng, READS_PER_PART)
        # 1% of reads are copies of alert plates, so hits are written too.
        copy = rng.random(READS_PER_PART) < 0.01
        plates = pl.Series(
            np.where(copy, alerts["plate"].to_numpy()[rng.integers(0, N_ALERTS, READS_PER_PART)], plates)
        )
        f = root / f"reads-{p:03d}.parquet"
        pl.DataFrame({"read_id": [f"{p}-{i}" for i in range(READS_PER_PART)], "plate": plates}).write_parquet(f)
        files.append(f)
    return {"root": root, "files": files, "index": cgi_match.PlateIndex(alerts)}


def _info(benchmark: Any, how: str) -> None:
    benchmark.extra_info.update(reads=N_PARTS * READS_PER_PART, alerts=N_ALERTS, partitions=N_PARTS, how=how)
    # Not a gated ratio (the Dask runs' time is mostly process start-up and scheduling on this 2-core box, not
    # cgi-match's work); BENCHMARKS.md shows each run's speed relative to the in-process run of the same run.
    if how != "in-process, no Dask":
        benchmark.extra_info["vs"] = "test_single_process"


def test_single_process(benchmark: Any, workload: dict[str, Any]) -> None:
    _info(benchmark, "in-process, no Dask")
    out = workload["root"] / "serial"
    res = benchmark.pedantic(
        match_partitions_in_process,
        args=("plates", workload["index"], workload["files"], out),
        kwargs={"at": AT},
        rounds=3,
        iterations=1,
    )
    assert res.counts["probes_in"] == N_PARTS * READS_PER_PART


@pytest.mark.parametrize("workers", [1, 2])
def test_local_cluster(benchmark: Any, workload: dict[str, Any], workers: int) -> None:
    _info(benchmark, f"LocalCluster, {workers} worker process(es)")
    # As cgi_match.distributed.cluster_client does: each worker gets its share of the cores for rayon.
    share = str(max(1, (os.cpu_count() or 1) // workers))
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env={"RAYON_NUM_THREADS": share},
    )
    client = Client(cluster)
    try:
        out: Path = workload["root"] / f"dask-{workers}"
        res = benchmark.pedantic(
            match_partitions,
            args=("plates", workload["index"], workload["files"], out),
            kwargs={"client": client, "at": AT},
            rounds=3,
            iterations=1,
        )
    finally:
        client.close()
        cluster.close()
    assert res.counts["probes_in"] == N_PARTS * READS_PER_PART
