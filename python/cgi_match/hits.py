"""The one hit table of all modalities (``hits.parquet``): schema, stable hit ids and the urgency order.

Each matcher's own result columns are turned by its adapter (``cgi_match.batch``) into the *raw* hit
columns :data:`RAW_HIT_SCHEMA`; :func:`unify` then adds the alert's columns, the ``hit_id`` and the job id,
and sorts by the alert's urgency (category, then action), then score descending, then modality, probe order
and alert id, so the order is total and the same for any chunking or thread count.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import polars as pl

#: Columns each modality adapter returns per chunk; ``probe_row`` is the probe's position in its input
#: (used for the deterministic tie-break, not written out); ``details`` is a JSON object of evidence.
RAW_HIT_SCHEMA: dict[str, pl.DataType] = {
    "probe_id": pl.String(),
    "probe_row": pl.Int64(),
    "alert_id": pl.String(),
    "match_kind": pl.String(),
    "score": pl.Float64(),
    "details": pl.String(),
}

#: Columns of ``hits.parquet``, in order.
HITS_SCHEMA: dict[str, pl.DataType] = {
    "hit_id": pl.String(),
    "modality": pl.String(),
    "probe_id": pl.String(),
    "alert_id": pl.String(),
    "match_kind": pl.String(),
    "score": pl.Float64(),
    "details": pl.String(),
    "category": pl.String(),
    "action": pl.String(),
    "issuing_country": pl.String(),
    "source": pl.String(),
    "job_id": pl.String(),
}

#: The modalities a job may name, in the order their hits are tie-broken.
MODALITIES = ("plates", "fingerprints", "dna")


def empty_raw_hits() -> pl.DataFrame:
    """A raw hit table with no rows."""
    return pl.DataFrame(schema=RAW_HIT_SCHEMA)


def empty_hits() -> pl.DataFrame:
    """A ``hits.parquet`` table with no rows."""
    return pl.DataFrame(schema=HITS_SCHEMA)


def parameters_digest(parameters: dict[str, Any]) -> str:
    """sha256 of a modality's match parameters in canonical JSON (part of every hit id)."""
    text = json.dumps(parameters, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def hit_ids(modality: str, probe_ids: pl.Series, alert_ids: pl.Series, params_digest: str) -> pl.Series:
    """Stable ids: the first 32 hex digits of sha256(modality, probe, alert, parameters).

    The same hit gets the same id in every run with the same parameters, whatever the chunking, so an analyst
    can refer to it across reruns and reports. One hash per *hit* (hits are few next to probes).
    """
    prefix = f"{modality}\0".encode()
    suffix = f"\0{params_digest}".encode()
    ids = [
        hashlib.sha256(prefix + p.encode() + b"\0" + a.encode() + suffix).hexdigest()[:32]
        for p, a in zip(probe_ids.to_list(), alert_ids.to_list(), strict=True)
    ]
    return pl.Series("hit_id", ids, dtype=pl.String)


def best_per_pair(raw: pl.DataFrame) -> pl.DataFrame:
    """Keeps one hit per (probe, alert): the best score (then the first kind by name), so an alert reached
    through two of its identifiers is one hit, not two."""
    if raw.is_empty():
        return raw
    return raw.sort(["probe_row", "alert_id", "score", "match_kind"], descending=[False, False, True, False]).unique(
        subset=["probe_row", "alert_id"], keep="first", maintain_order=True
    )


def unify(
    modality: str,
    raw: pl.DataFrame,
    alert_columns: pl.DataFrame,
    *,
    params_digest: str,
    job_id: str,
) -> pl.DataFrame:
    """Raw hits of one modality → hit rows with alert columns, ``hit_id`` and ``job_id``, plus the hidden
    sort keys ``_category_rank``, ``_action_rank``, ``_modality_rank`` and ``probe_row`` (see :func:`finish`)."""
    raw = best_per_pair(raw.cast(RAW_HIT_SCHEMA))  # type: ignore[arg-type]
    joined = raw.join(alert_columns, on="alert_id", how="left", maintain_order="left")
    return joined.with_columns(
        hit_ids(modality, joined["probe_id"], joined["alert_id"], params_digest),
        pl.lit(modality, dtype=pl.String).alias("modality"),
        pl.lit(job_id, dtype=pl.String).alias("job_id"),
        pl.lit(MODALITIES.index(modality), dtype=pl.Int32).alias("_modality_rank"),
    )


def finish(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenates unified parts and sorts them by urgency, then score, with a total tie-break."""
    if not parts:
        return empty_hits()
    hits = pl.concat(parts, how="diagonal_relaxed")
    hits = hits.sort(
        ["_category_rank", "_action_rank", "score", "_modality_rank", "probe_row", "alert_id"],
        descending=[False, False, True, False, False, False],
        nulls_last=True,
    )
    return hits.select([pl.col(c).cast(t) for c, t in HITS_SCHEMA.items()])


def details_json(columns: dict[str, pl.Expr]) -> pl.Expr:
    """A JSON object per row from the given evidence expressions (vectorised, keys in the given order)."""
    return pl.struct([e.alias(k) for k, e in columns.items()]).struct.json_encode()
