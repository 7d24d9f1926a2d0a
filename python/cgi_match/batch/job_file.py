"""``JOB.toml``: what a batch job matches, against which alert set, with which options, into which folder.

Example (paths are relative to the job file)::

    [job]
    alerts = "alerts/"            # alert-set folder (see cgi_match.alerts)
    out = "out/"                  # output folder (``cgi-match run --out`` overrides it)
    chunk_size = 100000           # probes per checkpointed chunk
    at = "2026-11-28T12:00:00Z"   # moment at which alert validity is judged (default: when the job starts)

    [plates]
    reads = "reads.parquet"       # read_id, plate, optional country, seen_at
    max_ocr = 2
    max_edits = 0
    truth = "plate_truth.parquet" # optional ground truth: probe_id, alert_id

    [dna]
    probes = "stains.csv"         # probe_id, locus, allele (long rows)
    rules = "prum"

    [fingerprints]
    probes = "probes/"            # folder of template files (probe id = file stem) or a table
    top_k = 10
    threshold = 0.35

Unknown sections and keys are errors, so a misspelt option never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cgi_match.errors import InvalidInputError, StorageError
from cgi_match.hits import MODALITIES

#: Options each modality accepts in its section, with their defaults (``None``: the matcher's default).
MODALITY_OPTIONS: dict[str, dict[str, Any]] = {
    "plates": {"max_ocr": 2, "max_edits": 0, "min_fuzzy_length": 5, "max_ocr_short": 1, "country_policy": "lenient"},
    "dna": {"rules": "prum", "min_loci": None, "frequencies": None, "theta": 0.01},
    "fingerprints": {"top_k": 10, "threshold": None, "exhaustive": True, "penetration": 0.05, "prefilter": "scan"},
}
#: The key naming each modality's probe file.
PROBE_KEY: dict[str, str] = {"plates": "reads", "dna": "probes", "fingerprints": "probes"}
_JOB_KEYS = {"alerts", "out", "chunk_size", "at", "name"}
DEFAULT_CHUNK_SIZE = 100_000


@dataclass(frozen=True)
class ModalityJob:
    """One modality of a job: where its probes are, its options, and its optional ground truth."""

    modality: str
    probes: Path
    options: dict[str, Any]
    truth: Path | None = None


@dataclass(frozen=True)
class JobSpec:
    """A validated job file."""

    alerts: Path
    out: Path
    modalities: tuple[ModalityJob, ...]
    chunk_size: int = DEFAULT_CHUNK_SIZE
    at: datetime | None = None
    name: str = "job"
    source: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def parameters(self) -> dict[str, Any]:
        """What ``summary.json`` and the audit log record (paths as given, options, chunking)."""
        return {
            "name": self.name,
            "alerts": str(self.alerts),
            "chunk_size": self.chunk_size,
            "at": self.at.isoformat() if self.at else None,
            "modalities": {
                m.modality: {"probes": str(m.probes), "truth": str(m.truth) if m.truth else None, **m.options}
                for m in self.modalities
            },
        }


def _parse_at(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(f"job.at: {value!r} is not an ISO 8601 date/time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_job(data: dict[str, Any], base: Path, *, out: Path | None = None, source: Path | None = None) -> JobSpec:
    """Validates a job given as a dict (the parsed TOML); relative paths are taken from ``base``."""
    unknown = set(data) - {"job", *MODALITIES}
    if unknown:
        raise InvalidInputError(
            f"job file: unknown section(s) {', '.join(sorted(unknown))} (expected job, {', '.join(MODALITIES)})"
        )
    job = data.get("job", {})
    bad = set(job) - _JOB_KEYS
    if bad:
        raise InvalidInputError(f"[job]: unknown key(s) {', '.join(sorted(bad))}")
    if "alerts" not in job:
        raise InvalidInputError("[job]: 'alerts' (the alert-set folder) is required")
    out_dir = out if out is not None else (base / job["out"] if "out" in job else None)
    if out_dir is None:
        raise InvalidInputError("[job]: 'out' is required (or give --out)")
    chunk = job.get("chunk_size", DEFAULT_CHUNK_SIZE)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise InvalidInputError(f"[job]: chunk_size must be a positive integer, not {chunk!r}")
    mods: list[ModalityJob] = []
    for m in MODALITIES:
        if m not in data:
            continue
        section = dict(data[m])
        key = PROBE_KEY[m]
        if key not in section:
            raise InvalidInputError(f"[{m}]: '{key}' (the probe file) is required")
        probes = base / str(section.pop(key))
        truth = base / str(section.pop("truth")) if "truth" in section else None
        allowed = MODALITY_OPTIONS[m]
        wrong = set(section) - set(allowed)
        if wrong:
            raise InvalidInputError(
                f"[{m}]: unknown option(s) {', '.join(sorted(wrong))} (known: {', '.join(sorted(allowed))})"
            )
        options = {**allowed, **section}
        mods.append(ModalityJob(m, probes, options, truth))
    if not mods:
        raise InvalidInputError(f"job file names no modality (add a [{'], ['.join(MODALITIES)}] section)")
    return JobSpec(
        alerts=base / str(job["alerts"]),
        out=out_dir,
        modalities=tuple(mods),
        chunk_size=chunk,
        at=_parse_at(job["at"]) if "at" in job else None,
        name=str(job.get("name", source.stem if source else "job")),
        source=source,
    )


def load_job(path: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None) -> JobSpec:
    """Reads and validates a ``JOB.toml``."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StorageError(f"{p}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{p}: not valid TOML: {exc}") from exc
    return parse_job(data, p.parent, out=Path(out) if out is not None else None, source=p)
