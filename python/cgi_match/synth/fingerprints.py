"""Synthetic fingerprint templates from the Rust generator (``finger/synth.rs``): master minutiae sets with a
ridge-flow orientation field and impressions with distortion, partial area, missing and spurious minutiae.

Everything crosses the boundary as numpy / Arrow columns; no Python loop runs per minutia. Parameters of the
model (see the Rust module doc for their meaning and sources) can be overridden by keyword, e.g.
``missing_rate=0.3`` or ``rotation_sd_deg=20``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from cgi_match import _core


def generate(subjects: int, impressions: int, *, fingers: int = 1, seed: int = 0, **params: float) -> pl.DataFrame:
    """One row per template: ground truth (``subject_id``, ``finger``, ``impression``, ``template_id`` in the
    FVC ``FINGER_IMPRESSION`` naming) and the minutiae as list columns ``x``, ``y`` (500 ppi pixels),
    ``angle`` (degrees), ``type`` (0 other, 1 ending, 2 bifurcation) and ``quality``."""
    cols = _core.synth_fingerprint_columns(subjects, impressions, fingers=fingers, seed=seed, params=params or None)
    offsets = pa.array(cols["offsets"], type=pa.int64())
    lists = pa.table(
        {
            name: pa.LargeListArray.from_arrays(offsets, pa.array(cols[name]))
            for name in ("x", "y", "angle", "type", "quality")
        }
    )
    return pl.concat([_ground_truth(cols, fingers), pl.DataFrame(lists)], how="horizontal").with_columns(
        pl.lit(cols["width"], pl.UInt16).alias("width"), pl.lit(cols["height"], pl.UInt16).alias("height")
    )


def templates(
    subjects: int, impressions: int, *, fingers: int = 1, seed: int = 0, **params: float
) -> tuple[pl.DataFrame, list[_core.FingerprintTemplate]]:
    """Ground truth table and the matching ``FingerprintTemplate`` objects, in the same order."""
    out = _core.synth_fingerprint_templates(subjects, impressions, fingers=fingers, seed=seed, params=params or None)
    templates: list[_core.FingerprintTemplate] = out["templates"]
    return _ground_truth(out, fingers), templates


def write_iso_folder(
    out_dir: str | Path, subjects: int, impressions: int, *, fingers: int = 1, seed: int = 0, **params: float
) -> pl.DataFrame:
    """Writes one ISO 19794-2 file per template, ``FINGER_IMPRESSION.iso`` (FVC naming: ``FINGER`` numbers
    every finger of every subject from 1, ``IMPRESSION`` from 1), and returns the ground truth table with a
    ``file`` column. The records are encoded in Rust; Python only writes the files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = _core.synth_fingerprint_iso(subjects, impressions, fingers=fingers, seed=seed, params=params or None)
    truth = _ground_truth(cols, fingers).with_columns((pl.col("template_id") + ".iso").alias("file"))
    offsets: np.ndarray[Any, np.dtype[np.int64]] = cols["iso_offsets"]
    data: np.ndarray[Any, np.dtype[np.uint8]] = cols["iso_data"]
    for i, name in enumerate(truth["file"]):
        (out / name).write_bytes(data[offsets[i] : offsets[i + 1]].tobytes())
    return truth


def _ground_truth(cols: dict[str, Any], fingers: int) -> pl.DataFrame:
    subject = pl.Series("subject_id", cols["subject"], dtype=pl.UInt32)
    finger = pl.Series("finger", cols["finger"], dtype=pl.UInt8)
    impression = pl.Series("impression", cols["impression"], dtype=pl.UInt16)
    frame = pl.DataFrame([subject, finger, impression])
    finger_id = pl.col("subject_id").cast(pl.Int64) * fingers + pl.col("finger").cast(pl.Int64)
    return frame.with_columns(
        finger_id.alias("finger_id"),
        pl.format("{}_{}", finger_id, pl.col("impression").cast(pl.Int64) + 1).alias("template_id"),
    )


__all__ = ["generate", "templates", "write_iso_folder"]
