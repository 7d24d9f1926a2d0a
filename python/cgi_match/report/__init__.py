"""The job report: one self-contained ``report.html`` from a job folder (``hits.parquet``,
``rejects.parquet``, ``summary.json``).

Self-contained means it works on an air-gapped network: inline CSS and hand-written SVG, no script, no
font, no image, no link to anything outside the file. Every value from the data passes through
``html.escape``. No biometric payload can appear: the hit table carries no template, minutia or allele (the
DNA and fingerprint evidence is counts and locus names), and the report shows only hit-table columns,
reject reasons and ``summary.json``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cgi_match._core import __version__
from cgi_match.alerts import CATEGORIES
from cgi_match.errors import InvalidInputError, StorageError
from cgi_match.jobs import Accountability, audited_job
from cgi_match.report.charts import bar_chart, det_curve, histogram

if TYPE_CHECKING:
    from cgi_match.batch import JobResult

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1b1b;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;
vertical-align:top}th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#0a6b2b}.bad{color:#b00020;font-weight:bold}.muted{color:#666}code,pre{font:12px/1.3 monospace}
pre{background:#f7f7f7;padding:8px;overflow:auto}.charts{display:flex;flex-wrap:wrap;gap:18px}
svg.chart{font:11px sans-serif;background:#fff;border:1px solid #e4e4e4}svg .ct{font-weight:bold;font-size:12px}
svg .axis{stroke:#444}svg .frame{fill:none;stroke:#999}.details{font-size:12px}
.u0{border-left:6px solid #b00020}.u1{border-left:6px solid #e65100}.u2{border-left:6px solid #f9a825}
.u3{border-left:6px solid #1565c0}.u4{border-left:6px solid #6a1b9a}.u5{border-left:6px solid #2e7d32}
.u6{border-left:6px solid #757575}details{margin:6px 0;padding-left:6px}summary{cursor:pointer;padding:4px 0}
"""


def _read(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        hits = pl.read_parquet(folder / "hits.parquet")
        rejects = pl.read_parquet(folder / "rejects.parquet")
    except FileNotFoundError as exc:
        raise InvalidInputError(f"{folder}: not a finished job folder ({Path(exc.filename).name} is missing)") from exc
    except OSError as exc:
        raise StorageError(f"{folder}: {exc}") from exc
    return hits, rejects, summary


def _table(header: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            text = f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else ("" if v is None else str(v))
            cls = ' class="n"' if i in numeric else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _details(text: str | None) -> str:
    if not text:
        return ""
    try:
        obj = json.loads(text)
    except ValueError:
        return escape(text)
    if not isinstance(obj, dict):
        return escape(str(obj))
    return "; ".join(f"{escape(str(k))}: {escape(str(v))}" for k, v in obj.items() if v is not None and v != "")


def counts_table(counts: dict[str, dict[str, Any]]) -> str:
    """Per modality: in, matched, unmatched, rejected, hits, and whether they add up."""
    rows = []
    for m, c in counts.items():
        adds = c.get("matched", 0) + c.get("unmatched", 0) + c.get("rejected", 0) == c.get("in", -1)
        rows.append(
            [
                m,
                c.get("in"),
                c.get("matched"),
                c.get("unmatched"),
                c.get("rejected"),
                c.get("hits"),
                "yes" if adds else "NO",
            ]
        )
    return _table(["modality", "in", "matched", "unmatched", "rejected", "hits", "adds up"], rows, {1, 2, 3, 4, 5})


def _hits_by_urgency(hits: pl.DataFrame, max_rows: int) -> str:
    if hits.is_empty():
        return "<p>No hits.</p>"
    out: list[str] = []
    cats = list(CATEGORIES) + sorted(set(hits["category"].drop_nulls().unique().to_list()) - set(CATEGORIES))
    header = ["hit", "modality", "probe", "alert", "kind", "score", "action", "country", "source", "evidence"]
    for rank, cat in enumerate(cats):
        group = hits.filter(pl.col("category") == cat)
        if group.is_empty():
            continue
        shown = group.head(max_rows)
        rows = []
        for r in shown.iter_rows(named=True):
            rows.append(
                "<tr>"
                f"<td><code>{escape(r['hit_id'][:12])}</code></td><td>{escape(r['modality'])}</td>"
                f"<td>{escape(str(r['probe_id']))}</td><td>{escape(str(r['alert_id']))}</td>"
                f'<td>{escape(str(r["match_kind"]))}</td><td class="n">{r["score"]:.3f}</td>'
                f"<td>{escape(str(r['action']))}</td><td>{escape(str(r['issuing_country']))}</td>"
                f'<td>{escape(str(r["source"]))}</td><td class="details">{_details(r["details"])}</td>'
                "</tr>"
            )
        more = (
            f'<p class="muted">{group.height - shown.height:,} more hits of this category in hits.parquet.</p>'
            if group.height > shown.height
            else ""
        )
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        # <details> folds a group without any script; the most urgent group present starts open.
        state = " open" if not out else ""
        out.append(
            f'<details class="u{min(rank, 6)}"{state}><summary><b>{escape(cat)} — {group.height:,} hit(s)</b>'
            f' <span class="muted">{escape(CATEGORIES.get(cat, "category outside the documented list"))}</span>'
            f"</summary><table><tr>{head}</tr>{''.join(rows)}</table>{more}</details>"
        )
    return "".join(out)


def _evaluation(evaluation: dict[str, dict[str, Any]]) -> str:
    if not evaluation:
        return '<p class="muted">No ground truth was given for this job.</p>'
    rows = []
    for m, e in evaluation.items():
        rec = e.get("recall")
        prec = e.get("precision")
        rows.append(
            [
                m,
                e.get("truth_pairs"),
                e.get("hits"),
                e.get("true_hits"),
                "" if rec is None else f"{rec:.4f}",
                "" if prec is None else f"{prec:.4f}",
            ]
        )
    table = _table(["modality", "true pairs", "hits", "true hits", "recall", "precision"], rows, {1, 2, 3, 4, 5})
    det = det_curve(
        {m: [(p["fmr"], p["fnmr"]) for p in e.get("det", [])] for m, e in evaluation.items() if e.get("det")},
        "DET curve against the ground truth",
    )
    return table + f'<div class="charts">{det}</div>'


def render_report(folder: str | os.PathLike[str], *, max_rows: int = 200) -> str:
    """The report of the job in ``folder`` as one HTML string (nothing is written)."""
    root = Path(folder)
    hits, rejects, summary = _read(root)
    counts: dict[str, dict[str, Any]] = summary.get("counts", {})
    by_country = hits.group_by("issuing_country").len().sort(["len", "issuing_country"], descending=[True, False])
    by_category = hits.group_by("category").len()
    cat_items = sorted(
        ((str(c), int(n)) for c, n in by_category.iter_rows()),
        key=lambda t: (list(CATEGORIES).index(t[0]) if t[0] in CATEGORIES else len(CATEGORIES), t[0]),
    )
    scores: dict[str, Any] = {
        m: hits.filter(pl.col("modality") == m)["score"].to_list()
        for m in hits["modality"].unique(maintain_order=True).to_list()
    }
    charts = "".join(
        [
            bar_chart(
                [(str(c), int(n)) for c, n in by_country.head(20).iter_rows()], "Hits per issuing country (top 20)"
            ),
            bar_chart(cat_items, "Hits per alert category"),
            histogram(scores, "Score distribution per modality"),
        ]
    )
    rej_groups = (
        rejects.group_by("input", "field", "reason")
        .len()
        .sort(["len", "input", "reason"], descending=[True, False, False])
        if rejects.height
        else rejects
    )
    rej_rows = [
        [r["input"], r["field"], r["reason"], int(r["len"])] for r in rej_groups.head(100).iter_rows(named=True)
    ]
    rej_html = _table(["input", "field", "reason", "rows"], rej_rows, {3}) if rej_rows else "<p>No rejected row.</p>"
    alert_set = summary.get("alert_set", {})
    alert_counts = alert_set.get("counts", {})
    alert_rows = [[t, c.get("in"), c.get("kept"), c.get("rejected")] for t, c in alert_counts.items()]
    inputs = [[i.get("role"), i.get("path"), i.get("rows"), i.get("sha256")] for i in summary.get("inputs", [])]
    versions = summary.get("versions", {"cgi_match": summary.get("cgi_match_version")})
    timing_rows = [[k, f"{v:.3f}"] for k, v in summary.get("timings_s", {}).items()]
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    title = f"cgi-match report — {summary.get('job_name', summary.get('command', 'job'))}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="muted">job <code>{escape(str(summary.get("job_id")))}</code> · validity judged at '
        f"{escape(str(summary.get('at')))} · report generated {escape(generated)} by cgi-match "
        f"{escape(__version__)}</p>"
        "<h2>Counts</h2><p>Probes per modality: every probe is matched, unmatched or rejected.</p>"
        f"{counts_table(counts)}"
        "<h3>Alert set</h3>"
        f'<p class="muted">version <code>{escape(str(alert_set.get("version")))}</code></p>'
        f"{_table(['table', 'in', 'kept', 'rejected'], alert_rows, {1, 2, 3})}"
        f'<h2>Charts</h2><div class="charts">{charts}</div>'
        f"<h2>Accuracy against ground truth</h2>{_evaluation(summary.get('evaluation', {}))}"
        f"<h2>Hits by urgency ({hits.height:,})</h2>"
        "<p>Most urgent category first; within it, by action urgency, then score. Click a category to open it.</p>"
        f"{_hits_by_urgency(hits, max_rows)}"
        f"<h2>Rejects ({rejects.height:,} rows)</h2>{rej_html}"
        f"<h2>Parameters</h2><pre>{escape(json.dumps(summary.get('parameters', {}), indent=2, sort_keys=True))}</pre>"
        "<h2>Inputs and checksums</h2>"
        f"{_table(['role', 'path', 'rows', 'sha256'], inputs, {2})}"
        f"<h2>Versions</h2>{_table(['component', 'version'], [[k, v] for k, v in versions.items()])}"
        f'<p class="muted">Python {escape(str(summary.get("python")))} on {escape(str(summary.get("platform")))}</p>'
        f"<h2>Timings (s)</h2>{_table(['stage', 'seconds'], timing_rows, {1})}"
        "</body></html>\n"
    )


def write_report(
    folder: str | os.PathLike[str],
    who: Accountability,
    *,
    audit_log: str | os.PathLike[str] | None = None,
    max_rows: int = 200,
) -> Path:
    """Writes ``folder/report.html`` atomically; audited (it discloses the hits it shows)."""
    root = Path(folder)
    with audited_job("report", who, audit_log=audit_log, out_dir=root, parameters={"max_rows": max_rows}) as job:
        html = render_report(root, max_rows=max_rows)
        for name in ("summary.json", "hits.parquet", "rejects.parquet"):
            job.add_input(root / name, role=name)
        summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
        job.job_id = str(summary.get("job_id", job.job_id))
        return job.write_text(html, "report.html")


def job_result_html(result: JobResult) -> str:
    """The notebook view of a job result: counts, evaluation and the first hits."""
    head = result.hits.head(10)
    rows = [
        [r["modality"], r["probe_id"], r["alert_id"], r["match_kind"], f"{r['score']:.3f}", r["category"], r["action"]]
        for r in head.iter_rows(named=True)
    ]
    state = "dry run" if result.dry_run else ("resumed" if result.resumed else "complete")
    return (
        f"<div><b>JobResult</b> <code>{escape(result.job_id)}</code> ({state}), {result.hits.height:,} hits, "
        f"{result.rejects.height:,} rejects{counts_table(result.counts) if not result.dry_run else ''}"
        f"{_evaluation(result.evaluation) if result.evaluation else ''}"
        f"{_table(['modality', 'probe', 'alert', 'kind', 'score', 'category', 'action'], rows)}</div>"
    )


__all__ = ["counts_table", "job_result_html", "render_report", "write_report"]
