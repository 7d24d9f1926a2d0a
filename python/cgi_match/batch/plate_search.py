"""Plate reads against the alert set's plates, through ``cgi_match.PlateIndex`` (issue 3 contract)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

import cgi_match
from cgi_match.alerts import AlertSet, read_table
from cgi_match.batch.modality import BuiltIndex, ChunkResult, Modality, Probes, no_hits, number_probes
from cgi_match.errors import InvalidInputError
from cgi_match.hits import RAW_HIT_SCHEMA, details_json, empty_raw_hits
from cgi_match.outputs import REJECTS_SCHEMA, make_rejects
from cgi_match.plates import normalize_plates

_MATCH_OPTIONS = ("max_ocr", "max_edits", "min_fuzzy_length", "max_ocr_short", "country_policy")


def differing_characters(read_keys: pl.Series, alert_keys: pl.Series) -> pl.Series:
    """Where two normalised plates of equal length differ, as ``"3:0>O"`` items (1-based position, read
    character, alert character); for plates of different lengths, null (an insertion or deletion)."""
    out: list[str | None] = []
    # One small loop per *hit*: the evidence an analyst reads, not a search over probes.
    for r, a in zip(read_keys.to_list(), alert_keys.to_list(), strict=True):
        if r is None or a is None or len(r) != len(a):
            out.append(None)
            continue
        out.append(" ".join(f"{i + 1}:{x}>{y}" for i, (x, y) in enumerate(zip(r, a, strict=True)) if x != y))
    return pl.Series("differing", out, dtype=pl.String)


class PlateSearch(Modality):
    """ANPR reads (``read_id, plate``, optional ``country``, ``seen_at``) against plate alerts."""

    name = "plates"

    @staticmethod
    def available() -> bool:
        """True once the plate matcher (issue 3) is in this build."""
        return hasattr(cgi_match, "PlateIndex")

    def load_probes(self, path: Path) -> Probes:
        """Reads the reads table; missing or repeated read ids and plates that do not normalise are rejects."""
        raw = read_table(path)
        if "read_id" not in raw.columns and "probe_id" in raw.columns:
            raw = raw.rename({"probe_id": "read_id"})
        for col in ("read_id", "plate"):
            if col not in raw.columns:
                raise InvalidInputError(f"{path}: plate reads need a {col!r} column")
        df = raw.with_row_index("probe_row").with_columns(
            pl.col("probe_row").cast(pl.Int64),
            pl.col("read_id").cast(pl.String).alias("probe_id"),
            pl.col("plate").cast(pl.String),
        )
        # A read may be a witness's partial plate with ``?`` / ``*``: the matcher treats it as a pattern.
        norm = normalize_plates(df["plate"], keep_wildcards=True)
        reason = (
            pl.when(pl.col("probe_id").is_null() | (pl.col("probe_id") == ""))
            .then(pl.lit("read_id is missing"))
            .when(pl.col("probe_id").is_duplicated())
            .then(pl.lit("read_id occurs more than once in the reads"))
            .otherwise(pl.col("_plate_reason"))
        )
        df = df.with_columns(norm["reject_reason"].alias("_plate_reason")).with_columns(reason.alias("_reason"))
        rej = df.filter(pl.col("_reason").is_not_null()).select(
            pl.lit(path.name).alias("input"),
            pl.col("probe_row").alias("row"),
            pl.col("probe_id").alias("record_id"),
            pl.when(pl.col("_plate_reason").is_not_null() & ~pl.col("_reason").str.starts_with("read_id"))
            .then(pl.lit("plate"))
            .otherwise(pl.lit("read_id"))
            .alias("field"),
            pl.col("_reason").alias("reason"),
        )
        table = number_probes(df, pl.col("_reason").is_null()).drop("_reason", "_plate_reason")
        return Probes(table, raw.height, table.height, rej.height, rej.cast(REJECTS_SCHEMA))  # type: ignore[arg-type]

    def build_index(self, alerts: AlertSet, options: dict[str, Any], at: datetime) -> BuiltIndex:
        """Builds a ``PlateIndex`` over the alert plates with each alert's validity period; rows the index
        refuses (the alert set's checks let few through) become rejects of the plates table."""
        table = alerts.plates.join(
            alerts.alerts.select("alert_id", "valid_from", "valid_to"), on="alert_id", how="left", maintain_order="left"
        )
        index = cgi_match.PlateIndex(table.select("alert_id", "plate", "country", "valid_from", "valid_to"))
        refused = index.rejects
        name = alerts.files["plates"].name if "plates" in alerts.files else "plates"
        # The index numbers rows of the table it was given; report the row of the alert-set file instead.
        source_rows = table["source_row"].gather(refused["row"].cast(pl.UInt32))
        rejects = make_rejects(name, source_rows, refused["reason"], record_ids=refused["alert_id"], field="plate")
        return BuiltIndex(index, len(index), rejects)

    def match_chunk(self, index: Any, chunk: pl.DataFrame, options: dict[str, Any], at: datetime) -> ChunkResult:
        """Matches one chunk of reads; evidence: both plates, the distance and the differing characters."""
        if chunk.is_empty():
            return no_hits()
        cols = [c for c in ("read_id", "plate", "country", "seen_at") if c in chunk.columns]
        kwargs = {k: options[k] for k in _MATCH_OPTIONS}
        result = index.match_with_rejects(chunk.select(cols), at=at, **kwargs)
        refused = result.rejects.with_columns(pl.col("read_id").cast(pl.String)).join(
            chunk.select("read_id", "probe_row"), on="read_id", how="left", maintain_order="left"
        )
        rejects = make_rejects(
            "reads", refused["probe_row"], refused["reason"], record_ids=refused["read_id"], field="plate"
        )
        found: pl.DataFrame = result.hits
        if found.is_empty():
            return ChunkResult(empty_raw_hits(), rejects, refused["read_id"].cast(pl.String))
        found = found.with_columns(pl.col("read_id").cast(pl.String), pl.col("alert_id").cast(pl.String))
        found = found.join(chunk.select("read_id", "probe_row"), on="read_id", how="left", maintain_order="left")
        keys_r = normalize_plates(found["read_plate"], keep_wildcards=True)["plate_key"]
        keys_a = normalize_plates(found["alert_plate"], keep_wildcards=True)["plate_key"]
        found = found.with_columns(differing_characters(keys_r, keys_a))
        evidence = {
            "read_plate": pl.col("read_plate"),
            "alert_plate": pl.col("alert_plate"),
            "distance": pl.col("distance").cast(pl.Float64).round(3),
            "differing": pl.col("differing"),
        }
        hits = found.select(
            pl.col("read_id").alias("probe_id"),
            pl.col("probe_row"),
            pl.col("alert_id"),
            pl.col("match_kind").cast(pl.String),
            pl.col("score").cast(pl.Float64),
            details_json(evidence).alias("details"),
        ).cast(RAW_HIT_SCHEMA)  # type: ignore[arg-type]
        return ChunkResult(hits, rejects, refused["read_id"].cast(pl.String))
