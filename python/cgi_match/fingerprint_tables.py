"""Tables of fingerprint templates: a Parquet or Arrow IPC file with one template per row, as a gallery or a
probe set for ``cgi-match fingerprints`` and :class:`~cgi_match.FingerprintGallery`.

A table has an id column (``subject_id`` for a gallery, ``probe_id`` for probes), optionally ``finger``
(ISO position 0 to 10; empty = the template's own), and a binary template column: ``template``, or else the one
binary column of the table. Each cell is read like a template file (ISO 19794-2, ANSI 378 or ``.xyt``, told
apart by structure), in parallel in Rust. Rows are never dropped silently: a row with a missing id, a bad
finger code or an unreadable template becomes a row of ``rejects`` (shared schema) saying why, so
``templates + rejected rows = rows``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from cgi_match import _core
from cgi_match.errors import InvalidInputError
from cgi_match.outputs import REJECTS_SCHEMA

#: File endings read as tables (anything else given where a table or folder is expected is refused).
TABLE_SUFFIXES: frozenset[str] = frozenset({".parquet", ".pq", ".arrow", ".feather", ".ipc"})


class TemplateTable(NamedTuple):
    """What :func:`read_template_table` found: one ``(id, finger, template)`` per readable view, the number of
    rows of the table, and one reject row per unreadable row."""

    ids: list[str]
    fingers: np.ndarray
    templates: list[_core.FingerprintTemplate]
    rows: int
    rejects: pl.DataFrame


def is_template_table(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` names a table file (by its ending) rather than a folder of template files."""
    p = Path(path)
    return p.is_file() and p.suffix.lower() in TABLE_SUFFIXES


def _load(path: Path) -> pa.Table:
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pq.read_table(path)
    return feather.read_table(path)


def _template_column(table: pa.Table) -> str:
    if "template" in table.column_names:
        return "template"
    binary: list[str] = [
        str(f.name) for f in table.schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)
    ]
    if len(binary) != 1:
        raise InvalidInputError(
            f"no 'template' column and {len(binary)} binary columns: name the template column 'template'"
        )
    return binary[0]


def read_template_table(
    path: str | os.PathLike[str], id_column: str, *, xyt_resolution_ppi: float = 500.0, unique_ids: bool = False
) -> TemplateTable:
    """Reads a table of templates (see the module doc); ``unique_ids`` rejects a repeated id (probes), while a
    gallery may list one subject on several rows (several fingers). A record holding several finger views gives
    ids ``id#0``, ``id#1``, … like a file does."""
    src = Path(path)
    table = _load(src)
    if id_column not in table.column_names:
        raise InvalidInputError(f"{src}: table lacks the id column '{id_column}' (columns: {table.column_names})")
    column = _template_column(table)
    blobs = table.column(column)
    blobs = blobs.combine_chunks() if blobs.num_chunks else pa.array([], type=pa.large_binary())
    if not (pa.types.is_binary(blobs.type) or pa.types.is_large_binary(blobs.type)):
        raise InvalidInputError(f"{src}: column '{column}' is {blobs.type}, not binary")
    blobs = blobs.cast(pa.large_binary())
    n = len(blobs)
    _, offsets_buf, data_buf = blobs.buffers()
    offsets = (
        np.frombuffer(offsets_buf, dtype=np.int64)[blobs.offset : blobs.offset + n + 1]
        if offsets_buf is not None
        else np.zeros(n + 1, dtype=np.int64)
    )
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    valid = None if blobs.null_count == 0 else blobs.is_valid().to_numpy(zero_copy_only=False)
    read, failed = _core.read_template_blobs(offsets, data, valid, xyt_resolution_ppi=xyt_resolution_ppi)

    ids = pl.Series(table.column(id_column).to_pylist(), dtype=pl.String, strict=False)
    if "finger" in table.column_names:
        finger_in = pl.Series(table.column("finger").to_pylist(), strict=False).cast(pl.Int64, strict=False)
    else:
        finger_in = pl.Series([None] * n, dtype=pl.Int64)

    reasons: dict[int, tuple[str, str]] = {row: ("template", reason) for row, reason in failed}
    # Row-level checks before the template's: an id is needed to report a hit at all.
    for row in ids.is_null().arg_true().to_list():
        reasons[row] = (id_column, f"row {row}: {id_column} is missing (null)")
    for row in ((finger_in < 0) | (finger_in > 10)).fill_null(False).arg_true().to_list():
        reasons.setdefault(row, ("finger", f"row {row}: finger {finger_in[row]} is not 0 (unknown) or 1 to 10"))
    if unique_ids:
        frame = pl.DataFrame({"id": ids}).with_row_index("row")
        first = frame.group_by("id", maintain_order=True).agg(pl.col("row").first().alias("first"))
        repeated = frame.join(first, on="id").filter(pl.col("id").is_not_null() & (pl.col("row") != pl.col("first")))
        for row, tid, first_row in repeated.select("row", "id", "first").iter_rows():
            reasons.setdefault(row, (id_column, f"row {row}: {id_column} '{tid}' already taken by row {first_row}"))
    views: dict[int, int] = {}
    for row, _view, _fmt, _t in read:
        views[row] = views.get(row, 0) + 1
    out_ids: list[str] = []
    out_fingers: list[int] = []
    out_templates: list[_core.FingerprintTemplate] = []
    id_list = ids.to_list()
    finger_list = finger_in.to_list()
    for row, view, _fmt, template in read:
        if row in reasons:
            continue
        tid = id_list[row] if views[row] == 1 else f"{id_list[row]}#{view}"
        out_ids.append(tid)
        given = finger_list[row]
        out_fingers.append(template.finger_position if given is None else int(given))
        out_templates.append(template)
    rows_rejected = sorted(reasons)
    rejects = pl.DataFrame(
        {
            "input": [str(src)] * len(rows_rejected),
            "row": rows_rejected,
            "record_id": [id_list[r] for r in rows_rejected],
            "field": [reasons[r][0] for r in rows_rejected],
            "reason": [reasons[r][1] for r in rows_rejected],
        },
        schema=REJECTS_SCHEMA,
    )
    return TemplateTable(out_ids, np.asarray(out_fingers, dtype=np.uint8), out_templates, n, rejects)


__all__ = ["TABLE_SUFFIXES", "TemplateTable", "is_template_table", "read_template_table"]
