"""Fingerprint probe templates against the alert set's templates, through ``cgi_match.FingerprintGallery``
(issue 5 contract). Evidence kept in ``details``: finger, rank and (when the matcher reports it) the number
of paired minutiae. Never a template or a minutia."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

import cgi_match
from cgi_match.alerts import AlertSet, read_table
from cgi_match.batch.modality import BuiltIndex, ChunkResult, Modality, Probes, no_hits
from cgi_match.errors import CgiMatchError, InvalidInputError
from cgi_match.hits import RAW_HIT_SCHEMA, details_json
from cgi_match.outputs import REJECTS_SCHEMA, empty_rejects, make_rejects

_EVIDENCE = ("paired_minutiae", "paired_minutiae_count", "minutiae_paired")

#: The package seen untyped: its matcher classes are checked with ``available()`` before use, and are
#: absent from builds without that modality.
_API: Any = cgi_match


def _parse(blobs: list[bytes | None]) -> tuple[list[Any], list[str | None]]:
    """Each template's parsed object or the reader's error (naming field and byte offset)."""
    parsed: list[Any] = []
    errors: list[str | None] = []
    template_cls = _API.FingerprintTemplate
    # The contract reads one template at a time; a bad one must become a reject, not stop the job.
    for blob in blobs:
        if blob is None:
            parsed.append(None)
            errors.append("no template bytes")
            continue
        try:
            parsed.append(template_cls.from_bytes(blob))
            errors.append(None)
        except (CgiMatchError, ValueError) as exc:
            parsed.append(None)
            errors.append(f"unreadable template: {exc}")
    return parsed, errors


class FingerprintSearch(Modality):
    """Probe templates (a folder of files, or a table ``probe_id, template``) against alert templates."""

    name = "fingerprints"

    @staticmethod
    def available() -> bool:
        """True once the fingerprint matcher and gallery (issue 5) are in this build."""
        return hasattr(cgi_match, "FingerprintGallery") and hasattr(cgi_match, "FingerprintTemplate")

    def load_probes(self, path: Path) -> Probes:
        """Reads probe templates; an unreadable, oversized or duplicated one is a reject with the reason.

        A folder goes through ``cgi_match.fingerprints.read_template_folder`` (every format detected by
        structure, read in parallel in Rust; id = file name without ending); the chunks then carry each
        template as ISO 19794-2 bytes, so a chunk is plain Arrow data that can be shipped to a worker."""
        if path.is_dir():
            folder = _API.fingerprints.read_template_folder(path)
            n_ok = len(folder.templates)
            ids = [tid for tid, _ in folder.templates]
            good = pl.DataFrame(
                {
                    "probe_id": pl.Series(ids, dtype=pl.String),
                    "template": pl.Series([t.to_iso19794_2() for _, t in folder.templates], dtype=pl.Binary),
                }
            ).with_columns(
                pl.int_range(0, n_ok, dtype=pl.Int64).alias("probe_row"),
                pl.int_range(0, n_ok, dtype=pl.Int64).alias("ordinal"),
            )
            rej = folder.rejects.with_columns(pl.lit(path.name).alias("input"), pl.lit("template").alias("field"))
            # A file that fails to read is one probe that was refused.
            n_bad = rej.height
            return Probes(good, n_ok + n_bad, n_ok, n_bad, rej.cast(REJECTS_SCHEMA))
        table = read_table(path)
        if "probe_id" not in table.columns or "template" not in table.columns:
            raise InvalidInputError(f"{path}: fingerprint probes need 'probe_id' and 'template' columns")
        ids = table["probe_id"].cast(pl.String).to_list()
        blobs: list[bytes | None] = table["template"].cast(pl.Binary).to_list()
        input_name = path.name
        _, errors = _parse(blobs)
        df = pl.DataFrame(
            {
                "probe_id": pl.Series(ids, dtype=pl.String),
                "template": pl.Series(blobs, dtype=pl.Binary),
                "probe_row": pl.int_range(0, len(ids), dtype=pl.Int64, eager=True),
                "_error": pl.Series(errors, dtype=pl.String),
            }
        )
        dup = pl.col("probe_id").is_duplicated()
        df = df.with_columns(
            pl.when(pl.col("probe_id").is_null() | (pl.col("probe_id") == ""))
            .then(pl.lit("probe_id is missing"))
            .when(dup)
            .then(pl.lit("probe_id occurs more than once"))
            .otherwise(pl.col("_error"))
            .alias("_reason")
        )
        bad = df.filter(pl.col("_reason").is_not_null())
        rej = make_rejects(
            input_name, bad["probe_row"], bad["_reason"], record_ids=bad["probe_id"], field="template"
        ).cast(REJECTS_SCHEMA)  # type: ignore[arg-type]
        # The chunk keeps the template *bytes* (plain Arrow, shippable to a worker) and is parsed again there.
        good = df.filter(pl.col("_reason").is_null()).drop("_error", "_reason")
        good = good.with_columns(pl.int_range(0, good.height, dtype=pl.Int64).alias("ordinal"))
        return Probes(good, df.height, good.height, bad.height, rej)

    def build_index(self, alerts: AlertSet, options: dict[str, Any], at: datetime) -> BuiltIndex:
        """Adds every readable alert template to a ``FingerprintGallery`` (subject = alert id)."""
        fps = alerts.fingerprints.with_row_index("_row")
        parsed, errors = _parse(fps["template"].to_list())
        gallery = _API.FingerprintGallery()
        keep = [t is not None for t in parsed]
        templates = [t for t in parsed if t is not None]
        # The alert table's finger is the ISO position 0-10 as text; a blank one takes the template's own.
        given = fps["finger"].cast(pl.String).str.strip_chars().cast(pl.Int64, strict=False).to_list()
        fingers = [
            g if g is not None and 0 <= g <= 10 else int(t.finger_position)
            for g, t, k in zip(given, parsed, keep, strict=True)
            if k
        ]
        ids = fps.filter(pl.Series(keep, dtype=pl.Boolean))["alert_id"]
        if templates:
            gallery.add_many(ids, templates, fingers)
        added = len(templates)
        bad = fps.with_columns(pl.Series("_error", errors, dtype=pl.String)).filter(pl.col("_error").is_not_null())
        name = alerts.files["fingerprints"].name if "fingerprints" in alerts.files else "fingerprints"
        rej = make_rejects(name, bad["source_row"], bad["_error"], record_ids=bad["alert_id"], field="template")
        return BuiltIndex(gallery, added, rej.cast(REJECTS_SCHEMA))  # type: ignore[arg-type]

    def match_chunk(self, index: Any, chunk: pl.DataFrame, options: dict[str, Any], at: datetime) -> ChunkResult:
        """Searches one chunk of probe templates; score is the matcher's similarity in [0, 1]."""
        if chunk.is_empty():
            return no_hits()
        parsed, _ = _parse(chunk["template"].to_list())
        probes = dict(zip(chunk["probe_id"].to_list(), parsed, strict=True))
        found: pl.DataFrame = index.search_many(
            probes,
            top_k=options["top_k"],
            threshold=options["threshold"],
            exhaustive=options["exhaustive"],
            penetration=options["penetration"],
            prefilter=options.get("prefilter", "scan"),
        )
        if found.is_empty():
            return no_hits()
        found = found.with_columns(pl.col("probe_id").cast(pl.String), pl.col("subject_id").cast(pl.String))
        found = found.join(chunk.select("probe_id", "probe_row"), on="probe_id", how="left", maintain_order="left")
        evidence: dict[str, pl.Expr] = {"finger": pl.col("finger").cast(pl.String), "rank": pl.col("rank")}
        evidence |= {c: pl.col(c) for c in _EVIDENCE if c in found.columns}
        hits = found.select(
            pl.col("probe_id"),
            pl.col("probe_row"),
            pl.col("subject_id").alias("alert_id"),
            pl.lit("minutiae", dtype=pl.String).alias("match_kind"),
            pl.col("score").cast(pl.Float64),
            details_json(evidence).alias("details"),
        ).cast(RAW_HIT_SCHEMA)  # type: ignore[arg-type]
        return ChunkResult(hits, empty_rejects())
