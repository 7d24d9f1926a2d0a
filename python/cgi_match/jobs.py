"""What every command-line job shares: who runs it and why, what it consulted and disclosed, its outputs
written atomically, its ``summary.json``, and the audit record appended when it ends (also on failure)."""

from __future__ import annotations

import logging
import os
import platform
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cgi_match import audit
from cgi_match._core import __version__
from cgi_match.outputs import sha256_file, sha256_tree, write_json_atomic, write_parquet_atomic, write_text_atomic

log = logging.getLogger("cgi_match.jobs")


@dataclass(frozen=True)
class Accountability:
    """Who runs a job and why; all three are required for every job on police data."""

    operator: str
    justification: str
    case_ref: str

    def __post_init__(self) -> None:
        for name in ("operator", "justification", "case_ref"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"{name} is required for every cgi-match job")


@dataclass
class JobContext:
    """Collects a job's inputs, outputs, parameters and timings; handed to the job body by :func:`audited_job`."""

    command: str
    who: Accountability
    out_dir: Path | None
    parameters: dict[str, Any]
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _t0: float = field(default_factory=time.perf_counter)

    def add_input(self, path: str | os.PathLike[str], *, rows: int | None = None, role: str = "input") -> str:
        """Records a consulted file or folder with its sha256 (and row count once known); returns the hash."""
        p = Path(path)
        digest = sha256_tree(p) if p.is_dir() else sha256_file(p)
        self.inputs.append({"role": role, "path": str(p), "sha256": digest, "rows": rows})
        return digest

    def set_rows(self, role: str, rows: int) -> None:
        """Fills in the row count of an input recorded earlier under ``role``."""
        for item in self.inputs:
            if item["role"] == role:
                item["rows"] = rows

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Times a stage of the job for ``summary.json``; logs its start and end (never data)."""
        log.info("%s: %s started", self.command, name)
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - t, 6)
            log.info("%s: %s done in %.3f s", self.command, name, self.timings[name])

    def _out(self, name: str) -> Path:
        if self.out_dir is None:
            raise ValueError("this job has no output folder")
        return self.out_dir / name

    def _disclosed(self, path: Path, digest: str, rows: int | None = None) -> Path:
        self.outputs.append({"path": str(path), "sha256": digest, "rows": rows})
        return path

    def write_parquet(self, df: pl.DataFrame, name: str) -> Path:
        """Writes ``out_dir/name`` atomically and records it as disclosed."""
        path = self._out(name)
        return self._disclosed(path, write_parquet_atomic(df, path), df.height)

    def write_text(self, text: str, name: str) -> Path:
        """Writes a text output (e.g. ``report.html``) atomically and records it as disclosed."""
        path = self._out(name)
        return self._disclosed(path, write_text_atomic(text, path))

    def write_summary(self, counts: dict[str, Any], **extra: Any) -> Path:
        """Writes ``summary.json``: counts, parameters, inputs with checksums, timings, versions."""
        self.timings["total"] = round(time.perf_counter() - self._t0, 6)
        summary = {
            "job_id": self.job_id,
            "command": self.command,
            "cgi_match_version": __version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "parameters": self.parameters,
            "inputs": self.inputs,
            "counts": counts,
            "timings_s": self.timings,
            **extra,
        }
        path = self._out("summary.json")
        return self._disclosed(path, write_json_atomic(summary, path))


@contextmanager
def audited_job(
    command: str,
    who: Accountability,
    *,
    audit_log: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str] | None,
    parameters: dict[str, Any],
) -> Iterator[JobContext]:
    """Runs a job body and appends its audit record when it ends, whether it succeeded or failed."""
    ctx = JobContext(
        command=command, who=who, out_dir=Path(out_dir) if out_dir is not None else None, parameters=parameters
    )
    outcome = "ok"
    try:
        yield ctx
    except BaseException as exc:
        outcome = f"failed: {type(exc).__name__}"
        raise
    finally:
        audit.append(
            audit_log if audit_log is not None else audit.default_log_path(),
            {
                "operator": who.operator,
                "justification": who.justification,
                "case_ref": who.case_ref,
                "job_id": ctx.job_id,
                "command": command,
                "cgi_match_version": __version__,
                "parameters": parameters,
                "consulted": ctx.inputs,
                "disclosed": ctx.outputs,
                "outcome": outcome,
            },
        )
