"""``cgi-match demo``: the analyst's whole workflow on synthetic data, with ground truth.

1. *Synthesise* an alert set and probes for every modality whose matcher and synthetic generator are in this
   build (the generators are the modality engineers' own: ``cgi_match.synth.plates``, ``.fingerprints``,
   ``.dna``); the alert metadata around the identifiers (source, category, action, issuing country, case
   reference) is drawn here with a realistic mix per modality.
2. *Run* the batch job (:func:`cgi_match.batch.run_job`) into the output folder, audited into the folder's
   own log (the demo consults no real data).
3. *Report*: ``report.html`` in the same folder.
4. Print counts, recall and precision against the ground truth, and the time of each stage.

A modality whose matcher or generator is missing is listed as such; the demo never fakes one.
Sizes follow the issue at ``scale=1``: 200k plate alerts and 1M reads, 20k fingerprint subjects and 2k
probes, 100k DNA profiles and 5k probes.
"""

from __future__ import annotations

import getpass
import importlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from cgi_match.batch import MODALITY_SEARCH, JobResult, run_job
from cgi_match.jobs import Accountability
from cgi_match.plates import normalize_plates
from cgi_match.report import write_report

#: Sizes at ``scale=1``: (alert identifiers, probes) per modality, as the issue asks.
DEMO_SIZES: dict[str, tuple[int, int]] = {
    "plates": (200_000, 1_000_000),
    "fingerprints": (20_000, 2_000),
    "dna": (100_000, 5_000),
}
#: When the synthetic reads were taken (the plate generator's reference moment).
REFERENCE = datetime(2026, 1, 1, tzinfo=UTC)

#: Category mix of the alerts behind each modality (most vehicle alerts are thefts; most biometric alerts
#: are persons wanted or to be checked).
CATEGORY_MIX: dict[str, dict[str, float]] = {
    "plates": {
        "stolen-vehicle": 0.78,
        "specific-check": 0.07,
        "discreet-check": 0.08,
        "arrest": 0.05,
        "terrorism": 0.02,
    },
    "fingerprints": {"arrest": 0.55, "discreet-check": 0.15, "missing-person": 0.1, "terrorism": 0.05, "other": 0.15},
    "dna": {"arrest": 0.45, "missing-person": 0.2, "specific-check": 0.1, "other": 0.25},
}
SOURCE_MIX: dict[str, dict[str, float]] = {
    "plates": {"SIS": 0.6, "NATIONAL": 0.3, "INTERPOL": 0.1},
    "fingerprints": {"SIS": 0.3, "INTERPOL": 0.3, "PRUM": 0.3, "EUROPOL": 0.1},
    "dna": {"PRUM": 0.6, "SIS": 0.1, "INTERPOL": 0.2, "NATIONAL": 0.1},
}
#: The action an alert of each category asks for.
ACTION_OF: dict[str, str] = {
    "terrorism": "immediate-action",
    "arrest": "arrest",
    "missing-person": "protect",
    "discreet-check": "discreet-check",
    "specific-check": "specific-check",
    "stolen-vehicle": "seize",
    "other": "inform",
}
ISSUERS = ("BE", "NL", "FR", "DE", "LU", "GB", "BG", "GR", "IT", "ES", "PL", "AT", "PT", "SE", "RO", "CZ")
_VEHICLE_TO_ISO = {"B": "BE", "F": "FR", "D": "DE", "L": "LU"}


@dataclass
class ModalityData:
    """One modality's synthetic identifiers (linked by ``alert_id``), probes, ground truth and options."""

    identifiers: pl.DataFrame
    alerts: pl.DataFrame
    probes: pl.DataFrame
    probes_file: str
    truth: pl.DataFrame
    options: dict[str, Any]


@dataclass
class DemoOutcome:
    """What the demo did: the job result, what was left out and why, and the time of each stage."""

    out: Path
    result: JobResult | None
    skipped: dict[str, str]
    timings: list[tuple[str, float]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The printed summary."""
        out = [f"outputs in {self.out} (report.html, hits.parquet, rejects.parquet, summary.json, audit.jsonl)"]
        for m, why in self.skipped.items():
            out.append(f"{m:<13} not run: {why}")
        if self.result is not None:
            for m, c in self.result.counts.items():
                out.append(
                    f"{m:<13} in {c['in']:>10,}  matched {c['matched']:>9,}  unmatched {c['unmatched']:>10,}  "
                    f"rejected {c['rejected']:>7,}  hits {c['hits']:>9,}"
                )
                ev = self.result.evaluation.get(m)
                if ev:
                    rec = "n/a" if ev["recall"] is None else f"{ev['recall']:.4f}"
                    prec = "n/a" if ev["precision"] is None else f"{ev['precision']:.4f}"
                    out.append(
                        f"{'':<13} recall {rec} ({ev['true_hits']:,} of {ev['truth_pairs']:,} true pairs), "
                        f"precision {prec} against the ground truth"
                    )
        out += [f"time {name:<32} {seconds:8.2f} s" for name, seconds in self.timings]
        return out


def _mix(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray[Any, Any]:
    p = np.array(list(mix.values()))
    return rng.choice(np.array(list(mix)), size=n, p=p / p.sum())


def alert_metadata(
    alert_ids: pl.Series, modality: str, rng: np.random.Generator, *, countries: pl.Series | None = None
) -> pl.DataFrame:
    """The alert rows around synthetic identifiers: source, category, matching action, issuing country
    (the plate's own country where known), validity and a case reference."""
    n = alert_ids.len()
    category = _mix(rng, CATEGORY_MIX[modality], n)
    issuer = np.array(ISSUERS)[rng.integers(0, len(ISSUERS), size=n)]
    frame = pl.DataFrame(
        {
            "alert_id": alert_ids.cast(pl.String),
            "source": _mix(rng, SOURCE_MIX[modality], n),
            "category": category,
            "issuing_country": issuer,
            "valid_from": pl.Series([None] * n, dtype=pl.Datetime("us", "UTC")),
            "valid_to": pl.Series([None] * n, dtype=pl.Datetime("us", "UTC")),
            "action": pl.Series(category).replace_strict(ACTION_OF, return_dtype=pl.String),
        }
    ).with_columns(
        pl.format("{}-{}", pl.lit(modality[:2].upper()), pl.int_range(n).cast(pl.String).str.zfill(7)).alias("case_ref")
    )
    if countries is not None:
        iso = countries.cast(pl.String).replace(_VEHICLE_TO_ISO)
        frame = frame.with_columns(pl.coalesce(iso, pl.col("issuing_country")).alias("issuing_country"))
    return frame.select(
        "alert_id", "source", "category", "issuing_country", "valid_from", "valid_to", "action", "case_ref"
    )


def _plates(n_alerts: int, n_reads: int, seed: int) -> ModalityData | str:
    try:
        synth = importlib.import_module("cgi_match.synth.plates")
    except ImportError:
        return "the synthetic plate generator (cgi_match.synth.plates) is not in this build"
    data = synth.generate(n_alerts, n_reads, seed=seed, reference=REFERENCE)
    rng = np.random.default_rng(seed + 11)
    alerts = alert_metadata(data.alerts["alert_id"], "plates", rng, countries=data.alerts["country"]).with_columns(
        data.alerts["valid_from"].alias("valid_from"), data.alerts["valid_to"].alias("valid_to")
    )
    reads = data.reads.with_columns(pl.col("read_id").cast(pl.String))
    # Ground truth: reads derived from an alert, and unrelated reads that happen to show exactly an alert's
    # plate (the same plate is a true hit whatever the generator meant), kept when the alert was valid at the
    # moment of the read (an expired alert must not hit, so it is no miss either).
    derived = data.truth.drop_nulls("source_alert_id").select(
        pl.col("read_id").cast(pl.String).alias("probe_id"), pl.col("source_alert_id").alias("alert_id")
    )
    read_keys = reads.select(pl.col("read_id").alias("probe_id"), normalize_plates(reads["plate"])["plate_key"])
    alert_keys = data.alerts.select("alert_id", normalize_plates(data.alerts["plate"])["plate_key"])
    same_plate = read_keys.drop_nulls().join(alert_keys.drop_nulls(), on="plate_key").select("probe_id", "alert_id")
    truth = (
        pl.concat([derived, same_plate])
        .unique()
        .join(reads.select(pl.col("read_id").alias("probe_id"), "seen_at"), on="probe_id")
        .join(alerts.select("alert_id", "valid_from", "valid_to"), on="alert_id")
        .filter(
            (pl.col("valid_from").is_null() | (pl.col("valid_from") <= pl.col("seen_at")))
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= pl.col("seen_at")))
        )
        .select("probe_id", "alert_id")
        .sort("probe_id", "alert_id")
    )
    identifiers = data.alerts.select("alert_id", "plate", "country")
    # The plate matcher's defaults (look-alikes on, edits off): one edit against 200k alerts would flag a large
    # share of unrelated reads (issue 3), so the demo shows what an analyst gets by default.
    return ModalityData(identifiers, alerts, reads, "reads.parquet", truth, {})


def _dna(n_profiles: int, n_probes: int, seed: int) -> ModalityData | str:
    try:
        synth = importlib.import_module("cgi_match.synth.dna")
    except ImportError:
        return "the synthetic DNA generator (cgi_match.synth.dna) is not in this build"
    data = synth.generate(n_profiles, n_probes=n_probes, seed=seed)
    db_ids = data.database["profile_id"].unique(maintain_order=True)
    rng = np.random.default_rng(seed + 12)
    alerts = alert_metadata(("DNA-" + db_ids).alias("alert_id"), "dna", rng)
    identifiers = data.database.with_columns(("DNA-" + pl.col("profile_id")).alias("alert_id"))
    probes = data.probes.rename({"profile_id": "probe_id"})
    # Ground truth: a probe of the same person, a partial stain of them and each contributor of a two-person
    # mixture should hit; relatives (a matter for familial search) and unrelated persons should not. The job
    # uses CODIS moderate stringency, the routine search for stains and mixtures (issue 4): the Prüm rules
    # allow one differing allele and so miss most drop-out stains and mixtures by design.
    t = data.truth
    direct = t.filter(pl.col("relation").is_in(["same", "partial", "mixture"]))
    truth = (
        pl.concat(
            [
                direct.select("probe_id", pl.col("source_id").alias("alert_id")),
                direct.select("probe_id", pl.col("second_source_id").alias("alert_id")),
            ]
        )
        .drop_nulls()
        .with_columns(("DNA-" + pl.col("alert_id")).alias("alert_id"))
        .unique()
        .sort("probe_id", "alert_id")
    )
    return ModalityData(identifiers, alerts, probes, "dna_probes.parquet", truth, {"rules": "codis-moderate"})


def _fingerprints(n_subjects: int, n_probes: int, seed: int) -> ModalityData | str:
    try:
        synth = importlib.import_module("cgi_match.synth.fingerprints")
    except ImportError:
        return "the synthetic fingerprint generator (cgi_match.synth.fingerprints) is not in this build"
    # Half the probes are second impressions of enrolled subjects, half come from people not enrolled.
    n_mated = n_probes // 2
    n_other = n_probes - n_mated
    truth_all, templates = synth.templates(n_subjects + n_other, 2, fingers=1, seed=seed)
    iso = pl.Series("template", [t.to_iso19794_2() for t in templates], dtype=pl.Binary)
    table = truth_all.with_columns(iso)
    gallery = table.filter((pl.col("impression") == 0) & (pl.col("subject_id") < n_subjects))
    subject = pl.format("FP-{}", pl.col("subject_id").cast(pl.String).str.zfill(7))
    probes = table.filter(
        (pl.col("impression") == 1) & ((pl.col("subject_id") < n_mated) | (pl.col("subject_id") >= n_subjects))
    ).select(pl.format("PRB-{}", pl.col("template_id")).alias("probe_id"), "template", subject.alias("_subject"))
    rng = np.random.default_rng(seed + 13)
    identifiers = gallery.select(subject.alias("alert_id"), pl.col("finger").cast(pl.String), "template")
    alerts = alert_metadata(identifiers["alert_id"], "fingerprints", rng)
    truth = probes.filter(pl.col("_subject").is_in(identifiers["alert_id"].implode())).select(
        "probe_id", pl.col("_subject").alias("alert_id")
    )
    # Rank-1 candidate above the score the fingerprint matcher measured at FMR 0.01 % on its held-back
    # synthetic set (BENCHMARKS.md, "Fingerprint matching"): in a 1:N search each probe meets every
    # enrolled subject, so the per-comparison false-match rate must be small.
    # The gallery's cylinder-scan pre-filter keeps the 2k x 20k search to a few percent of the comparisons.
    options = {"top_k": 1, "threshold": 0.0425, "exhaustive": False, "penetration": 0.05, "prefilter": "scan"}
    return ModalityData(identifiers, alerts, probes.drop("_subject"), "fingerprint_probes.parquet", truth, options)


def _modality_data(modality: str, n_ids: int, n_probes: int, seed: int) -> ModalityData | str:
    if not MODALITY_SEARCH[modality].available():
        return f"the {modality} matcher is not in this build"
    makers: dict[str, Callable[[int, int, int], ModalityData | str]] = {
        "plates": _plates,
        "fingerprints": _fingerprints,
        "dna": _dna,
    }
    maker = makers.get(modality)
    if maker is None:
        return f"the synthetic {modality} generator is not in this build"
    return maker(n_ids, n_probes, seed)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def write_demo_data(
    folder: str | os.PathLike[str], *, scale: float = 1.0, seed: int = 0
) -> tuple[Path, dict[str, str]]:
    """Writes a synthetic alert set, probes, ground truth and ``job.toml`` into ``folder``; returns the job
    file and the modalities left out with the reason."""
    root = Path(folder)
    (root / "alerts").mkdir(parents=True, exist_ok=True)
    skipped: dict[str, str] = {}
    made: dict[str, ModalityData] = {}
    for modality, (n_ids, n_probes) in DEMO_SIZES.items():
        got = _modality_data(modality, max(1, round(n_ids * scale)), max(1, round(n_probes * scale)), seed)
        if isinstance(got, str):
            skipped[modality] = got
        else:
            made[modality] = got
    alerts = (
        pl.concat([d.alerts for d in made.values()])
        if made
        else alert_metadata(pl.Series([], dtype=pl.String), "plates", np.random.default_rng(seed))
    )
    alerts.write_parquet(root / "alerts" / "alerts.parquet")
    lines = [
        "[job]",
        'name = "cgi-match demo"',
        'alerts = "alerts"',
        'out = "out"',
        f'at = "{REFERENCE.isoformat()}"',
        "",
    ]
    for modality, d in made.items():
        d.identifiers.write_parquet(root / "alerts" / f"{modality}.parquet")
        d.probes.write_parquet(root / d.probes_file)
        d.truth.write_parquet(root / f"{modality}_truth.parquet")
        key = "reads" if modality == "plates" else "probes"
        lines += [f"[{modality}]", f'{key} = "{d.probes_file}"', f'truth = "{modality}_truth.parquet"']
        lines += [f"{k} = {_toml(v)}" for k, v in d.options.items()]
        lines.append("")
    job = root / "job.toml"
    job.write_text("\n".join(lines), encoding="utf-8")
    return job, skipped


def run_demo(
    out: str | os.PathLike[str] = "demo-out",
    *,
    scale: float = 1.0,
    seed: int = 0,
    audit_log: str | os.PathLike[str] | None = None,
    show_progress: bool = True,
) -> DemoOutcome:
    """Synthesises, runs the job, writes the report; the audit record goes to ``OUT/audit.jsonl`` by default."""
    root = Path(out)
    if (root / "out").exists():
        shutil.rmtree(root / "out")  # a fresh run each time: the demo is not a resumable job
    timings: list[tuple[str, float]] = []
    t = time.perf_counter()
    job, skipped = write_demo_data(root, scale=scale, seed=seed)
    timings.append(("synthesise data", time.perf_counter() - t))
    who = Accountability(
        operator=os.environ.get("CGI_MATCH_OPERATOR") or getpass.getuser(),
        justification="cgi-match demo on synthetic data (no real person or vehicle)",
        case_ref="DEMO",
    )
    log = Path(audit_log) if audit_log is not None else root / "audit.jsonl"
    if len(skipped) == len(DEMO_SIZES):
        return DemoOutcome(root / "out", None, skipped, timings)
    result = run_job(job, who, audit_log=log, show_progress=show_progress)
    timings += [(f"job: {k}", v) for k, v in result.timings.items() if k != "total"]
    t = time.perf_counter()
    write_report(root / "out", who, audit_log=log)
    timings.append(("report", time.perf_counter() - t))
    return DemoOutcome(root / "out", result, skipped, timings)


# Decorated plate reads without alerts, for the plate-normalisation benchmark
# (``benches/test_bench_plate_normalise.py``); the demo itself uses ``cgi_match.synth.plates``.
_LETTERS = np.array(list("ABCDEFGHJKLMNPRSTVWXYZ"))
_DIGITS = np.array(list("0123456789"))
_DECOR = np.array(["-", " ", ".", "", "·"])
_GARBAGE = np.array(["", "   ", "--", "AB\tC12", "ABCDEFGHIJKLMNOP"])


def synthetic_reads(n: int, seed: int = 0) -> pl.Series:
    """``n`` plate reads in mixed formats and decorations, about 1% of them unusable."""
    rng = np.random.default_rng(seed)
    left = _LETTERS[rng.integers(0, len(_LETTERS), size=(n, 3))]
    right = _DIGITS[rng.integers(0, len(_DIGITS), size=(n, 3))]
    sep = _DECOR[rng.integers(0, len(_DECOR), size=n)]
    plates = np.char.add(np.char.add(np.char.add(left[:, 0], left[:, 1]), left[:, 2]), sep)
    plates = np.char.add(plates, np.char.add(np.char.add(right[:, 0], right[:, 1]), right[:, 2]))
    lower = rng.random(n) < 0.1
    plates[lower] = np.char.lower(plates[lower])
    plates = plates.astype(f"<U{max(len(g) for g in _GARBAGE)}")
    bad = rng.random(n) < 0.01
    plates[bad] = _GARBAGE[rng.integers(0, len(_GARBAGE), size=int(bad.sum()))]
    return pl.Series("plate", plates.astype(str), dtype=pl.String)
