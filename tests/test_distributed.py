"""The distributed runner on a 2-worker LocalCluster: same hits as one machine, counts that add up, the index
shipped once per worker, and a worker killed mid-job neither losing nor duplicating hits."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import cgi_match

pytest.importorskip("distributed")
if not hasattr(cgi_match, "PlateIndex"):
    pytest.skip("plate matcher not in this build", allow_module_level=True)

from distributed import Client, LocalCluster

from cgi_match.distributed import match_partitions

AT = datetime(2026, 6, 1, tzinfo=UTC)
LETTERS = np.array(list("ABCDEFGHJKLMNPRSTVWXYZ"))
DIGITS = np.array(list("0123456789"))
LOOKALIKE = {"0": "O", "O": "0", "8": "B", "B": "8", "5": "S", "S": "5", "1": "I", "2": "Z"}


def _plates(rng: np.random.Generator, n: int) -> list[str]:
    a = LETTERS[rng.integers(0, len(LETTERS), size=(n, 3))]
    d = DIGITS[rng.integers(0, len(DIGITS), size=(n, 4))]
    return ["".join(x) + "-" + "".join(y) for x, y in zip(a, d, strict=True)]


def _variant(p: str, rng: np.random.Generator) -> str:
    chars = list(p)
    idx = [i for i, c in enumerate(chars) if c in LOOKALIKE]
    if idx:
        i = idx[int(rng.integers(0, len(idx)))]
        chars[i] = LOOKALIKE[chars[i]]
    return "".join(chars).lower()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("dist")
    alert_plates = _plates(rng, 2_000)
    alerts = pl.DataFrame({"alert_id": [f"A{i}" for i in range(2_000)], "plate": alert_plates})
    files = []
    all_reads = []
    for part in range(12):
        n = 1_500
        plates = _plates(rng, n)
        pick = rng.integers(0, 2_000, size=n)
        kind = rng.random(n)
        reads = [
            alert_plates[j] if k < 0.05 else _variant(alert_plates[j], rng) if k < 0.1 else "--" if k < 0.11 else p
            for p, j, k in zip(plates, pick, kind, strict=True)
        ]
        df = pl.DataFrame({"read_id": [f"R{part}-{i}" for i in range(n)], "plate": reads})
        path = root / f"reads-{part:02d}.parquet"
        df.write_parquet(path)
        files.append(path)
        all_reads.append(df)
    index = cgi_match.PlateIndex(alerts)
    return {"root": root, "files": files, "reads": pl.concat(all_reads), "index": index}


@pytest.fixture(scope="module")
def client() -> Any:
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _key(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(
        pl.col("probe_id").cast(pl.String),
        pl.col("alert_id").cast(pl.String),
        pl.col("match_kind").cast(pl.String),
        pl.col("score").cast(pl.Float32),
    ).sort("probe_id", "alert_id")


def _single_machine(data: dict[str, Any]) -> pl.DataFrame:
    hits = data["index"].match(data["reads"], at=AT)
    return _key(hits.rename({"read_id": "probe_id"}))


def test_same_hits_and_counts_as_one_machine(data: dict[str, Any], client: Client, tmp_path: Path) -> None:
    res = match_partitions("plates", data["index"], data["files"], tmp_path / "out", client=client, at=AT)
    assert len(list((tmp_path / "out" / "hits").glob("*.parquet"))) == len(data["files"])
    got = _key(res.hits())
    assert got.height > 0
    assert got.equals(_single_machine(data))
    c = res.counts
    assert c["probes_in"] == data["reads"].height
    assert c["matched"] + c["unmatched"] + c["rejected"] == c["probes_in"]
    assert c["rejected"] == res.rejects().height > 0
    assert (tmp_path / "out" / "summary.json").is_file()


def test_index_by_path_is_loaded_once_per_worker(data: dict[str, Any], client: Client, tmp_path: Path) -> None:
    path = tmp_path / "plates.idx"
    data["index"].save(path)
    res = match_partitions("plates", path, data["files"], tmp_path / "out", client=client, at=AT)
    assert _key(res.hits()).equals(_single_machine(data))

    def loaded() -> int:
        from cgi_match import distributed

        return len(distributed._WORKER_INDEXES)

    assert set(client.run(loaded).values()) == {1}


def test_killed_worker_loses_and_duplicates_nothing(data: dict[str, Any], client: Client, tmp_path: Path) -> None:
    many = data["files"] * 5  # 60 partitions, so the job is still running when a worker dies
    clean = match_partitions("plates", data["index"], many, tmp_path / "clean", client=client, at=AT)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    faulty = Client(cluster)
    try:
        pids = faulty.run(os.getpid)
        result: dict[str, Any] = {}
        out = tmp_path / "faulty"

        def job() -> None:
            result["res"] = match_partitions("plates", data["index"], many, out, client=faulty, at=AT)

        t = threading.Thread(target=job)
        t.start()
        deadline = time.monotonic() + 60
        while not list((out / "hits").glob("*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.005)
        done_at_kill = len(list((out / "hits").glob("*.parquet")))
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        t.join(timeout=120)
        assert not t.is_alive()
        assert done_at_kill < len(many), "the job ended before the worker was killed"
        res = result["res"]
    finally:
        faulty.close()
        cluster.close()
    assert res.counts == clean.counts
    assert res.hits().equals(clean.hits())
    assert res.rejects().sort("input", "row").equals(clean.rejects().sort("input", "row"))


def test_unknown_modality_is_invalid_input(data: dict[str, Any], client: Client, tmp_path: Path) -> None:
    with pytest.raises(cgi_match.InvalidInputError):
        match_partitions("iris", data["index"], data["files"], tmp_path, client=client)


def test_in_process_baseline_writes_the_same_outputs(data: dict[str, Any], client: Client, tmp_path: Path) -> None:
    from cgi_match.distributed import match_partitions_in_process

    a = match_partitions("plates", data["index"], data["files"], tmp_path / "a", client=client, at=AT)
    b = match_partitions_in_process("plates", data["index"], data["files"], tmp_path / "b", at=AT)
    assert a.counts == b.counts
    assert a.hits().equals(b.hits())


def _plate_job(tmp_path: Path, out: str) -> Path:
    synth = pytest.importorskip("cgi_match.synth.plates")
    data = synth.generate(3_000, 4_000, seed=11)
    alerts_dir = tmp_path / "a"
    if not alerts_dir.exists():
        alerts_dir.mkdir()
        n = data.alerts.height
        pl.DataFrame(
            {
                "alert_id": data.alerts["alert_id"],
                "source": ["SIS"] * n,
                "category": ["stolen-vehicle"] * n,
                "issuing_country": ["BE"] * n,
                "valid_from": [None] * n,
                "valid_to": [None] * n,
                "action": ["seize"] * n,
                "case_ref": ["C"] * n,
            },
            schema_overrides={"valid_from": pl.String, "valid_to": pl.String},
        ).write_parquet(alerts_dir / "alerts.parquet")
        data.alerts.select("alert_id", "plate", "country").write_parquet(alerts_dir / "plates.parquet")
        data.reads.with_columns(pl.col("read_id").cast(pl.String)).write_parquet(tmp_path / "reads.parquet")
    job = tmp_path / f"{out}.toml"
    job.write_text(
        f'[job]\nalerts = "a"\nout = "{out}"\nat = "2026-01-01T00:00:00+00:00"\nchunk_size = 500\n'
        '[plates]\nreads = "reads.parquet"\nmax_edits = 1\n'
    )
    return job


def test_batch_job_on_a_cluster_writes_what_a_local_run_writes(client: Client, tmp_path: Path) -> None:
    from cgi_match import audit
    from cgi_match.batch import run_job
    from cgi_match.jobs import Accountability

    who = Accountability(operator="u1", justification="cluster test", case_ref="C-7")
    log = tmp_path / "audit.jsonl"
    job = _plate_job(tmp_path, "job")
    local = run_job(job, who, audit_log=log, show_progress=False, out=tmp_path / "local")
    remote = run_job(
        job, who, audit_log=log, show_progress=False, out=tmp_path / "remote", scheduler=client.scheduler.address
    )
    assert remote.job_id == local.job_id
    assert remote.counts == local.counts
    assert (tmp_path / "remote" / "hits.parquet").read_bytes() == (tmp_path / "local" / "hits.parquet").read_bytes()
    assert audit.verify(log).ok
    assert "cluster" in (log.read_text().splitlines()[-1])


def test_interrupted_local_job_resumes_on_a_cluster(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cgi_match import batch
    from cgi_match.batch import run_job
    from cgi_match.jobs import Accountability

    who = Accountability(operator="u1", justification="cluster test", case_ref="C-8")
    job = _plate_job(tmp_path, "job")
    clean = run_job(job, who, audit_log=tmp_path / "log", show_progress=False, out=tmp_path / "clean")
    original = batch.InProcessChunkRunner.run

    def dies_after_three(self: Any, search: Any, index: Any, chunks: Any, *args: Any) -> None:
        def first_three() -> Any:
            for n, item in enumerate(chunks):
                if n == 3:
                    raise RuntimeError("killed")
                yield item

        original(self, search, index, first_three(), *args)

    monkeypatch.setattr(batch.InProcessChunkRunner, "run", dies_after_three)
    with pytest.raises(RuntimeError, match="killed"):
        run_job(job, who, audit_log=tmp_path / "log", show_progress=False, out=tmp_path / "resumed")
    monkeypatch.setattr(batch.InProcessChunkRunner, "run", original)
    resumed = run_job(
        job,
        who,
        audit_log=tmp_path / "log",
        show_progress=False,
        out=tmp_path / "resumed",
        scheduler=client.scheduler.address,
    )
    assert resumed.resumed
    assert (tmp_path / "resumed" / "hits.parquet").read_bytes() == (tmp_path / "clean" / "hits.parquet").read_bytes()
    assert resumed.counts == clean.counts
