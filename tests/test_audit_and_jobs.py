"""The audit log detects tampering; jobs record what they consulted and disclosed, also when they fail."""

from __future__ import annotations

import json
from pathlib import Path

import click
import polars as pl
import pytest
from click.testing import CliRunner

from cgi_match import audit
from cgi_match.cli import main
from cgi_match.cli.options import job_options
from cgi_match.jobs import Accountability, audited_job
from cgi_match.outputs import REJECTS_SCHEMA, make_rejects, sha256_file, write_parquet_atomic

WHO = Accountability(operator="u123", justification="SIS hit follow-up", case_ref="CASE-1")


def _log_with(tmp_path: Path, n: int) -> Path:
    log = tmp_path / "audit.jsonl"
    for i in range(n):
        audit.append(
            log,
            {
                "operator": "u",
                "justification": "j",
                "case_ref": "c",
                "job_id": f"j{i}",
                "command": "plates",
                "outcome": "ok",
            },
        )
    return log


def test_intact_chain_verifies(tmp_path: Path) -> None:
    log = _log_with(tmp_path, 4)
    report = audit.verify(log)
    assert report.ok
    assert report.records == 4


@pytest.mark.parametrize("tamper", ["alter", "remove", "insert", "reorder", "garbage"])
def test_tampering_is_detected_at_the_right_line(tmp_path: Path, tamper: str) -> None:
    log = _log_with(tmp_path, 5)
    lines = log.read_text().splitlines()
    if tamper == "alter":
        rec = json.loads(lines[2])
        rec["operator"] = "someone-else"
        lines[2] = json.dumps(rec)
    elif tamper == "remove":
        del lines[2]
    elif tamper == "insert":
        forged = json.loads(lines[1])
        forged["job_id"] = "forged"
        forged["hash"] = audit.record_hash(forged)
        lines.insert(2, json.dumps(forged))
    elif tamper == "reorder":
        lines[2], lines[3] = lines[3], lines[2]
    else:
        lines[2] = "not json"
    log.write_text("\n".join(lines) + "\n")
    report = audit.verify(log)
    assert not report.ok
    assert report.first_bad_line == 3
    result = CliRunner().invoke(main, ["audit", "verify", str(log)])
    assert result.exit_code == 1
    assert "line 3" in result.output


def test_record_requires_accountability(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="operator"):
        audit.append(
            tmp_path / "a.jsonl",
            {"justification": "j", "case_ref": "c", "job_id": "x", "command": "c", "outcome": "ok"},
        )
    with pytest.raises(ValueError, match="justification"):
        Accountability(operator="u", justification=" ", case_ref="c")


def test_job_records_inputs_outputs_and_failures(tmp_path: Path) -> None:
    src = tmp_path / "reads.csv"
    src.write_text("read_id,plate\n1,AB123\n")
    log = tmp_path / "audit.jsonl"
    with audited_job("plates", WHO, audit_log=log, out_dir=tmp_path / "out", parameters={"max_ocr": 2}) as job:
        job.add_input(src, role="reads", rows=1)
        job.write_parquet(pl.DataFrame({"a": [1]}), "hits.parquet")
        job.write_summary({"reads_in": 1})
    with pytest.raises(RuntimeError), audited_job("plates", WHO, audit_log=log, out_dir=None, parameters={}):
        raise RuntimeError("boom")
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    assert recs[0]["outcome"] == "ok"
    assert recs[0]["consulted"][0]["sha256"] == sha256_file(src)
    disclosed = {Path(d["path"]).name: d["sha256"] for d in recs[0]["disclosed"]}
    assert disclosed["hits.parquet"] == sha256_file(tmp_path / "out" / "hits.parquet")
    assert "summary.json" in disclosed
    assert recs[1]["outcome"] == "failed: RuntimeError"
    # Nothing of the data itself: the plate text never reaches the log.
    assert "AB123" not in log.read_text()
    assert audit.verify(log).ok


def test_job_options_require_who_and_why(tmp_path: Path) -> None:
    @click.command()
    @job_options
    def job(who: Accountability, audit_log: Path | None) -> None:
        click.echo(f"{who.operator}|{who.case_ref}|{audit_log}")

    runner = CliRunner()
    assert runner.invoke(job, []).exit_code == 2
    ok = runner.invoke(
        job, ["--operator", "u1", "--justification", "j", "--case-ref", "C-9", "--audit-log", str(tmp_path / "l.jsonl")]
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("u1|C-9|")
    env = {"CGI_MATCH_OPERATOR": "u2", "CGI_MATCH_JUSTIFICATION": "j", "CGI_MATCH_CASE_REF": "C-2"}
    assert runner.invoke(job, [], env=env).output.startswith("u2|C-2|")


def test_atomic_parquet_and_rejects_schema(tmp_path: Path) -> None:
    path = tmp_path / "x" / "rejects.parquet"
    df = make_rejects("reads.csv", [3, 7], ["plate is empty", "plate is empty"], field="plate")
    digest = write_parquet_atomic(df, path)
    assert digest == sha256_file(path)
    assert dict(pl.read_parquet(path).schema) == REJECTS_SCHEMA
    assert not list(path.parent.glob(".*.tmp"))
