"""The alert set: international alerts and the identifiers (plates, fingerprints, DNA) attached to them.

An alert set is a folder holding one alerts table and up to three identifier tables linked by ``alert_id``,
each as Parquet, CSV or NDJSON (``alerts.parquet`` / ``alerts.csv`` / ``alerts.ndjson`` / ``alerts.jsonl``,
likewise ``plates.*``, ``fingerprints.*``, ``dna.*``):

- ``alerts``: ``alert_id, source, category, issuing_country, valid_from, valid_to, action, case_ref``
  (dates as ISO 8601 text or date/datetime columns, UTC when no zone is given; a bare ``valid_to`` date means
  valid through that day);
- ``plates``: ``alert_id, plate, country`` (``country`` optional);
- ``fingerprints``: ``alert_id, finger`` and either ``template`` (bytes) or ``template_file`` (a path
  relative to the folder);
- ``dna``: long profile rows ``alert_id, locus, allele`` (optional ``profile_id``, default the alert id, and
  ``kind``: ``reference`` or ``stain``).

The cleaned identifier tables keep ``source_row``, the row in their file, so that a row the matcher's own
reader refuses later is still reported against the file.

Loading validates every row. A row that cannot be used goes to :attr:`AlertSet.rejects` with the file, the
row number, the field and a reason a person understands; nothing is dropped silently, so for each table
``rows in = rows kept + rows rejected``. Identifiers carry no personal data beyond references.
"""

from __future__ import annotations

import hashlib
import html
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cgi_match.errors import FormatError, InvalidInputError, StorageError
from cgi_match.outputs import REJECTS_SCHEMA, empty_rejects, sha256_file

#: Alert sources: the systems alerts come from.
SOURCES: dict[str, str] = {
    "SIS": "Schengen Information System (SIS II / SIS recast)",
    "INTERPOL": "Interpol notices and diffusions (I-24/7)",
    "EUROPOL": "Europol Information System",
    "PRUM": "Prüm Decisions automated-search replies (DNA, dactyloscopic, vehicle registration)",
    "NATIONAL": "National alert lists and hotlists",
}

#: Alert categories, most urgent first; the position is the urgency rank hits are sorted by. The wording
#: follows the SIS alert types (Regulation (EU) 2018/1862 art. 26, 32, 36, 38) and Interpol notice colours.
CATEGORIES: dict[str, str] = {
    "terrorism": "Terrorist-offence alert: immediate action, inform the issuing authority at once",
    "arrest": "Person wanted for arrest or surrender/extradition (SIS art. 26, Interpol Red Notice)",
    "missing-person": "Missing person or vulnerable person to be protected (SIS art. 32, Yellow Notice)",
    "discreet-check": "Discreet check: report whereabouts without the person noticing (SIS art. 36)",
    "specific-check": "Specific check: search the person or vehicle (SIS art. 36)",
    "stolen-vehicle": "Stolen or misappropriated vehicle or plate (SIS art. 38)",
    "other": "Any other alert: see the issuing authority's instructions",
}

#: Actions asked of the officer who finds a hit, most urgent first (tie-break after the category).
ACTIONS: dict[str, str] = {
    "immediate-action": "Act at once (arrest, protect, seize) and contact the issuing country's SIRENE/NCB",
    "arrest": "Arrest the person",
    "protect": "Place the person under protection",
    "seize": "Seize the object or vehicle",
    "specific-check": "Carry out a specific check",
    "discreet-check": "Carry out a discreet check and report",
    "report-whereabouts": "Report where the person or object was seen",
    "inform": "Inform the issuing authority; no action on the spot",
}

#: Urgency rank of each category (0 = most urgent) and of each action.
CATEGORY_URGENCY: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}
ACTION_URGENCY: dict[str, int] = {a: i for i, a in enumerate(ACTIONS)}

#: Columns of the cleaned alerts table, in order.
ALERT_COLUMNS = (
    "alert_id",
    "source",
    "category",
    "issuing_country",
    "valid_from",
    "valid_to",
    "action",
    "case_ref",
)
_REQUIRED_ALERT = ("alert_id", "source", "category", "issuing_country", "action")
#: Date and time spellings accepted in text files (ISO 8601 forms); anything else is a reject.
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d")
_TABLE_NAMES = ("alerts", "plates", "fingerprints", "dna")
_SUFFIXES = (".parquet", ".csv", ".ndjson", ".jsonl")
#: Larger template files are refused: an ISO 19794-2 record with 255 minutiae per view is a few kB.
MAX_TEMPLATE_BYTES = 1 << 20
_TS = pl.Datetime("us", "UTC")


def read_table(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Reads a Parquet, CSV or NDJSON table; CSV cells stay text so ids such as ``007`` keep their zeros."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(p)
        if suffix == ".csv":
            return pl.read_csv(p, infer_schema=False)
        if suffix in (".ndjson", ".jsonl"):
            return pl.read_ndjson(p, infer_schema_length=None)
    except OSError as exc:
        raise StorageError(f"{p}: {exc}") from exc
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise FormatError(f"{p}: not a readable {suffix[1:]} table: {exc}") from exc
    raise InvalidInputError(f"{p}: unsupported table format {suffix!r} (use .parquet, .csv, .ndjson or .jsonl)")


def find_table(folder: Path, name: str) -> Path | None:
    """The one file ``folder/name.{parquet,csv,ndjson,jsonl}``; two candidates are an error, none is ``None``."""
    found = [folder / f"{name}{s}" for s in _SUFFIXES if (folder / f"{name}{s}").is_file()]
    if len(found) > 1:
        raise InvalidInputError(f"{folder}: several files for table {name!r}: {', '.join(p.name for p in found)}")
    return found[0] if found else None


def _as_text(df: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    return df.with_columns(
        [pl.col(c).cast(pl.String).str.strip_chars() for c in columns if c in df.columns]
        + [pl.lit(None, dtype=pl.String).alias(c) for c in columns if c not in df.columns]
    )


def _parse_when(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A date/time column as UTC timestamps; unparseable text becomes null (and is caught by the caller)."""
    if isinstance(dtype, pl.Datetime):
        return col.dt.replace_time_zone("UTC") if dtype.time_zone is None else col.dt.convert_time_zone("UTC")
    if isinstance(dtype, pl.Date):
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    text = col.cast(pl.String).str.strip_chars()
    attempts = [
        text.str.strptime(pl.Datetime("us"), f, strict=False).dt.replace_time_zone("UTC")
        for f in _DATE_FORMATS
        if "%z" not in f
    ]
    attempts.insert(0, text.str.strptime(pl.Datetime("us", "UTC"), _DATE_FORMATS[0], strict=False))
    return pl.coalesce(attempts)


@dataclass(frozen=True)
class _Check:
    field: str
    bad: pl.Expr
    reason: pl.Expr | str


def _reject_rows(
    df: pl.DataFrame, input_name: str, checks: list[_Check], id_col: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Splits ``df`` (with a ``_row`` column) into kept rows and rejects (one reject row per bad input row,
    naming every failed field and reason)."""
    fields = [pl.when(c.bad).then(pl.lit(c.field)) for c in checks]
    reasons = [pl.when(c.bad).then(c.reason if isinstance(c.reason, pl.Expr) else pl.lit(c.reason)) for c in checks]
    if not checks:
        return df, empty_rejects()
    tagged = df.with_columns(
        pl.concat_str(fields, separator=",", ignore_nulls=True).alias("_fields"),
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias("_reasons"),
    )
    bad = tagged.filter(pl.col("_reasons") != "")
    rejects = bad.select(
        pl.lit(input_name, dtype=pl.String).alias("input"),
        pl.col("_row").cast(pl.Int64).alias("row"),
        pl.col(id_col).cast(pl.String).alias("record_id"),
        pl.col("_fields").alias("field"),
        pl.col("_reasons").alias("reason"),
    )
    kept = tagged.filter(pl.col("_reasons") == "").drop("_fields", "_reasons")
    return kept, rejects


def _source_row() -> pl.Expr:
    """The row of the identifier in its file (0-based), so a reject found later still points at the file."""
    return pl.col("_row").cast(pl.Int64).alias("source_row")


def _missing(col: str) -> pl.Expr:
    return pl.col(col).is_null() | (pl.col(col) == "")


def validate_alerts(raw: pl.DataFrame, input_name: str = "alerts") -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cleans an alerts table: returns (alerts with :data:`ALERT_COLUMNS`, rejects in the shared schema).

    Rejected: a missing required field, an unknown source, category or action, an issuing country that is not
    ISO 3166 alpha-2, a date that cannot be read, ``valid_to`` before ``valid_from``, and every row of an
    ``alert_id`` that occurs more than once (which of them is right is the issuing office's call, not ours).
    """
    df = raw.with_row_index("_row")
    when_types = {c: df.schema[c] for c in ("valid_from", "valid_to") if c in df.columns}
    text_cols = tuple(c for c in ALERT_COLUMNS if c not in when_types)
    df = _as_text(df, text_cols)
    # Reasons quote the value as written; the checks compare the case-folded value.
    df = df.with_columns(pl.col(c).alias(f"_given_{c}") for c in ("source", "category", "action", "issuing_country"))
    df = df.with_columns(
        pl.col("source").str.to_uppercase(),
        pl.col("category").str.to_lowercase(),
        pl.col("action").str.to_lowercase(),
        pl.col("issuing_country").str.to_uppercase(),
    )
    for c in ("valid_from", "valid_to"):
        if c in when_types:
            df = df.with_columns(_parse_when(pl.col(c), when_types[c]).alias(f"_{c}"))
            given = pl.col(c).cast(pl.String).str.strip_chars()
            df = df.with_columns(given.alias(f"_{c}_given"))
            if c == "valid_to":
                # A bare date means "valid through that day" (as the plate matcher reads it): the alert
                # ends at the last microsecond of that day in UTC, not at its first.
                date_only = (
                    pl.lit(True)
                    if isinstance(when_types[c], pl.Date)
                    else pl.col("_valid_to_given").str.contains(r"^\d{4}-\d{2}-\d{2}$")
                )
                end_of_day = pl.col("_valid_to") + pl.duration(days=1) - pl.duration(microseconds=1)
                df = df.with_columns(
                    pl.when(date_only.fill_null(False))
                    .then(end_of_day)
                    .otherwise(pl.col("_valid_to"))
                    .alias("_valid_to")
                )
        else:
            df = df.with_columns(
                pl.lit(None, dtype=_TS).alias(f"_{c}"), pl.lit(None, dtype=pl.String).alias(f"_{c}_given")
            )
    dup = pl.col("alert_id").is_not_null() & (pl.col("alert_id") != "") & pl.col("alert_id").is_duplicated()
    checks = [_Check(c, _missing(c), f"{c} is missing") for c in _REQUIRED_ALERT]
    checks += [
        _Check("alert_id", dup, "alert_id occurs more than once in the alert set"),
        _Check(
            "source",
            ~_missing("source") & ~pl.col("source").is_in(list(SOURCES)),
            pl.format("unknown source {} (expected one of {})", pl.col("_given_source"), pl.lit(", ".join(SOURCES))),
        ),
        _Check(
            "category",
            ~_missing("category") & ~pl.col("category").is_in(list(CATEGORIES)),
            pl.format(
                "unknown category {} (expected one of {})", pl.col("_given_category"), pl.lit(", ".join(CATEGORIES))
            ),
        ),
        _Check(
            "action",
            ~_missing("action") & ~pl.col("action").is_in(list(ACTIONS)),
            pl.format("unknown action {} (expected one of {})", pl.col("_given_action"), pl.lit(", ".join(ACTIONS))),
        ),
        _Check(
            "issuing_country",
            ~_missing("issuing_country") & ~pl.col("issuing_country").str.contains(r"^[A-Z]{2}$"),
            pl.format("issuing_country {} is not an ISO 3166 alpha-2 code", pl.col("_given_issuing_country")),
        ),
    ]
    for c in ("valid_from", "valid_to"):
        unreadable = pl.col(f"_{c}").is_null() & pl.col(f"_{c}_given").is_not_null() & (pl.col(f"_{c}_given") != "")
        checks.append(
            _Check(
                c, unreadable, pl.format(f"{c} {{}} is not a date (use YYYY-MM-DD or ISO 8601)", pl.col(f"_{c}_given"))
            )
        )
    checks.append(
        _Check(
            "valid_to",
            pl.col("_valid_to").is_not_null()
            & pl.col("_valid_from").is_not_null()
            & (pl.col("_valid_to") < pl.col("_valid_from")),
            "valid_to is before valid_from",
        )
    )
    kept, rejects = _reject_rows(df, input_name, checks, "alert_id")
    alerts = kept.select(
        pl.col("alert_id"),
        pl.col("source"),
        pl.col("category"),
        pl.col("issuing_country"),
        pl.col("_valid_from").alias("valid_from"),
        pl.col("_valid_to").alias("valid_to"),
        pl.col("action"),
        pl.col("case_ref"),
    )
    return alerts, rejects


def _link_check(known: pl.Series, rejected_ids: pl.Series) -> list[_Check]:
    known_l = known.implode()
    rejected_l = rejected_ids.implode()
    return [
        _Check("alert_id", _missing("alert_id"), "alert_id is missing"),
        _Check(
            "alert_id",
            ~_missing("alert_id") & pl.col("alert_id").is_in(rejected_l) & ~pl.col("alert_id").is_in(known_l),
            pl.format("points to alert {} which was rejected (see its own reject row)", pl.col("alert_id")),
        ),
        _Check(
            "alert_id",
            ~_missing("alert_id") & ~pl.col("alert_id").is_in(known_l) & ~pl.col("alert_id").is_in(rejected_l),
            pl.format("points to no alert: alert_id {} is not in the alerts table", pl.col("alert_id")),
        ),
    ]


def validate_plates(
    raw: pl.DataFrame, known: pl.Series, rejected_ids: pl.Series, input_name: str = "plates"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cleans the plate identifiers: linked to a kept alert, a plate that normalises (reason otherwise)."""
    from cgi_match.plates import normalize_plates

    df = _as_text(raw.with_row_index("_row"), ("alert_id", "country"))
    if "plate" not in df.columns:
        raise InvalidInputError(f"{input_name}: the plates table needs a 'plate' column")
    df = df.with_columns(pl.col("plate").cast(pl.String))
    norm = normalize_plates(df["plate"], keep_wildcards=True)  # witnesses' partial plates are alerts too
    df = df.with_columns(norm["reject_reason"].alias("_plate_reason"), pl.col("country").str.to_uppercase())
    checks = _link_check(known, rejected_ids)
    checks.append(_Check("plate", pl.col("_plate_reason").is_not_null(), pl.col("_plate_reason")))
    kept, rejects = _reject_rows(df, input_name, checks, "alert_id")
    return kept.select("alert_id", "plate", "country", _source_row()), rejects


def validate_fingerprints(
    raw: pl.DataFrame, known: pl.Series, rejected_ids: pl.Series, folder: Path | None, input_name: str = "fingerprints"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cleans the fingerprint identifiers: template bytes present (read from ``template_file`` if given).

    Whether the bytes are a readable template is decided by the fingerprint reader when the gallery is built;
    here a missing, unreadable or oversized file is a reject.
    """
    df = _as_text(raw.with_row_index("_row"), ("alert_id", "finger"))
    if "template" not in df.columns and "template_file" not in df.columns:
        raise InvalidInputError(f"{input_name}: the fingerprints table needs a 'template' or 'template_file' column")
    if "template" in df.columns:
        df = df.with_columns(pl.col("template").cast(pl.Binary))
    else:
        df = df.with_columns(pl.lit(None, dtype=pl.Binary).alias("template"))
    file_problem: list[str | None] = [None] * df.height
    if "template_file" in df.columns:
        # One file read per template: this is I/O, not a per-probe computation.
        blobs = df["template"].to_list()
        for i, (name, blob) in enumerate(zip(df["template_file"].cast(pl.String).to_list(), blobs, strict=True)):
            if blob is not None or not name:
                continue
            path = Path(name) if folder is None else folder / name
            try:
                size = path.stat().st_size
                if size > MAX_TEMPLATE_BYTES:
                    file_problem[i] = f"template file {name} is {size} bytes, over the {MAX_TEMPLATE_BYTES} limit"
                else:
                    blobs[i] = path.read_bytes()
            except OSError as exc:
                file_problem[i] = f"template file {name} cannot be read ({exc.strerror or exc})"
        df = df.with_columns(pl.Series("template", blobs, dtype=pl.Binary))
    df = df.with_columns(pl.Series("_file_problem", file_problem, dtype=pl.String))
    checks = _link_check(known, rejected_ids)
    checks += [
        _Check("template", pl.col("_file_problem").is_not_null(), pl.col("_file_problem")),
        _Check(
            "template",
            pl.col("_file_problem").is_null() & (pl.col("template").is_null() | (pl.col("template").bin.size() == 0)),
            "no template bytes",
        ),
    ]
    kept, rejects = _reject_rows(df, input_name, checks, "alert_id")
    return kept.select("alert_id", "finger", "template", _source_row()), rejects


def validate_dna(
    raw: pl.DataFrame, known: pl.Series, rejected_ids: pl.Series, input_name: str = "dna"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cleans the DNA identifier rows (long format); locus and allele spelling is checked by the DNA reader."""
    df = _as_text(raw.with_row_index("_row"), ("alert_id", "profile_id", "locus", "allele"))
    df = df.with_columns(pl.coalesce(pl.col("profile_id"), pl.col("alert_id")).alias("profile_id"))
    checks = _link_check(known, rejected_ids)
    checks += [
        _Check("locus", _missing("locus"), "locus is missing"),
        _Check("allele", _missing("allele"), "allele is missing"),
    ]
    kept, rejects = _reject_rows(df, input_name, checks, "alert_id")
    kind = [pl.col("kind").cast(pl.String)] if "kind" in kept.columns else []
    return kept.select("alert_id", "profile_id", "locus", "allele", *kind, _source_row()), rejects


@dataclass
class AlertSet:
    """A validated alert set: alerts, their identifiers, and the rows refused with reasons.

    ``version`` is a sha256 over the source files (or the tables when built in memory): the audit log and
    ``summary.json`` record it as the alert-set version a job consulted.
    """

    alerts: pl.DataFrame
    plates: pl.DataFrame
    fingerprints: pl.DataFrame
    dna: pl.DataFrame
    rejects: pl.DataFrame
    version: str
    rows_in: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> AlertSet:
        """Reads and validates ``folder/alerts.*`` and the identifier tables present next to it."""
        root = Path(folder)
        if not root.is_dir():
            raise StorageError(f"{root}: alert set folder not found")
        files = {n: p for n in _TABLE_NAMES if (p := find_table(root, n)) is not None}
        if "alerts" not in files:
            raise InvalidInputError(f"{root}: no alerts table (alerts.parquet, .csv, .ndjson or .jsonl)")
        tables = {n: read_table(p) for n, p in files.items()}
        h = hashlib.sha256()
        for n in sorted(files):
            h.update(f"{files[n].name}\0{sha256_file(files[n])}\n".encode())
        return cls._build(tables, {n: p.name for n, p in files.items()}, h.hexdigest(), root, files)

    @classmethod
    def from_frames(
        cls,
        alerts: pl.DataFrame,
        *,
        plates: pl.DataFrame | None = None,
        fingerprints: pl.DataFrame | None = None,
        dna: pl.DataFrame | None = None,
    ) -> AlertSet:
        """Validates tables held in memory (notebooks, tests); ``version`` hashes their Parquet bytes."""
        tables = {"alerts": alerts}
        for n, t in (("plates", plates), ("fingerprints", fingerprints), ("dna", dna)):
            if t is not None:
                tables[n] = t
        h = hashlib.sha256()
        for n in sorted(tables):
            h.update(n.encode() + b"\0")
            h.update(hashlib.sha256(tables[n].write_ipc(None).getvalue()).hexdigest().encode())
        return cls._build(tables, {n: n for n in tables}, h.hexdigest(), None, {})

    @classmethod
    def _build(
        cls,
        tables: Mapping[str, pl.DataFrame],
        names: Mapping[str, str],
        version: str,
        folder: Path | None,
        files: dict[str, Path],
    ) -> AlertSet:
        alerts, rej_a = validate_alerts(tables["alerts"], names["alerts"])
        known = alerts["alert_id"]
        rejected_ids = rej_a["record_id"].drop_nulls()
        parts = [rej_a]
        row = {"source_row": pl.Int64}
        plates = pl.DataFrame(schema={"alert_id": pl.String, "plate": pl.String, "country": pl.String, **row})
        fps = pl.DataFrame(schema={"alert_id": pl.String, "finger": pl.String, "template": pl.Binary, **row})
        dna = pl.DataFrame(
            schema={"alert_id": pl.String, "profile_id": pl.String, "locus": pl.String, "allele": pl.String, **row}
        )
        if "plates" in tables:
            plates, r = validate_plates(tables["plates"], known, rejected_ids, names["plates"])
            parts.append(r)
        if "fingerprints" in tables:
            fps, r = validate_fingerprints(tables["fingerprints"], known, rejected_ids, folder, names["fingerprints"])
            parts.append(r)
        if "dna" in tables:
            dna, r = validate_dna(tables["dna"], known, rejected_ids, names["dna"])
            parts.append(r)
        rejects = pl.concat(parts).cast(REJECTS_SCHEMA)  # type: ignore[arg-type]
        rows_in = {n: tables[n].height for n in tables}
        return cls(alerts, plates, fps, dna, rejects, version, rows_in, files)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per table: rows in, kept, rejected (``in == kept + rejected`` always holds)."""
        kept = {"alerts": self.alerts.height, "plates": self.plates.height}
        kept |= {"fingerprints": self.fingerprints.height, "dna": self.dna.height}
        out: dict[str, dict[str, int]] = {}
        for name, n_in in self.rows_in.items():
            input_name = self.files[name].name if name in self.files else name
            n_rej = int((self.rejects["input"] == input_name).sum())
            out[name] = {"in": n_in, "kept": kept[name], "rejected": n_rej}
        return out

    def alert_columns(self) -> pl.DataFrame:
        """The alert fields every hit carries, with the urgency ranks hits are sorted by."""
        return self.alerts.select(
            "alert_id",
            "category",
            "action",
            "issuing_country",
            "source",
            pl.col("category").replace_strict(CATEGORY_URGENCY, return_dtype=pl.Int32).alias("_category_rank"),
            pl.col("action").replace_strict(ACTION_URGENCY, return_dtype=pl.Int32).alias("_action_rank"),
        )

    def _repr_html_(self) -> str:
        counts = self.counts()
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{c['in']:,}</td><td>{c['kept']:,}</td><td>{c['rejected']:,}</td></tr>"
            for n, c in counts.items()
        )
        by_cat = self.alerts.group_by("category").len().sort("category")
        cats = ", ".join(f"{html.escape(str(c))}: {n:,}" for c, n in by_cat.iter_rows())
        reasons = (
            self.rejects.group_by("input", "reason").len().sort("len", descending=True).head(5)
            if self.rejects.height
            else None
        )
        rej = ""
        if reasons is not None:
            rej = (
                "<p><b>Most frequent rejects</b></p><ul>"
                + "".join(
                    f"<li>{html.escape(str(i))}: {html.escape(str(r))} ({n:,})</li>" for i, r, n in reasons.iter_rows()
                )
                + "</ul>"
            )
        return (
            f"<div><b>AlertSet</b> version <code>{self.version[:12]}</code>"
            "<table><tr><th>table</th><th>in</th><th>kept</th><th>rejected</th></tr>"
            f"{rows}</table><p>Categories: {cats or 'none'}</p>{rej}</div>"
        )

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={c['kept']}/{c['in']}" for n, c in self.counts().items())
        return f"AlertSet({parts}, version={self.version[:12]})"


def load_alert_set(folder: str | os.PathLike[str]) -> AlertSet:
    """Reads and validates an alert-set folder (see the module documentation for its layout)."""
    return AlertSet.load(folder)


__all__ = [
    "ACTIONS",
    "ACTION_URGENCY",
    "CATEGORIES",
    "CATEGORY_URGENCY",
    "SOURCES",
    "AlertSet",
    "load_alert_set",
    "read_table",
]
