"""Batch jobs: counts add up, one hit schema sorted by urgency, stable hit ids, and a killed job rerun
resumes to byte-identical outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import cgi_match
import cgi_match.batch as batch
from cgi_match import audit
from cgi_match.alerts import ACTION_URGENCY, CATEGORY_URGENCY
from cgi_match.cli import main
from cgi_match.errors import InvalidInputError
from cgi_match.hits import HITS_SCHEMA
from cgi_match.jobs import Accountability
from workflow_data import ExactPlateSearch, write_alert_set, write_reads

WHO = Accountability(operator="u42", justification="stolen-vehicle sweep", case_ref="CASE-2026-17")
ACCOUNT = ["--operator", "u42", "--justification", "sweep", "--case-ref", "CASE-9"]


def make_job(root: Path, *, chunk_size: int = 40, extra: str = "") -> Path:
    planted = write_alert_set(root / "alerts", n_alerts=200)
    truth = write_reads(root / "reads.parquet", planted["plates"], planted["ids"])
    truth.write_parquet(root / "truth.parquet")
    job = root / "job.toml"
    job.write_text(
        f"""
[job]
alerts = "alerts"
out = "out"
chunk_size = {chunk_size}
at = "2026-06-01T00:00:00Z"
{extra}
[plates]
reads = "reads.parquet"
truth = "truth.parquet"
""",
        encoding="utf-8",
    )
    return job


@pytest.fixture
def stand_in_plates(monkeypatch: pytest.MonkeyPatch) -> type[ExactPlateSearch]:
    monkeypatch.setitem(batch.MODALITY_SEARCH, "plates", ExactPlateSearch)
    ExactPlateSearch.calls = 0
    ExactPlateSearch.fail_after = None
    return ExactPlateSearch


def test_counts_add_up_and_hits_have_the_one_schema(tmp_path: Path, stand_in_plates: type) -> None:
    job = make_job(tmp_path)
    result = batch.run_job(job, WHO, audit_log=tmp_path / "audit.jsonl")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    c = summary["counts"]["plates"]
    assert c["in"] == c["matched"] + c["unmatched"] + c["rejected"]
    reads = pl.read_parquet(tmp_path / "reads.parquet")
    assert c["in"] == reads.height
    rejects = pl.read_parquet(tmp_path / "out" / "rejects.parquet")
    read_rejects = rejects.filter(pl.col("input") == "reads.parquet")
    assert read_rejects.height == c["rejected"] == 5  # three unusable plates, two rows of a repeated id
    assert set(read_rejects["reason"]) >= {"read_id occurs more than once in the reads", "plate is empty"}
    hits = pl.read_parquet(tmp_path / "out" / "hits.parquet")
    assert hits.schema == pl.Schema(HITS_SCHEMA)
    assert hits.height == c["hits"] == result.hits.height
    assert hits["job_id"].unique().to_list() == [result.job_id]
    assert hits["hit_id"].n_unique() == hits.height
    ev = summary["evaluation"]["plates"]
    assert ev["precision"] == 1.0
    truth = pl.read_parquet(tmp_path / "truth.parquet")
    # Every true pair is found except those whose read was rejected (its id was repeated).
    assert ev["true_hits"] == truth.filter(~pl.col("probe_id").is_in(read_rejects["record_id"].implode())).height


def test_hits_are_sorted_by_urgency_then_score(tmp_path: Path, stand_in_plates: type) -> None:
    batch.run_job(make_job(tmp_path), WHO, audit_log=tmp_path / "audit.jsonl")
    hits = pl.read_parquet(tmp_path / "out" / "hits.parquet")
    keys = list(
        zip(
            hits["category"].replace_strict(CATEGORY_URGENCY).to_list(),
            hits["action"].replace_strict(ACTION_URGENCY).to_list(),
            (-hits["score"]).to_list(),
            strict=True,
        )
    )
    assert keys == sorted(keys)
    assert hits["category"][0] == "terrorism"


def test_hit_ids_do_not_depend_on_chunking(tmp_path: Path, stand_in_plates: type) -> None:
    job = make_job(tmp_path, chunk_size=7)
    a = batch.run_job(job, WHO, audit_log=tmp_path / "audit.jsonl", out=tmp_path / "a").hits
    job.write_text(job.read_text().replace("chunk_size = 7", "chunk_size = 1000"))
    b = batch.run_job(job, WHO, audit_log=tmp_path / "audit.jsonl", out=tmp_path / "b").hits
    assert a.drop("job_id").equals(b.drop("job_id"))


def test_killed_run_resumes_to_byte_identical_outputs(tmp_path: Path, stand_in_plates: type[ExactPlateSearch]) -> None:
    job = make_job(tmp_path, chunk_size=25)
    log = tmp_path / "audit.jsonl"
    batch.run_job(job, WHO, audit_log=log, out=tmp_path / "whole")
    stand_in_plates.calls = 0
    stand_in_plates.fail_after = 5
    with pytest.raises(KeyboardInterrupt):
        batch.run_job(job, WHO, audit_log=log, out=tmp_path / "killed")
    done = sorted((tmp_path / "killed" / ".checkpoint").glob("plates-??????.parquet"))
    assert len(done) == 5
    assert not (tmp_path / "killed" / "hits.parquet").exists()
    stand_in_plates.calls = 0
    stand_in_plates.fail_after = None
    result = batch.run_job(job, WHO, audit_log=log, out=tmp_path / "killed")
    assert result.resumed
    n_chunks = -(-result.counts["plates"]["in"] // 25)
    assert stand_in_plates.calls < n_chunks  # finished chunks were not matched again
    for name in ("hits.parquet", "rejects.parquet"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "killed" / name).read_bytes()
    assert not (tmp_path / "killed" / ".checkpoint").exists()
    outcomes = [json.loads(line)["outcome"] for line in log.read_text().splitlines()]
    assert outcomes == ["ok", "failed: KeyboardInterrupt", "ok"]
    assert audit.verify(log).ok


def test_a_checkpoint_of_another_job_is_discarded(tmp_path: Path, stand_in_plates: type[ExactPlateSearch]) -> None:
    job = make_job(tmp_path, chunk_size=25)
    stand_in_plates.fail_after = 3
    with pytest.raises(KeyboardInterrupt):
        batch.run_job(job, WHO, audit_log=tmp_path / "log")
    stand_in_plates.fail_after = None
    job.write_text(job.read_text().replace("[plates]", "[plates]\nmax_ocr = 1"))
    result = batch.run_job(job, WHO, audit_log=tmp_path / "log")
    assert not result.resumed


def test_dry_run_validates_and_writes_nothing(tmp_path: Path, stand_in_plates: type[ExactPlateSearch]) -> None:
    job = make_job(tmp_path)
    log = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(main, ["run", str(job), "--dry-run", "--audit-log", str(log), *ACCOUNT])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert stand_in_plates.calls == 0
    assert not (tmp_path / "out").exists()
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["parameters"]["dry_run"] is True
    assert record["disclosed"] == []
    assert {i["role"] for i in record["consulted"]} == {"alert_set", "plates:probes", "plates:truth"}


def test_cli_run_then_report_then_verify(tmp_path: Path, stand_in_plates: type) -> None:
    job = make_job(tmp_path)
    log = tmp_path / "audit.jsonl"
    runner = CliRunner()
    r = runner.invoke(main, ["run", str(job), "--no-progress", "--audit-log", str(log), *ACCOUNT])
    assert r.exit_code == 0, r.output
    assert "plates" in r.output
    r = runner.invoke(main, ["report", str(tmp_path / "out"), "--audit-log", str(log), *ACCOUNT])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "report.html").is_file()
    r = runner.invoke(main, ["audit", "verify", str(log)])
    assert r.exit_code == 0
    assert "2 records" in r.output
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [x["command"] for x in records] == ["run", "report"]
    assert records[0]["job_id"] == records[1]["job_id"]
    disclosed = {Path(d["path"]).name for d in records[0]["disclosed"]}
    assert disclosed == {"hits.parquet", "rejects.parquet", "summary.json"}
    # The log holds no plate text: neither an alert plate nor a read.
    text = log.read_text()
    reads = pl.read_parquet(tmp_path / "reads.parquet")["plate"].to_list()
    assert not [p for p in reads if len(p) > 4 and p in text]


def test_run_requires_accountability(tmp_path: Path, stand_in_plates: type) -> None:
    job = make_job(tmp_path)
    env = {"CGI_MATCH_OPERATOR": "", "CGI_MATCH_JUSTIFICATION": "", "CGI_MATCH_CASE_REF": ""}
    r = CliRunner().invoke(main, ["run", str(job), "--audit-log", str(tmp_path / "l")], env=env)
    assert r.exit_code != 0
    assert "operator" in r.output.lower()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[job]\nalerts="a"\nout="o"\n[plates]\nreads="r.csv"\nmax_typos=1\n', "unknown option"),
        ('[job]\nalerts="a"\nout="o"\n[faces]\nprobes="x"\n', "unknown section"),
        ('[job]\nalerts="a"\nout="o"\n', "names no modality"),
        ('[job]\nout="o"\n[plates]\nreads="r"\n', "'alerts'"),
        ('[job]\nalerts="a"\nout="o"\nchunk_size=0\n[plates]\nreads="r"\n', "chunk_size"),
        ('[job]\nalerts="a"\nout="o"\nat="soon"\n[plates]\nreads="r"\n', "ISO 8601"),
        ("[job\n", "not valid TOML"),
    ],
)
def test_bad_job_files_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "job.toml"
    p.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        batch.load_job(p)


def test_a_missing_matcher_is_an_error_not_a_silent_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Absent(ExactPlateSearch):
        @staticmethod
        def available() -> bool:
            return False

    monkeypatch.setitem(batch.MODALITY_SEARCH, "plates", Absent)
    with pytest.raises(InvalidInputError, match="no matcher for plates"):
        batch.run_job(make_job(tmp_path), WHO, audit_log=tmp_path / "log")


@pytest.mark.skipif(not hasattr(cgi_match, "PlateIndex"), reason="the plate matcher (issue 3) is not in this build")
def test_sigkill_then_rerun_with_the_real_plate_matcher(tmp_path: Path) -> None:
    job = make_job(tmp_path, chunk_size=10)
    cmd = [sys.executable, "-m", "cgi_match", "run", str(job), "--no-progress", "--audit-log", str(tmp_path / "log")]
    subprocess.run([*cmd, *ACCOUNT, "--out", str(tmp_path / "whole")], check=True, capture_output=True)
    proc = subprocess.Popen([*cmd, *ACCOUNT, "--out", str(tmp_path / "killed")], stderr=subprocess.DEVNULL)
    ckpt = tmp_path / "killed" / ".checkpoint"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and len(list(ckpt.glob("plates-??????.parquet"))) < 2:
        time.sleep(0.005)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    subprocess.run([*cmd, *ACCOUNT, "--out", str(tmp_path / "killed")], check=True, capture_output=True)
    for name in ("hits.parquet", "rejects.parquet"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "killed" / name).read_bytes()
