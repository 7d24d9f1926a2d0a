"""What the batch job costs on top of its matcher: ``run_job`` (alert-set validation, probe checks, chunks,
checkpoints, unified hits, atomic outputs, audit) against the same ``PlateIndex.match_with_rejects`` call
on the same reads, in the same run. Synthetic plates from ``cgi_match.synth.plates``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import cgi_match
from cgi_match.batch import run_job
from cgi_match.jobs import Accountability
from conftest import gate, scaled

synth = pytest.importorskip("cgi_match.synth.plates", reason="the plate generator is not in this build")
pytestmark = pytest.mark.skipif(not hasattr(cgi_match, "PlateIndex"), reason="no plate matcher in this build")

N_ALERTS = scaled(200_000, 2_000)
N_READS = scaled(1_000_000, 10_000)
WHO = Accountability(operator="bench", justification="benchmark on synthetic data", case_ref="BENCH")
AT = "2026-01-01T00:00:00+00:00"


@pytest.fixture(scope="module")
def job_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workflow-bench")
    data = synth.generate(N_ALERTS, N_READS, seed=3)
    (root / "alerts").mkdir()
    n = data.alerts.height
    pl.DataFrame(
        {
            "alert_id": data.alerts["alert_id"],
            "source": ["SIS"] * n,
            "category": ["stolen-vehicle"] * n,
            "issuing_country": ["BE"] * n,
            "valid_from": data.alerts["valid_from"],
            "valid_to": data.alerts["valid_to"],
            "action": ["seize"] * n,
            "case_ref": ["C"] * n,
        }
    ).write_parquet(root / "alerts" / "alerts.parquet")
    data.alerts.select("alert_id", "plate", "country").write_parquet(root / "alerts" / "plates.parquet")
    data.reads.with_columns(pl.col("read_id").cast(pl.String)).write_parquet(root / "reads.parquet")
    (root / "job.toml").write_text(
        f'[job]\nalerts = "alerts"\nout = "out"\nat = "{AT}"\nchunk_size = 250000\n[plates]\nreads = "reads.parquet"\n'
    )
    return root


def test_bench_job_end_to_end(benchmark: Any, job_folder: Path, bench_scale: str) -> None:
    benchmark.extra_info.update(scale=bench_scale, alerts=N_ALERTS, reads=N_READS)
    # Gate: the job's throughput over the bare matcher's on the same reads (below 1: the job's overhead).
    gate(benchmark, "workflow.job", "subject", items=N_READS)

    def run() -> int:
        return run_job(
            job_folder / "job.toml", WHO, audit_log=job_folder / "audit.jsonl", show_progress=False
        ).hits.height

    assert benchmark.pedantic(run, rounds=3, iterations=1) > 0


def test_bench_matcher_alone_peer(benchmark: Any, job_folder: Path, bench_scale: str) -> None:
    benchmark.extra_info.update(scale=bench_scale, alerts=N_ALERTS, reads=N_READS)
    gate(benchmark, "workflow.job", "peer", items=N_READS)
    alerts = pl.read_parquet(job_folder / "alerts" / "alerts.parquet")
    plates = pl.read_parquet(job_folder / "alerts" / "plates.parquet").join(
        alerts.select("alert_id", "valid_from", "valid_to"), on="alert_id"
    )
    reads = pl.read_parquet(job_folder / "reads.parquet")

    def run() -> int:
        index = cgi_match.PlateIndex(plates)
        return index.match_with_rejects(reads, at=pl.Series([AT]).str.to_datetime()[0]).hits.height

    assert benchmark.pedantic(run, rounds=3, iterations=1) > 0
