"""Writing job outputs so that a reader never sees half a file: temporary file in the same folder, fsync,
rename. Also the checksums the audit log and ``summary.json`` record, and the one schema of ``rejects``."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

#: Columns of every ``rejects.parquet``: which input, which row (0-based), which id if known, which field,
#: and the reason in words a person understands.
REJECTS_SCHEMA: dict[str, pl.DataType] = {
    "input": pl.String(),
    "row": pl.Int64(),
    "record_id": pl.String(),
    "field": pl.String(),
    "reason": pl.String(),
}


def empty_rejects() -> pl.DataFrame:
    """A rejects table with no rows and the shared schema."""
    return pl.DataFrame(schema=REJECTS_SCHEMA)


def make_rejects(
    input_name: str,
    rows: pl.Series | list[int],
    reasons: pl.Series | list[str],
    *,
    record_ids: pl.Series | list[str | None] | None = None,
    field: str | None = None,
) -> pl.DataFrame:
    """Builds rejects rows for one input in the shared schema (vectorised; no Python loop over rows)."""
    rows_s = pl.Series("row", rows, dtype=pl.Int64)
    n = len(rows_s)
    ids = pl.Series("record_id", record_ids if record_ids is not None else [None] * n, dtype=pl.String)
    return pl.DataFrame(
        {
            "input": pl.Series("input", [input_name] * n, dtype=pl.String),
            "row": rows_s,
            "record_id": ids,
            "field": pl.Series("field", [field] * n, dtype=pl.String),
            "reason": pl.Series("reason", reasons, dtype=pl.String),
        }
    )


def sha256_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes (what the audit log records as 'consulted' or 'disclosed')."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_tree(path: str | os.PathLike[str]) -> str:
    """Hex sha256 over a folder: every file's relative path and sha256, in sorted order."""
    root = Path(path)
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(sha256_file(p).encode())
        h.update(b"\n")
    return h.hexdigest()


def write_atomic(path: str | os.PathLike[str], writer: Callable[[Path], object]) -> str:
    """Calls ``writer(tmp_path)``, then fsyncs and renames onto ``path``; returns the file's sha256."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        digest = sha256_file(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest


def write_parquet_atomic(df: pl.DataFrame, path: str | os.PathLike[str]) -> str:
    """Writes a DataFrame as Parquet atomically; returns its sha256."""
    return write_atomic(path, lambda tmp: df.write_parquet(tmp, compression="zstd", statistics=True))


def write_json_atomic(obj: Any, path: str | os.PathLike[str]) -> str:
    """Writes JSON (sorted keys, UTF-8, trailing newline) atomically; returns its sha256."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_text_atomic(text: str, path: str | os.PathLike[str]) -> str:
    """Writes a text file (e.g. report.html) atomically; returns its sha256."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
