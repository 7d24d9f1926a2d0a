"""Fingerprint minutiae templates: the template type and reading folders of template files.

``FingerprintTemplate`` is the Rust class itself (``cgi_match._core``), so the matcher and the gallery take
it without conversion. Its ``repr`` and ``_repr_html_`` show counts only: minutiae are biometric data.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple

import polars as pl

from cgi_match import _core
from cgi_match.outputs import REJECTS_SCHEMA

FingerprintTemplate = _core.FingerprintTemplate

log = logging.getLogger("cgi_match.fingerprints")

#: File name endings taken as template files in a folder (ISO 19794-2, ANSI 378, NIST .xyt and the usual
#: vendor endings); other files (ground truth tables, notes) are not templates and are left alone.
TEMPLATE_SUFFIXES: frozenset[str] = frozenset(
    {".iso", ".ist", ".fmr", ".ansi", ".ans", ".378", ".incits", ".xyt", ".tpl", ".bin", ".min"}
)


class TemplateFolder(NamedTuple):
    """What :func:`read_template_folder` found: ``(id, template)`` pairs and one reject row per bad file."""

    templates: list[tuple[str, _core.FingerprintTemplate]]
    rejects: pl.DataFrame


def read_template_folder(
    path: str | os.PathLike[str], *, xyt_resolution_ppi: float = 500.0, recursive: bool = False
) -> TemplateFolder:
    """Reads every template file of a folder (by structure, whatever its ending) in parallel in Rust.

    The id of a template is its file name without the ending (``101_1.iso`` → ``101_1``, the FVC
    ``FINGER_IMPRESSION`` naming); a record with several finger views gives ``101_1#0``, ``101_1#1``, ….
    Unreadable files are not dropped: each becomes a row of ``rejects`` (shared rejects schema) whose reason
    names the file, record, field and byte offset. Files are read in sorted path order, so ids come out in the
    same order on every run.
    """
    root = Path(path)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder of template files")
    pattern = "**/*" if recursive else "*"
    files = sorted(
        p
        for p in root.glob(pattern)
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in TEMPLATE_SUFFIXES
    )
    read, failed = _core.read_template_files([str(p) for p in files], xyt_resolution_ppi=xyt_resolution_ppi)
    views_per_file: dict[int, int] = {}
    for file_index, _view, _fmt, _t in read:
        views_per_file[file_index] = views_per_file.get(file_index, 0) + 1
    templates: list[tuple[str, _core.FingerprintTemplate]] = []
    seen: dict[str, int] = {}
    reject_rows: list[tuple[int, str]] = list(failed)
    for file_index, view, _fmt, template in read:
        stem = _template_id(root, files[file_index])
        tid = stem if views_per_file[file_index] == 1 else f"{stem}#{view}"
        if tid in seen:
            reject_rows.append((file_index, f"{files[file_index]}: id '{tid}' already taken by {files[seen[tid]]}"))
            continue
        seen[tid] = file_index
        templates.append((tid, template))
    reject_rows.sort()
    rejects = pl.DataFrame(
        {
            "input": [str(files[i]) for i, _ in reject_rows],
            "row": [i for i, _ in reject_rows],
            "record_id": [_template_id(root, files[i]) for i, _ in reject_rows],
            "field": [None] * len(reject_rows),
            "reason": [reason for _, reason in reject_rows],
        },
        schema=REJECTS_SCHEMA,
    )
    log.info("read %d templates from %d files, %d rejected", len(templates), len(files), rejects.height)
    return TemplateFolder(templates, rejects)


def _template_id(root: Path, file: Path) -> str:
    rel = file.relative_to(root).with_suffix("")
    return rel.as_posix()


__all__ = ["TEMPLATE_SUFFIXES", "FingerprintTemplate", "TemplateFolder", "read_template_folder"]
