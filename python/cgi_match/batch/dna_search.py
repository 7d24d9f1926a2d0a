"""DNA probe profiles against the alert set's profiles, through ``cgi_match.DnaIndex`` (issue 4 contract).

Evidence kept in ``details``: loci compared and matched, how many alleles differ, RMP and LR when frequencies
are given. Never an allele: the hit table and the report carry no genotype.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

import cgi_match
from cgi_match.alerts import AlertSet, read_table
from cgi_match.batch.modality import BuiltIndex, ChunkResult, Modality, Probes, no_hits
from cgi_match.errors import InvalidInputError
from cgi_match.hits import RAW_HIT_SCHEMA, details_json, empty_raw_hits
from cgi_match.outputs import REJECTS_SCHEMA, make_rejects

#: The package seen untyped: its matcher classes are checked with ``available()`` before use, and are
#: absent from builds without that modality.
_API: Any = cgi_match


def _frequencies(spec: Any) -> Any:
    if spec is None:
        return None
    freq_cls = _API.AlleleFrequencies
    text = str(spec)
    if text.lower().endswith(".csv"):
        return freq_cls.from_csv(text)
    return freq_cls.builtin(text)


class DnaSearch(Modality):
    """Probe profiles in long rows (``probe_id, locus, allele``) against alert profiles."""

    name = "dna"

    @staticmethod
    def available() -> bool:
        """True once the DNA matcher (issue 4) is in this build."""
        return hasattr(cgi_match, "DnaIndex")

    def load_probes(self, path: Path) -> Probes:
        """Reads the long profile rows; a profile with a row lacking locus or allele is rejected whole, with a
        reject row naming each bad row, and a row without probe id is a reject of its own."""
        raw = read_table(path)
        if "probe_id" not in raw.columns and "profile_id" in raw.columns:
            raw = raw.rename({"profile_id": "probe_id"})
        for col in ("probe_id", "locus", "allele"):
            if col not in raw.columns:
                raise InvalidInputError(f"{path}: DNA probes need a {col!r} column")
        df = raw.with_row_index("_line").with_columns(
            pl.col("_line").cast(pl.Int64),
            *(pl.col(c).cast(pl.String).str.strip_chars() for c in ("probe_id", "locus", "allele")),
        )
        no_id = pl.col("probe_id").is_null() | (pl.col("probe_id") == "")
        bad_row = (
            pl.when(no_id)
            .then(pl.lit("probe_id is missing"))
            .when(pl.col("locus").is_null() | (pl.col("locus") == ""))
            .then(pl.lit("locus is missing"))
            .when(pl.col("allele").is_null() | (pl.col("allele") == ""))
            .then(pl.lit("allele is missing"))
        )
        df = df.with_columns(bad_row.alias("_reason"))
        # Probe order = first appearance of its id.
        first = df.filter(~no_id).group_by("probe_id").agg(pl.col("_line").min().alias("probe_row"))
        df = df.join(first, on="probe_id", how="left", maintain_order="left")
        bad_ids = df.filter(pl.col("_reason").is_not_null() & ~no_id)["probe_id"].unique().implode()
        rej = df.filter(pl.col("_reason").is_not_null()).select(
            pl.lit(path.name).alias("input"),
            pl.col("_line").alias("row"),
            pl.col("probe_id").alias("record_id"),
            pl.col("_reason").str.split(" ").list.first().alias("field"),
            pl.when(no_id)
            .then(pl.col("_reason"))
            .otherwise(pl.col("_reason") + pl.lit("; the whole profile is set aside"))
            .alias("reason"),
        )
        usable = ~no_id & ~pl.col("probe_id").is_in(bad_ids)
        good = df.filter(usable)
        ids = good.group_by("probe_id").agg(pl.col("probe_row").first()).sort("probe_row")
        ids = ids.with_columns(pl.int_range(0, ids.height, dtype=pl.Int64).alias("ordinal"))
        table = (
            good.drop("_reason")
            .rename({"_line": "line"})
            .join(ids.select("probe_id", "ordinal"), on="probe_id", how="left")
        )
        n_profiles = int(df.filter(~no_id)["probe_id"].n_unique())
        n_no_id = int(df.filter(no_id).height)
        n_bad = int(df.filter(~no_id & pl.col("probe_id").is_in(bad_ids))["probe_id"].n_unique())
        return Probes(
            table.sort("ordinal", "probe_row"),
            n_profiles + n_no_id,
            ids.height,
            n_bad + n_no_id,
            rej.cast(REJECTS_SCHEMA),  # type: ignore[arg-type]
        )

    def build_index(self, alerts: AlertSet, options: dict[str, Any], at: datetime) -> BuiltIndex:
        """Builds a ``DnaIndex`` over the alert profiles (``profile_id`` links back to the alert); rows its
        reader refuses (unknown locus, unreadable allele) become rejects of the DNA table."""
        cols = ["profile_id", "locus", "allele"] + (["kind"] if "kind" in alerts.dna.columns else [])
        index = _API.DnaIndex(alerts.dna.select(cols))
        refused: pl.DataFrame = index.rejects
        name = alerts.files["dna"].name if "dna" in alerts.files else "dna"
        rows = alerts.dna["source_row"].gather(refused["row"].cast(pl.UInt32))
        alert_ids = alerts.dna["alert_id"].gather(refused["row"].cast(pl.UInt32))
        rejects = make_rejects(name, rows, refused["reason"], record_ids=alert_ids, field="allele")
        link = alerts.dna.select("profile_id", "alert_id").unique(maintain_order=True)
        return BuiltIndex((index, link), len(index), rejects)

    def match_chunk(self, index: Any, chunk: pl.DataFrame, options: dict[str, Any], at: datetime) -> ChunkResult:
        """Searches one chunk of probe profiles; score = loci matched / loci compared. Rows the DNA reader
        refuses are rejects; a probe left with no readable row is refused as a whole."""
        if chunk.is_empty():
            return no_hits()
        dna_index, link = index
        cols = [pl.col("probe_id").alias("profile_id"), "locus", "allele"]
        cols += ["kind"] if "kind" in chunk.columns else []
        table = chunk.select(cols)
        profiles = _API.dna.DnaProfiles(table, input_name="probes")
        bad: pl.DataFrame = profiles.rejects
        rejects = make_rejects(
            "probes",
            chunk["line"].gather(bad["row"].cast(pl.UInt32)),
            bad["reason"],
            record_ids=bad["profile_id"],
            field="allele",
        )
        searched = profiles.ids
        refused = (
            chunk["probe_id"]
            .unique(maintain_order=True)
            .filter(~chunk["probe_id"].unique(maintain_order=True).is_in(searched.implode()))
        )
        found: pl.DataFrame = dna_index.search(
            profiles,
            rules=options["rules"],
            min_loci=options["min_loci"],
            frequencies=_frequencies(options["frequencies"]),
            theta=options["theta"],
        )
        if found.is_empty():
            return ChunkResult(empty_raw_hits(), rejects, refused)
        rows = chunk.group_by("probe_id").agg(pl.col("probe_row").first())
        found = (
            found.with_columns(pl.col("probe_id").cast(pl.String), pl.col("profile_id").cast(pl.String))
            .join(link, on="profile_id", how="inner")
            .join(rows, on="probe_id", how="left")
        )
        evidence = {
            "profile_id": pl.col("profile_id"),
            "loci_compared": pl.col("loci_compared"),
            "loci_matched": pl.col("loci_matched"),
            "mismatched_alleles": pl.col("mismatched_alleles"),
            "rmp": pl.col("rmp"),
            "lr": pl.col("lr"),
        }
        hits = found.select(
            pl.col("probe_id"),
            pl.col("probe_row"),
            pl.col("alert_id"),
            pl.col("match_class").cast(pl.String).alias("match_kind"),
            (pl.col("loci_matched").cast(pl.Float64) / pl.col("loci_compared").cast(pl.Float64)).alias("score"),
            details_json(evidence).alias("details"),
        ).cast(RAW_HIT_SCHEMA)  # type: ignore[arg-type]
        return ChunkResult(hits, rejects, refused)
