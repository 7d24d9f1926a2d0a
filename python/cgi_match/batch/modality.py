"""What the batch runner needs from a modality: read and check its probes, build its index from the alert
set, and match one chunk of probes. ``match_chunk`` is a pure function of (index, chunk, options) → raw hit
table, so a chunk can be shipped to another process or a Dask worker unchanged."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from cgi_match.alerts import AlertSet
from cgi_match.hits import empty_raw_hits
from cgi_match.outputs import empty_rejects


@dataclass
class Probes:
    """A modality's probes after checking: usable rows, and rejects with reasons.

    ``table`` has ``probe_id``, ``probe_row`` (position of the probe in its input, for the deterministic
    order) and ``ordinal`` (0 … ``n_valid``-1 over usable probes, for chunking), plus the modality's columns.
    ``n_in == n_valid + n_rejected`` (counted in probes: reads, profiles, templates).
    """

    table: pl.DataFrame
    n_in: int
    n_valid: int
    n_rejected: int
    rejects: pl.DataFrame

    def chunk(self, start: int, stop: int) -> pl.DataFrame:
        """The usable probes with ordinal in ``[start, stop)``."""
        return self.table.filter(pl.col("ordinal").is_between(start, stop, closed="left"))


@dataclass
class ChunkResult:
    """What matching one chunk produced: raw hits (``cgi_match.hits.RAW_HIT_SCHEMA``), reject rows found by
    the matcher's own reader (shared rejects schema), and the ids of probes refused *as a whole* (a probe
    with one bad row may still be searched on its other rows; only whole refusals change the counts)."""

    hits: pl.DataFrame
    rejects: pl.DataFrame
    refused: pl.Series = field(default_factory=lambda: pl.Series("probe_id", [], dtype=pl.String))


@dataclass
class BuiltIndex:
    """A modality's index over the alert set's identifiers, and identifiers its reader refused."""

    index: Any
    size: int
    rejects: pl.DataFrame


class Modality(ABC):
    """One matcher seen from a batch job."""

    name: ClassVar[str]

    @staticmethod
    @abstractmethod
    def available() -> bool:
        """Whether this build of cgi-match has the matcher (modalities land one by one)."""

    @abstractmethod
    def load_probes(self, path: Path) -> Probes:
        """Reads the probe file(s) and splits usable probes from rejects."""

    @abstractmethod
    def build_index(self, alerts: AlertSet, options: dict[str, Any], at: datetime) -> BuiltIndex:
        """Builds the index over the alert set's identifiers of this modality."""

    @abstractmethod
    def match_chunk(self, index: Any, chunk: pl.DataFrame, options: dict[str, Any], at: datetime) -> ChunkResult:
        """Matches one chunk of probes: raw hits, and probes refused by the matcher with the reason."""


def number_probes(df: pl.DataFrame, keep: pl.Expr) -> pl.DataFrame:
    """Adds ``ordinal`` (0, 1, … over rows where ``keep``) to a table that has ``probe_row``."""
    kept = df.filter(keep)
    return kept.with_columns(pl.int_range(0, kept.height, dtype=pl.Int64).alias("ordinal"))


def no_hits() -> ChunkResult:
    """A chunk result with no hit and no reject."""
    return ChunkResult(empty_raw_hits(), empty_rejects())
