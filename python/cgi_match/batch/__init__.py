"""Batch jobs (``cgi-match run JOB.toml``): every modality a job names, against an alert set, into a folder.

For each modality the runner checks the probes (rejects with reasons), builds the index from the alert set's
identifiers, then matches the probes chunk by chunk; each finished chunk is checkpointed, so a killed job
rerun resumes and writes the same bytes as an uninterrupted run. The outputs — ``hits.parquet`` (one schema
for all modalities, see :mod:`cgi_match.hits`), ``rejects.parquet`` and ``summary.json`` — are written
atomically at the end, and the job is audited (:func:`cgi_match.jobs.audited_job`).

The job id is a hash of the job's parameters, the alert-set version and the probe files' sha256: the same
job on the same data has the same id (and the same hit ids), which is what lets a rerun resume.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from cgi_match._core import __version__
from cgi_match.alerts import AlertSet, read_table
from cgi_match.batch.checkpoint import Checkpoint
from cgi_match.batch.dna_search import DnaSearch
from cgi_match.batch.fingerprint_search import FingerprintSearch
from cgi_match.batch.job_file import JobSpec, ModalityJob, load_job, parse_job
from cgi_match.batch.modality import Modality, Probes
from cgi_match.batch.plate_search import PlateSearch
from cgi_match.errors import InvalidInputError
from cgi_match.hits import empty_raw_hits, finish, parameters_digest, unify
from cgi_match.jobs import Accountability, JobContext, audited_job
from cgi_match.outputs import REJECTS_SCHEMA, empty_rejects
from cgi_match.progress import progress

log = logging.getLogger("cgi_match.batch")

#: The matchers a job can name, by section name.
MODALITY_SEARCH: dict[str, type[Modality]] = {
    "plates": PlateSearch,
    "dna": DnaSearch,
    "fingerprints": FingerprintSearch,
}
#: Most DET points kept in ``summary.json`` per modality (enough for a smooth curve in the report).
MAX_DET_POINTS = 200


def available_modalities() -> list[str]:
    """The modalities whose matcher is in this build."""
    return [m for m, cls in MODALITY_SEARCH.items() if cls.available()]


@dataclass
class JobResult:
    """What a run produced: the hits, the per-modality counts, and where the outputs are."""

    job_id: str
    counts: dict[str, dict[str, Any]]
    hits: pl.DataFrame
    rejects: pl.DataFrame
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    dry_run: bool = False
    resumed: bool = False

    def _repr_html_(self) -> str:
        from cgi_match.report import job_result_html

        return job_result_html(self)


def job_identity(spec: JobSpec, alerts_version: str, input_hashes: list[str]) -> str:
    """The job id: sha256 over parameters (without the output folder), alert-set version, input checksums
    and the cgi-match version, first 32 hex digits."""
    body = json.dumps(
        {"parameters": spec.parameters(), "alerts": alerts_version, "inputs": input_hashes, "version": __version__},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def chunk_ranges(n: int, size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ordinal ranges of at most ``size`` probes covering ``0 … n-1``."""
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def _truth(path: Any) -> pl.DataFrame:
    t = read_table(path)
    if "probe_id" not in t.columns:
        for alt in ("read_id", "profile_id"):
            if alt in t.columns:
                t = t.rename({alt: "probe_id"})
                break
    if "probe_id" not in t.columns or "alert_id" not in t.columns:
        raise InvalidInputError(f"{path}: ground truth needs 'probe_id' and 'alert_id' columns")
    return t.select(pl.col("probe_id").cast(pl.String), pl.col("alert_id").cast(pl.String)).unique()


def evaluate(hits: pl.DataFrame, truth: pl.DataFrame, n_probes: int, n_targets: int) -> dict[str, Any]:
    """Recall and precision of one modality's hits against ground truth pairs, and DET points.

    DET: for each score threshold t among the hits' scores, FNMR(t) = 1 - true pairs hit with score ≥ t /
    true pairs, FMR(t) = false hits with score ≥ t / impostor comparisons (probes searched x alert
    identifiers - true pairs). Only thresholds at or above the matcher's own reporting cut-off are seen.
    """
    flagged = hits.select("probe_id", "alert_id", "score").join(
        truth.with_columns(pl.lit(True).alias("_true")), on=["probe_id", "alert_id"], how="left"
    )
    is_true = flagged["_true"].fill_null(False).to_numpy()
    scores = flagged["score"].fill_null(0.0).to_numpy()
    n_true_pairs = truth.height
    tp = int(is_true.sum())
    out: dict[str, Any] = {
        "truth_pairs": n_true_pairs,
        "hits": int(hits.height),
        "true_hits": tp,
        "recall": tp / n_true_pairs if n_true_pairs else None,
        "precision": tp / hits.height if hits.height else None,
    }
    impostor = max(n_probes * n_targets - n_true_pairs, 1)
    if hits.height and n_true_pairs:
        order = np.argsort(-scores, kind="stable")
        s, t = scores[order], is_true[order]
        tps, fps = np.cumsum(t), np.cumsum(~t)
        # Keep the last index of each distinct score (all hits with score ≥ that threshold are in).
        last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
        if len(last) > MAX_DET_POINTS:
            last = last[np.linspace(0, len(last) - 1, MAX_DET_POINTS).round().astype(int)]
        out["det"] = [
            {"threshold": float(s[i]), "fmr": float(fps[i] / impostor), "fnmr": float(1 - tps[i] / n_true_pairs)}
            for i in last
        ]
    return out


def _plan_line(m: ModalityJob, probes: Probes, n_chunks: int) -> str:
    return (
        f"{m.modality}: {probes.n_in} probes in, {probes.n_valid} usable, {probes.n_rejected} rejected; "
        f"{n_chunks} chunk(s); options {json.dumps(m.options, sort_keys=True, default=str)}"
    )


def execute(spec: JobSpec, job: JobContext, *, dry_run: bool = False, show_progress: bool = True) -> JobResult:
    """The body of a job inside an audited context: load, check, match in checkpointed chunks, write."""
    missing = [m.modality for m in spec.modalities if not MODALITY_SEARCH[m.modality].available()]
    if missing:
        raise InvalidInputError(
            f"this build of cgi-match has no matcher for {', '.join(missing)} "
            f"(available: {', '.join(available_modalities()) or 'none'})"
        )
    with job.stage("load alert set"):
        alerts = AlertSet.load(spec.alerts)
    job.add_input(spec.alerts, rows=alerts.alerts.height, role="alert_set")
    searches: dict[str, Modality] = {m.modality: MODALITY_SEARCH[m.modality]() for m in spec.modalities}
    probes: dict[str, Probes] = {}
    truths: dict[str, pl.DataFrame] = {}
    hashes: list[str] = []
    for m in spec.modalities:
        with job.stage(f"{m.modality}: read probes"):
            probes[m.modality] = searches[m.modality].load_probes(m.probes)
        hashes.append(job.add_input(m.probes, rows=probes[m.modality].n_in, role=f"{m.modality}:probes"))
        if m.truth is not None:
            truths[m.modality] = _truth(m.truth)
            hashes.append(job.add_input(m.truth, rows=truths[m.modality].height, role=f"{m.modality}:truth"))
    job.job_id = job_identity(spec, alerts.version, hashes)
    plans = {m.modality: chunk_ranges(probes[m.modality].n_valid, spec.chunk_size) for m in spec.modalities}
    for m in spec.modalities:
        log.info("plan %s", _plan_line(m, probes[m.modality], len(plans[m.modality])))
    rejects_parts = [alerts.rejects] + [p.rejects for p in probes.values()]
    if dry_run:
        plan_counts: dict[str, dict[str, Any]] = {
            m: {"in": p.n_in, "usable": p.n_valid, "rejected": p.n_rejected, "chunks": len(plans[m])}
            for m, p in probes.items()
        }
        return JobResult(job.job_id, plan_counts, finish([]), pl.concat(rejects_parts), dry_run=True)

    at = spec.at or datetime.now(UTC)
    checkpoint = Checkpoint(spec.out / ".checkpoint", job.job_id, at)
    at = checkpoint.at
    alert_cols = alerts.alert_columns()
    parts: list[pl.DataFrame] = []
    counts: dict[str, dict[str, Any]] = {}
    evaluation: dict[str, dict[str, Any]] = {}
    for m in spec.modalities:
        name, search, pr = m.modality, searches[m.modality], probes[m.modality]
        with job.stage(f"{name}: build index"):
            built = search.build_index(alerts, m.options, at)
        rejects_parts.append(built.rejects)
        with job.stage(f"{name}: match"), progress(pr.n_valid, f"{name}: probes") as advance:
            if not show_progress:
                advance = _quiet
            for i, (start, stop) in enumerate(plans[name]):
                if not checkpoint.has(name, i):
                    checkpoint.save(name, i, search.match_chunk(built.index, pr.chunk(start, stop), m.options, at))
                advance(stop - start)
        loaded = [checkpoint.load(name, i) for i in range(len(plans[name]))]
        raw_hits = pl.concat([r.hits for r in loaded]) if loaded else empty_raw_hits()
        refused = (
            pl.concat([r.rejects for r in loaded]).with_columns(pl.lit(m.probes.name).alias("input"))
            if loaded
            else empty_rejects()
        )
        rejects_parts.append(refused)
        digest = parameters_digest({"modality": name, **m.options})
        unified = unify(name, raw_hits, alert_cols, params_digest=digest, job_id=job.job_id)
        matched = int(unified["probe_id"].n_unique()) if unified.height else 0
        by_kind = dict(unified.group_by("match_kind").len().sort("match_kind").iter_rows()) if unified.height else {}
        n_refused = sum(r.refused.len() for r in loaded)
        c: dict[str, Any] = {
            "in": pr.n_in,
            "matched": matched,
            "unmatched": pr.n_valid - matched - n_refused,
            "rejected": pr.n_rejected + n_refused,
            "hits": unified.height,
            "hits_by_kind": by_kind,
            "alert_identifiers_indexed": built.size,
            "alert_identifiers_rejected_by_matcher": built.rejects.height,
        }
        if c["matched"] + c["unmatched"] + c["rejected"] != c["in"]:
            raise RuntimeError(f"{name}: counts do not add up ({c}); this is a bug, please report it")
        counts[name] = c
        parts.append(unified)
        if name in truths:
            evaluation[name] = evaluate(unified, truths[name], pr.n_valid, max(built.size, 1))
    with job.stage("write outputs"):
        hits = finish(parts)
        rejects = pl.concat(rejects_parts).cast(REJECTS_SCHEMA)  # type: ignore[arg-type]
        job.write_parquet(hits, "hits.parquet")
        job.write_parquet(rejects, "rejects.parquet")
        job.write_summary(
            counts,
            job_name=spec.name,
            at=at.isoformat(),
            alert_set={"path": str(spec.alerts), "version": alerts.version, "counts": alerts.counts()},
            evaluation=evaluation,
            versions=_versions(),
        )
    checkpoint.clear()
    return JobResult(job.job_id, counts, hits, rejects, evaluation, dict(job.timings), resumed=checkpoint.resumed)


def _quiet(_: int) -> None:
    return None


def _versions() -> dict[str, str]:
    return {"cgi_match": __version__, "polars": pl.__version__, "pyarrow": pa.__version__, "numpy": np.__version__}


def run_job(
    spec: JobSpec | str | os.PathLike[str],
    who: Accountability,
    *,
    audit_log: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    show_progress: bool = True,
) -> JobResult:
    """Runs a job (a :class:`JobSpec` or the path of a ``JOB.toml``) and appends its audit record."""
    if not isinstance(spec, JobSpec):
        spec = load_job(spec, out=out)
    params = {**spec.parameters(), "dry_run": dry_run}
    with audited_job("run", who, audit_log=audit_log, out_dir=spec.out, parameters=params) as job:
        return execute(spec, job, dry_run=dry_run, show_progress=show_progress)


__all__ = [
    "MODALITY_SEARCH",
    "JobResult",
    "JobSpec",
    "ModalityJob",
    "available_modalities",
    "evaluate",
    "execute",
    "load_job",
    "parse_job",
    "run_job",
]
