"""Checkpoints of a batch job: each finished chunk's raw hits, so a killed job rerun resumes where it was.

Layout: ``OUT/.checkpoint/manifest.json`` (the job id and the resolved validity moment ``at``) and, per
finished chunk, ``<modality>-<chunk>.parquet`` (its raw hits) with ``.rejects.parquet`` (reject rows) and
``.refused.parquet`` (wholly refused probes) beside it, each written atomically and the hits last: a chunk
counts as finished only when its hit file exists (a killed write leaves only an ignored temporary file). A
checkpoint of another job id (other inputs or options) is discarded, never mixed in. The folder is removed
once the job's outputs are written.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl

from cgi_match.batch.modality import ChunkResult
from cgi_match.hits import RAW_HIT_SCHEMA
from cgi_match.outputs import REJECTS_SCHEMA, write_json_atomic, write_parquet_atomic

log = logging.getLogger("cgi_match.batch")


class Checkpoint:
    """The checkpoint folder of one job id."""

    def __init__(self, folder: Path, job_id: str, at: datetime) -> None:
        self.folder = folder
        self.job_id = job_id
        manifest = folder / "manifest.json"
        previous = None
        if manifest.is_file():
            try:
                previous = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                previous = None
        if isinstance(previous, dict) and previous.get("job_id") == job_id:
            self.at = datetime.fromisoformat(str(previous["at"]))
            self.resumed = True
            log.info(
                "resuming job %s from %d finished chunks",
                job_id,
                len(list(folder.glob("*-[0-9][0-9][0-9][0-9][0-9][0-9].parquet"))),
            )
        else:
            if folder.exists():
                log.info("discarding a checkpoint of another job in %s", folder)
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            self.at = at
            self.resumed = False
            write_json_atomic({"job_id": job_id, "at": at.isoformat()}, manifest)

    def _path(self, modality: str, chunk: int, part: str = "") -> Path:
        return self.folder / f"{modality}-{chunk:06d}{part}.parquet"

    def has(self, modality: str, chunk: int) -> bool:
        """Whether the chunk was finished by an earlier (perhaps killed) run."""
        return self._path(modality, chunk).is_file()

    def save(self, modality: str, chunk: int, result: ChunkResult) -> None:
        """Stores a finished chunk atomically (rejects first, then the hits that mark it finished)."""
        write_parquet_atomic(result.rejects, self._path(modality, chunk, ".rejects"))
        write_parquet_atomic(result.refused.to_frame("probe_id"), self._path(modality, chunk, ".refused"))
        write_parquet_atomic(result.hits, self._path(modality, chunk))

    def load(self, modality: str, chunk: int) -> ChunkResult:
        """A finished chunk's raw hits and rejects."""
        hits = pl.read_parquet(self._path(modality, chunk)).cast(RAW_HIT_SCHEMA)  # type: ignore[arg-type]
        rejects = pl.read_parquet(self._path(modality, chunk, ".rejects")).cast(REJECTS_SCHEMA)  # type: ignore[arg-type]
        refused = pl.read_parquet(self._path(modality, chunk, ".refused"))["probe_id"].cast(pl.String)
        return ChunkResult(hits, rejects, refused)

    def clear(self) -> None:
        """Removes the checkpoint once the job's outputs are written."""
        shutil.rmtree(self.folder, ignore_errors=True)
