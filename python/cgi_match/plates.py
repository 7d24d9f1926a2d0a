"""Licence plates: normalisation, and the :class:`PlateIndex` that matches ANPR reads against plate alerts.

The matching runs in Rust (``cgi_match._core.PlateIndex``); this module turns tables (polars, pyarrow,
Parquet or CSV files) into Arrow buffers, and the core's hit columns back into a polars DataFrame with the
alerts' pass-through columns. Python never loops over reads.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from cgi_match import _core
from cgi_match._columns import str_array, str_buffers, str_view_buffers
from cgi_match.errors import IndexFileError, InvalidInputError, StorageError

#: Reject code → the sentence a person reads in ``rejects.parquet``.
PLATE_REJECT_REASONS: dict[int, str] = dict(_core.plate_reject_reasons())
#: Match kind code → the name on the hit.
MATCH_KINDS: dict[int, str] = dict(_core.plate_match_kinds())
#: The polars type of the ``match_kind`` column.
MATCH_KIND_DTYPE = pl.Enum(list(MATCH_KINDS.values()))
#: The default OCR-equivalence classes (characters a camera or a witness confuses).
DEFAULT_OCR_CLASSES: tuple[str, ...] = tuple(_core.default_ocr_classes())
#: Country policies accepted by :meth:`PlateIndex.match`.
COUNTRY_POLICIES = ("lenient", "strict", "ignore")

#: ``match_kind`` values by kind code (index 0 is never a code), for one gather instead of a per-hit lookup.
_KIND_BY_CODE = pl.Series(
    "match_kind", [MATCH_KINDS.get(code) for code in range(max(MATCH_KINDS) + 1)], dtype=MATCH_KIND_DTYPE
)
_ALERT_COLUMNS = ("alert_id", "plate", "country", "valid_from", "valid_to")
_HIT_COLUMNS = ("read_id", "alert_id", "read_plate", "alert_plate", "match_kind", "distance", "score")

TimeBuffers = tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_] | None]


def normalize_plate(text: str) -> str:
    """The matching key of one plate (``"1-abc-123"`` → ``"1ABC123"``); raises ``InvalidInputError`` if not a plate."""
    return _core.normalize_plate(text)


def normalize_plates(plates: Any, *, keep_wildcards: bool = False) -> pl.DataFrame:
    """Normalises a whole column in Rust: one row per input row with ``plate_key`` and ``reject_reason``.

    Exactly one of the two is null on each row, so every input row is accounted for.
    """
    offsets, data, valid = str_buffers(plates)
    (k_off, k_data, k_valid), codes = _core.normalize_plate_column(offsets, data, valid, keep_wildcards=keep_wildcards)
    keys = str_array(k_off, k_data, k_valid)
    reasons = pl.Series("reject_reason", codes).replace_strict(
        PLATE_REJECT_REASONS, default=None, return_dtype=pl.String
    )
    return pl.DataFrame([pl.Series("plate_key", keys, dtype=pl.String), reasons])


def read_table(source: Any, what: str) -> pl.DataFrame:
    """A polars DataFrame from a DataFrame, a pyarrow Table or a ``.parquet`` / ``.csv`` path.

    CSV columns are read as text (ids keep their leading zeros; timestamps are parsed later).
    """
    if isinstance(source, pl.DataFrame):
        return source
    if isinstance(source, pa.Table):
        frame = pl.from_arrow(source)
        if not isinstance(frame, pl.DataFrame):  # pragma: no cover - a Table always gives a DataFrame
            raise InvalidInputError(f"{what}: expected a table")
        return frame
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        suffix = path.suffix.lower()
        try:
            if suffix == ".parquet":
                return pl.read_parquet(path)
            if suffix == ".csv":
                return pl.read_csv(path, infer_schema=False)
        except FileNotFoundError as err:
            raise StorageError(f"{what}: {path}: file not found") from err
        except OSError as err:
            raise StorageError(f"{what}: {path}: {err}") from err
        except pl.exceptions.PolarsError as err:
            raise InvalidInputError(f"{what}: {path}: cannot read: {err}") from err
        raise InvalidInputError(f"{what}: {path}: expected a .parquet or .csv file")
    raise InvalidInputError(
        f"{what}: expected a polars DataFrame, a pyarrow Table or a path, not {type(source).__name__}"
    )


def to_micros(value: dt.datetime | dt.date | int | None) -> int:
    """Epoch microseconds of ``at=``: now when None; naive datetimes are taken as UTC."""
    if value is None:
        return time.time_ns() // 1000
    if isinstance(value, bool):
        raise InvalidInputError("at must be a datetime, a date or epoch microseconds")
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, dt.date):
        return to_micros(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
    raise InvalidInputError("at must be a datetime, a date or epoch microseconds")


_DAY_US = 86_400_000_000


def time_buffers(frame: pl.DataFrame, name: str, what: str, *, date_is_end_of_day: bool = False) -> TimeBuffers | None:
    """A timestamp column as epoch microseconds plus validity, or None when the column is absent.

    Datetimes (naive ones as UTC) and dates convert; integers are taken as epoch microseconds; text is parsed
    as ISO 8601. A value that cannot be parsed stops the call with its row, rather than silently widening
    an alert's validity. With ``date_is_end_of_day`` (for ``valid_to``), a bare date such as ``2025-12-31``
    means the last microsecond of that day, as a person writing it means "valid through that day".
    """
    if name not in frame.columns:
        return None
    s = frame[name]
    if s.dtype == pl.Null:
        return None
    whole_day: pl.Series | None = None
    if s.dtype == pl.String:
        parsed = s.str.strip_chars().replace("", None)
        as_int = parsed.cast(pl.Int64, strict=False)
        if (as_int.is_null() == parsed.is_null()).all():
            s = as_int
        else:
            whole_day = parsed.str.contains(r"^\d{4}-\d{2}-\d{2}$").fill_null(False)
            s = parsed.str.to_datetime(time_unit="us", strict=False, time_zone="UTC")
            bad = s.is_null() & parsed.is_not_null()
            if bad.any():
                row = int(bad.arg_true()[0])
                raise InvalidInputError(f"{what}: column {name!r}, row {row}: not a timestamp (ISO 8601 expected)")
    if s.dtype == pl.Date:
        whole_day = s.is_not_null()
        s = s.cast(pl.Datetime("us"))
    if isinstance(s.dtype, pl.Datetime):
        s = s.dt.epoch("us")
    elif s.dtype.is_integer():
        s = s.cast(pl.Int64)
    else:
        raise InvalidInputError(f"{what}: column {name!r} has type {s.dtype}, expected datetime, date or int")
    if date_is_end_of_day and whole_day is not None:
        s = pl.select(pl.when(whole_day).then(s + (_DAY_US - 1)).otherwise(s)).to_series()
    values = s.fill_null(0).to_numpy().astype(np.int64, copy=False)
    valid = None if s.null_count() == 0 else s.is_not_null().to_numpy()
    return np.ascontiguousarray(values), valid


def _str_column(frame: pl.DataFrame, name: str) -> tuple[Any, Any, Any] | None:
    if name not in frame.columns:
        return None
    return str_buffers(frame[name].cast(pl.String))


@dataclass
class PlateMatch:
    """Everything one matching call produced, with counts that add up (for ``summary.json``)."""

    hits: pl.DataFrame
    rejects: pl.DataFrame
    reads_in: int
    reads_with_hits: int
    reads_without_hits: int
    hits_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def reads_rejected(self) -> int:
        """Reads refused with a reason."""
        return self.rejects.height


class PlateIndex:
    """Index of plate alerts, built once in Rust; matches ANPR reads with exact, OCR, edit and wildcard rules.

    ``alerts`` is a polars DataFrame, a pyarrow Table or a ``.parquet`` / ``.csv`` path with columns
    ``alert_id``, ``plate`` and optional ``country`` (ISO alpha-2 or vehicle code), ``valid_from``,
    ``valid_to``; every other column passes through to the hits. Rows that cannot be used are listed in
    :attr:`rejects` with a reason. ``ocr_classes`` replaces the default look-alike classes
    (:data:`DEFAULT_OCR_CLASSES`), e.g. ``["0OD", "8B"]``; ``[]`` turns look-alikes off.
    """

    _index: _core.PlateIndex
    _alerts: pl.DataFrame

    def __init__(self, alerts: Any, *, ocr_classes: Sequence[str] | None = None) -> None:
        table = read_table(alerts, "alerts")
        missing = [c for c in ("alert_id", "plate") if c not in table.columns]
        if missing:
            raise InvalidInputError(f"alerts: missing column(s) {', '.join(missing)}")
        core = _core.PlateIndex(
            str_buffers(table["alert_id"].cast(pl.String)),
            str_buffers(table["plate"].cast(pl.String)),
            _str_column(table, "country"),
            time_buffers(table, "valid_from", "alerts"),
            time_buffers(table, "valid_to", "alerts", date_is_end_of_day=True),
            ocr_classes=None if ocr_classes is None else list(ocr_classes),
        )
        self._set(core, table)

    def _set(self, core: _core.PlateIndex, alerts: pl.DataFrame) -> None:
        self._index = core
        # One chunk per column: gathering a hit's alert row from a many-chunk frame (a Parquet file read in
        # row groups) took ~20 ms per 55k hits instead of ~1 ms (measured at 1M alerts, 8 chunks).
        self._alerts = alerts.rechunk()
        self._alert_rows = core.alert_rows()
        # The alert columns copied onto every hit, in output order: (source column, name on the hit).
        self._hit_alert_columns = [("alert_id", "alert_id"), ("plate", "alert_plate")] + [
            # The alert's own country and validity are named as such; other columns keep their names.
            (name, f"alert_{name}" if name in _HIT_COLUMNS or name in _ALERT_COLUMNS else name)
            for name in self._passthrough_names()
        ]

    @classmethod
    def _from_core(cls, core: _core.PlateIndex, alerts: pl.DataFrame) -> PlateIndex:
        index = cls.__new__(cls)
        index._set(core, alerts)
        return index

    def __len__(self) -> int:
        return len(self._index)

    # -- persistence -------------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index file's bytes: the core's versioned, checksummed format with the alert table attached."""
        buf = io.BytesIO()
        self._alerts.write_ipc(buf, compression="zstd")
        return self._index.to_bytes(attachment=buf.getvalue())

    @classmethod
    def from_bytes(cls, data: bytes) -> PlateIndex:
        """Reads bytes written by :meth:`to_bytes`; raises ``IndexFileError`` when they are not an index."""
        core = _core.PlateIndex.from_bytes(data)
        attachment = core.attachment()
        if not attachment:
            raise IndexFileError("index file holds no alert table (written by the bare core?)")
        try:
            alerts = pl.read_ipc(io.BytesIO(attachment))
        except pl.exceptions.PolarsError as err:  # pragma: no cover - the checksum already vouches for it
            raise IndexFileError(f"alert table in the index file cannot be read: {err}") from err
        if alerts.height != core.source_rows:
            raise IndexFileError(f"alert table has {alerts.height} rows, the index {core.source_rows}")
        return cls._from_core(core, alerts)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the index file atomically (a temporary file renamed into place)."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(self.to_bytes())
            os.replace(tmp, target)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"{target}: cannot write the index: {err.strerror or err}") from err

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PlateIndex:
        """Reads an index file written by :meth:`save`; ``IndexFileError`` if it is corrupted or foreign."""
        try:
            data = Path(path).read_bytes()
        except OSError as err:
            raise StorageError(f"{path}: cannot read the index: {err.strerror or err}") from err
        return cls.from_bytes(data)

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (PlateIndex.from_bytes, (self.to_bytes(),))

    # -- information -------------------------------------------------------------------------------------

    @property
    def alerts(self) -> pl.DataFrame:
        """The alert table as given (all columns, input row order)."""
        return self._alerts

    @property
    def rejects(self) -> pl.DataFrame:
        """Alert rows refused at build time: ``row``, ``alert_id``, ``plate``, ``reason``."""
        rows, codes = self._index.rejects()
        idx = pl.Series(rows, dtype=pl.UInt32)
        return pl.DataFrame(
            {
                "row": idx,
                "alert_id": self._alerts["alert_id"].cast(pl.String).gather(idx),
                "plate": self._alerts["plate"].cast(pl.String).gather(idx),
                "reason": pl.Series(codes).replace_strict(PLATE_REJECT_REASONS, return_dtype=pl.String),
            }
        )

    @property
    def nbytes(self) -> int:
        """Bytes held by the Rust index (candidate tables built so far included; the alert table excluded)."""
        return self._index.nbytes

    @property
    def ocr_classes(self) -> list[str]:
        """The look-alike classes the index folds with."""
        return self._index.ocr_classes

    def prepare(self, max_edits: int) -> None:
        """Builds the edit-candidate table for ``max_edits`` now instead of in the first :meth:`match`."""
        self._index.prepare(max_edits)

    def __repr__(self) -> str:
        return (
            f"PlateIndex(alerts={len(self):,}, rejected={self._index.rejects()[0].size:,}, "
            f"wildcard={self._index.pattern_count:,})"
        )

    def _repr_html_(self) -> str:
        rejects = self.rejects
        by_reason = rejects.group_by("reason").len().sort("reason").rows() if rejects.height else []
        rows = [
            ("alerts indexed", f"{len(self):,}"),
            ("alert rows given", f"{self._index.source_rows:,}"),
            ("rejected", f"{rejects.height:,}"),
            *((f"&nbsp;&nbsp;{html.escape(str(reason))}", f"{n:,}") for reason, n in by_reason),
            ("wildcard alerts", f"{self._index.pattern_count:,}"),
            ("OCR classes", html.escape(" ".join(self.ocr_classes) or "none")),
            ("pass-through columns", html.escape(", ".join(self._passthrough_names()) or "none")),
            ("index memory", f"{self.nbytes / 2**20:,.1f} MiB"),
            ("written by", f"cgi-match {html.escape(self._index.writer_version)}"),
        ]
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return f"<table><caption>cgi_match.PlateIndex</caption>{body}</table>"

    def _passthrough_names(self) -> list[str]:
        return [c for c in self._alerts.columns if c not in ("alert_id", "plate")]

    # -- matching ----------------------------------------------------------------------------------------

    def match(
        self,
        reads: Any,
        *,
        max_ocr: int = 2,
        max_edits: int = 0,
        min_fuzzy_length: int = 5,
        max_ocr_short: int = 1,
        country_policy: str = "lenient",
        at: dt.datetime | dt.date | int | None = None,
    ) -> pl.DataFrame:
        """Hits of ``reads`` (``read_id``, ``plate``, optional ``country``, ``seen_at``): one row per (read, alert).

        Columns ``read_id, alert_id, read_plate, alert_plate, match_kind, distance, score`` then the alerts'
        pass-through columns; ordered by read, score descending, alert id. ``distance`` is the weighted edit
        distance (0.5 per look-alike swap, 1 per other edit); ``score`` is ``1 - distance / length`` (for
        wildcards: the share of the plate fixed by the pattern). Plates shorter than ``min_fuzzy_length`` get no
        ``edit`` hits and ``ocr`` hits with at most ``max_ocr_short`` look-alike substitutions (0 = none; the
        measured trade-off is in the README). Reads without ``seen_at`` are checked against
        alert validity at ``at`` (default: now). Refused reads are left out; see :meth:`match_with_rejects`.
        """
        return self.match_with_rejects(
            reads,
            max_ocr=max_ocr,
            max_edits=max_edits,
            min_fuzzy_length=min_fuzzy_length,
            max_ocr_short=max_ocr_short,
            country_policy=country_policy,
            at=at,
        ).hits

    def match_with_rejects(
        self,
        reads: Any,
        *,
        max_ocr: int = 2,
        max_edits: int = 0,
        min_fuzzy_length: int = 5,
        max_ocr_short: int = 1,
        country_policy: str = "lenient",
        at: dt.datetime | dt.date | int | None = None,
    ) -> PlateMatch:
        """:meth:`match` plus the refused reads and the counts a job summary needs."""
        table = read_table(reads, "reads")
        if "plate" not in table.columns:
            raise InvalidInputError("reads: missing column plate")
        for name, value in (
            ("max_ocr", max_ocr),
            ("max_edits", max_edits),
            ("min_fuzzy_length", min_fuzzy_length),
            ("max_ocr_short", max_ocr_short),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError(f"{name} must be a non-negative integer, not {value!r}")
        if country_policy not in COUNTRY_POLICIES:
            raise InvalidInputError(
                f"country_policy must be one of {', '.join(COUNTRY_POLICIES)}, not {country_policy!r}"
            )
        # One chunk: the core then gets polars' own buffers without a copy, and the gathers of hit and reject rows
        # below stay cheap (gathering 55k rows from an 8-chunk column took ~3 ms instead of ~0.1 ms).
        plates = table["plate"].cast(pl.String).rechunk()
        read, alert, kind, distance, score, reject = self._index.match_reads(
            str_view_buffers(plates),
            None if "country" not in table.columns else str_view_buffers(table["country"]),
            time_buffers(table, "seen_at", "reads"),
            max_ocr=max_ocr,
            max_edits=max_edits,
            min_fuzzy_length=min_fuzzy_length,
            max_ocr_short=max_ocr_short,
            country_policy=country_policy,
            at=to_micros(at),
        )
        read_ids = table["read_id"] if "read_id" in table.columns else pl.Series("read_id", np.arange(table.height))
        read_idx = pl.Series(read, dtype=pl.UInt64).cast(pl.UInt32)
        alert_idx = pl.Series(self._alert_rows[alert], dtype=pl.UInt32)
        # All alert columns in one frame gather (polars spreads the columns over its threads).
        alert_part = (
            self._alerts.select(
                pl.col(src).cast(pl.String) if src == "plate" else pl.col(src) for src, _ in self._hit_alert_columns
            )
            .gather(alert_idx)
            .rename(dict(self._hit_alert_columns))
        )
        columns: list[pl.Series] = [
            read_ids.gather(read_idx).alias("read_id"),
            alert_part["alert_id"],
            plates.gather(read_idx).alias("read_plate"),
            alert_part["alert_plate"],
            _KIND_BY_CODE.gather(kind),
            pl.Series("distance", distance, dtype=pl.Float32),
            pl.Series("score", score, dtype=pl.Float32),
            *(alert_part[out] for _, out in self._hit_alert_columns[2:]),
        ]
        hits = pl.DataFrame(columns)

        rejected = np.flatnonzero(reject)
        rej_idx = pl.Series(rejected, dtype=pl.UInt32)
        rejects = pl.DataFrame(
            {
                "row": rej_idx,
                "read_id": read_ids.gather(rej_idx),
                "plate": plates.gather(rej_idx),
                "reason": pl.Series(reject[rejected]).replace_strict(PLATE_REJECT_REASONS, return_dtype=pl.String),
            }
        )
        # Hits come sorted by read: the reads with hits are the starts of runs (no sort, unlike np.unique).
        with_hits = int(np.count_nonzero(read[1:] != read[:-1])) + 1 if read.size else 0
        counts = np.bincount(kind, minlength=max(MATCH_KINDS) + 1)
        return PlateMatch(
            hits=hits,
            rejects=rejects,
            reads_in=table.height,
            reads_with_hits=with_hits,
            reads_without_hits=table.height - with_hits - rejected.size,
            hits_by_kind={name: int(counts[code]) for code, name in MATCH_KINDS.items()},
        )

    def match_one(
        self,
        plate: str,
        country: str | None = None,
        *,
        seen_at: dt.datetime | dt.date | int | None = None,
        max_ocr: int = 2,
        max_edits: int = 0,
        min_fuzzy_length: int = 5,
        max_ocr_short: int = 1,
        country_policy: str = "lenient",
        at: dt.datetime | dt.date | int | None = None,
    ) -> pl.DataFrame:
        """Hits of one plate (a witness's partial plate may use ``?`` and ``*``); same options as :meth:`match`.

        Raises ``InvalidInputError`` with the reason when the plate or country cannot be used.
        """
        reads = pl.DataFrame(
            {
                "read_id": pl.Series([0], dtype=pl.Int64),
                "plate": pl.Series([plate], dtype=pl.String),
                "country": pl.Series([country], dtype=pl.String),
                "seen_at": pl.Series([None if seen_at is None else to_micros(seen_at)], dtype=pl.Int64),
            }
        )
        result = self.match_with_rejects(
            reads,
            max_ocr=max_ocr,
            max_edits=max_edits,
            min_fuzzy_length=min_fuzzy_length,
            max_ocr_short=max_ocr_short,
            country_policy=country_policy,
            at=at,
        )
        if result.rejects.height:
            raise InvalidInputError(f"plate cannot be matched: {result.rejects['reason'][0]}")
        return result.hits.drop("read_id")
