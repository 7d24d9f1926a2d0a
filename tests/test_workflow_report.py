"""The report renders offline with the expected counts, escapes everything, and carries no biometric payload."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

import cgi_match.batch as batch
from cgi_match import audit
from cgi_match.jobs import Accountability
from cgi_match.report import render_report, write_report
from cgi_match.report.charts import bar_chart, det_curve, histogram
from workflow_data import ExactPlateSearch, write_alert_set, write_reads

WHO = Accountability(operator="u7", justification="report test", case_ref="CASE-R")
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def job_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(batch.MODALITY_SEARCH, "plates", ExactPlateSearch)
    ExactPlateSearch.fail_after = None
    planted = write_alert_set(tmp_path / "alerts", n_alerts=150)
    # A hostile alert id and case reference must come out escaped, never as markup.
    alerts = pl.read_csv(tmp_path / "alerts" / "alerts.csv", infer_schema=False)
    alerts = alerts.with_columns(
        pl.when(pl.col("alert_id") == "AL-00000").then(pl.lit(HOSTILE)).otherwise(pl.col("alert_id")).alias("alert_id")
    )
    alerts.write_csv(tmp_path / "alerts" / "alerts.csv")
    plates = pl.read_parquet(tmp_path / "alerts" / "plates.parquet")
    plates = plates.with_columns(
        pl.when(pl.col("alert_id") == "AL-00000").then(pl.lit(HOSTILE)).otherwise(pl.col("alert_id")).alias("alert_id")
    )
    plates.write_parquet(tmp_path / "alerts" / "plates.parquet")
    # Biometric identifiers in the alert set that the plate job must never copy into its outputs.
    pl.DataFrame(
        {"alert_id": ["AL-00003"], "finger": ["1"], "template": [b"FMR\x00 20\x00SECRET-MINUTIAE"]}
    ).write_parquet(tmp_path / "alerts" / "fingerprints.parquet")
    pl.DataFrame({"alert_id": ["AL-00003"] * 2, "locus": ["D18S51", "FGA"], "allele": ["31.7", "47.2"]}).write_csv(
        tmp_path / "alerts" / "dna.csv"
    )
    truth = write_reads(tmp_path / "reads.parquet", planted["plates"], [HOSTILE, *planted["ids"][1:]])
    truth.write_parquet(tmp_path / "truth.parquet")
    (tmp_path / "job.toml").write_text(
        '[job]\nalerts = "alerts"\nout = "out"\nchunk_size = 50\nat = "2026-06-01"\n'
        '[plates]\nreads = "reads.parquet"\ntruth = "truth.parquet"\n'
    )
    batch.run_job(tmp_path / "job.toml", WHO, audit_log=tmp_path / "audit.jsonl")
    return tmp_path / "out"


def test_report_has_the_expected_counts(job_folder: Path) -> None:
    html = render_report(job_folder)
    summary = json.loads((job_folder / "summary.json").read_text())
    c = summary["counts"]["plates"]
    row = "".join(f'<td class="n">{c[k]:,}</td>' for k in ("in", "matched", "unmatched", "rejected", "hits"))
    assert f"<td>plates</td>{row}<td>yes</td>" in html
    hits = pl.read_parquet(job_folder / "hits.parquet")
    assert f"Hits by urgency ({hits.height:,})" in html
    for cat, n in hits.group_by("category").len().iter_rows():
        assert f"<b>{cat} — {n:,} hit(s)</b>" in html
    assert f"<h2>Rejects ({summary['counts']['plates']['rejected'] + 12:,} rows)" in html
    for i in summary["inputs"]:
        assert i["sha256"] in html
    assert "recall" in html
    assert html.count("<svg") == 4  # countries, categories, scores, DET


def test_report_is_self_contained_and_escaped(job_folder: Path) -> None:
    html = render_report(job_folder)
    lowered = html.lower()
    for forbidden in ("http:", "https:", "//cdn", "<script", "<link", "src=", "url(", "@import", "@font-face"):
        assert forbidden not in lowered, forbidden
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    # Every tag in the document is one the report writes itself.
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "code", "table", "tr", "th", "td",
        "details", "summary", "span", "b", "div", "svg", "text", "rect", "line", "polyline", "pre",
    }  # fmt: skip


def test_no_biometric_payload_in_any_output(job_folder: Path) -> None:
    write_report(job_folder, WHO, audit_log=job_folder.parent / "audit.jsonl")
    for path in [*job_folder.iterdir(), job_folder.parent / "audit.jsonl"]:
        data = path.read_bytes()
        assert b"SECRET-MINUTIAE" not in data, path
        assert b"31.7" not in data, path
        assert b"47.2" not in data, path


def test_report_is_audited_and_tampering_is_detected(job_folder: Path) -> None:
    log = job_folder.parent / "audit.jsonl"
    write_report(job_folder, WHO, audit_log=log)
    lines = log.read_text().splitlines()
    assert [json.loads(x)["command"] for x in lines] == ["run", "report"]
    report_rec = json.loads(lines[1])
    assert report_rec["disclosed"][0]["path"].endswith("report.html")
    assert {Path(i["path"]).name for i in report_rec["consulted"]} == {
        "summary.json",
        "hits.parquet",
        "rejects.parquet",
    }
    for i, line in enumerate(lines):
        for field in ("operator", "case_ref", "disclosed", "outcome"):
            rec = json.loads(line)
            rec[field] = "changed"
            tampered = lines.copy()
            tampered[i] = json.dumps(rec)
            log.write_text("\n".join(tampered) + "\n")
            report = audit.verify(log)
            assert not report.ok
            assert report.first_bad_line == i + 1


def test_report_of_a_folder_without_outputs_is_a_clear_error(tmp_path: Path) -> None:
    from cgi_match.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"summary\.json is missing"):
        render_report(tmp_path)


def test_charts_escape_labels_and_handle_empty_data() -> None:
    assert "&lt;b&gt;" in bar_chart([("<b>", 3)], "t")
    assert "nothing to show" in bar_chart([], "t")
    assert "no scores" in histogram({"a": []}, "t")
    assert "no ground truth" in det_curve({}, "t")
    svg = det_curve({"plates": [(1e-6, 0.01), (1e-3, 0.001)]}, "DET")
    assert svg.count("<polyline") == 1
