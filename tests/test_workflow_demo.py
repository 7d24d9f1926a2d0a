"""``cgi-match demo`` runs the whole workflow on synthetic data with whatever matchers this build has."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cgi_match import audit
from cgi_match.batch import MODALITY_SEARCH


def test_demo_runs_the_workflow_and_accounts_for_everything(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "cgi_match", "--log-level", "warning", "demo", "--scale", "0.01", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    text = result.stdout
    assert "time total" in text
    ran = [m for m in MODALITY_SEARCH if f"{m:<13} not run" not in text]
    for m in MODALITY_SEARCH:
        if m not in ran:
            assert "is not in this build" in text
    if not ran:
        return
    summary = json.loads((out / "out" / "summary.json").read_text())
    assert set(summary["counts"]) == set(ran)
    for m, c in summary["counts"].items():
        assert c["in"] == c["matched"] + c["unmatched"] + c["rejected"], m
        assert f"{c['in']:,}" in text
        assert "recall" in text
        assert summary["evaluation"][m]["truth_pairs"] > 0
    html = (out / "out" / "report.html").read_text()
    assert "http:" not in html
    assert "https:" not in html
    # The demo audits itself into its own folder, and the chain holds.
    report = audit.verify(out / "audit.jsonl")
    assert report.ok
    assert report.records == 2
