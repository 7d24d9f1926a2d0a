"""Fingerprint matching: ``compare`` (1:1) and ``FingerprintGallery`` (1:N) over ``FingerprintTemplate``.

The matcher is Minutia Cylinder-Code with LSS-R consolidation (Cappelli, Ferrara & Maltoni 2010) in the Rust
core. A score lies in [0, 1]: the mean relaxed similarity of the best-agreeing minutia pairs; pick a
threshold from the threshold table of an evaluation (``cgi-match eval fingerprints``), e.g. the score at
FMR 0.1 % on data like yours. Results are polars DataFrames; comparisons run in Rust with the GIL released.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow as pa

from cgi_match import _core
from cgi_match._columns import str_array, str_buffers
from cgi_match.fingerprints import FingerprintTemplate

#: Columns of a search result, in order (``search_many`` puts ``probe_id`` first).
HIT_COLUMNS = ("subject_id", "finger", "score", "rank")


def compare(a: FingerprintTemplate, b: FingerprintTemplate) -> float:
    """Similarity of two templates in [0, 1] (1 = identical minutiae; see the module doc)."""
    return float(_core.compare_fingerprints(a, b))


def compare_pairs(
    templates: Sequence[FingerprintTemplate], left: Sequence[int] | np.ndarray, right: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Scores of the pairs ``(templates[left[i]], templates[right[i]])``, computed in parallel in Rust."""
    return _core.compare_fingerprint_pairs(
        list(templates), np.asarray(left, dtype=np.uint32), np.asarray(right, dtype=np.uint32)
    )


def _hits_frame(columns: tuple[Any, ...]) -> pl.DataFrame:
    probe, (offsets, data, valid), finger, score, rank = columns
    table = pa.table(
        {
            "probe": pa.array(probe, type=pa.uint32()),
            "subject_id": str_array(offsets, data, valid),
            "finger": pa.array(finger, type=pa.uint8()),
            "score": pa.array(score, type=pa.float32()),
            "rank": pa.array(rank, type=pa.uint32()),
        }
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.col("subject_id").cast(pl.String))


class FingerprintGallery:
    """Templates of many subjects (up to ten fingers each), searched with a probe for a top-k list.

    A subject's score is the best score of any of its fingers (max rule); rows are ordered by score, then
    subject id. ``exhaustive=True`` (the default) compares the probe with every template; ``exhaustive=False``
    compares only the ``penetration`` share picked by a pre-filter: ``prefilter="scan"`` (the default: exact
    cylinder similarity of the probe's 32 fullest cylinders against every gallery cylinder, vectorised) or
    ``prefilter="hashing"`` (cylinder hashing with rotation-consistent voting: cheaper per template, but loses
    about one mate in five). Both are much faster than exhaustive search on large galleries but can miss mates
    of weak matches (their recall against exhaustive search is measured in BENCHMARKS.md). Picklable;
    ``save``/``load`` use a versioned, checksummed file.
    """

    def __init__(self) -> None:
        self._core = _core.FingerprintGallery()

    @classmethod
    def _wrap(cls, core: _core.FingerprintGallery) -> FingerprintGallery:
        gallery = cls.__new__(cls)
        gallery._core = core
        return gallery

    def add(self, subject_id: str, template: FingerprintTemplate, finger: int | None = None) -> None:
        """Adds one template; ``finger`` is the ISO position (1 right thumb … 10 left little, 0 unknown),
        taken from the template when not given."""
        self.add_many([subject_id], [template], None if finger is None else [finger])

    def add_many(
        self,
        subject_ids: Iterable[str] | pl.Series | pa.Array,
        templates: Sequence[FingerprintTemplate],
        fingers: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        """Adds many templates at once (prepared in parallel in Rust)."""
        templates = list(templates)
        ids = subject_ids if isinstance(subject_ids, pl.Series | pa.Array) else list(subject_ids)
        if fingers is None:
            finger_codes = np.fromiter((t.finger_position for t in templates), dtype=np.int64, count=len(templates))
        else:
            finger_codes = np.asarray(fingers, dtype=np.int64)
        if ((finger_codes < 0) | (finger_codes > 10)).any():
            raise _core_invalid("finger must be 0 (unknown) or 1 to 10")
        offsets, data, valid = str_buffers(ids)
        self._core._add_many(offsets, data, valid, templates, finger_codes.astype(np.uint8))

    def search(
        self,
        probe: FingerprintTemplate,
        top_k: int = 10,
        threshold: float | None = None,
        *,
        exhaustive: bool = True,
        penetration: float = 0.05,
        prefilter: Literal["hashing", "scan"] = "scan",
    ) -> pl.DataFrame:
        """The ``top_k`` best subjects for one probe: ``subject_id, finger, score, rank``."""
        columns = self._core._search(
            probe,
            top_k=top_k,
            threshold=threshold,
            exhaustive=exhaustive,
            penetration=penetration,
            prefilter=prefilter,
        )
        return _hits_frame(columns).select(HIT_COLUMNS)

    def search_many(
        self,
        probes: Mapping[str, FingerprintTemplate] | pl.DataFrame,
        top_k: int = 10,
        threshold: float | None = None,
        *,
        exhaustive: bool = True,
        penetration: float = 0.05,
        prefilter: Literal["hashing", "scan"] = "scan",
    ) -> pl.DataFrame:
        """Searches many probes in parallel: ``probe_id, subject_id, finger, score, rank``, in probe order.

        ``probes`` is a dict id → template or a DataFrame with columns ``probe_id`` and ``template``.
        """
        if isinstance(probes, pl.DataFrame):
            missing = {"probe_id", "template"} - set(probes.columns)
            if missing:
                raise _core_invalid(f"probe table lacks column(s) {sorted(missing)}")
            ids = probes["probe_id"].cast(pl.String).to_arrow()
            templates = probes["template"].to_list()
        else:
            ids = pa.array(list(probes.keys()), type=pa.large_string())
            templates = list(probes.values())
        columns = self._core._search_many(
            templates,
            top_k=top_k,
            threshold=threshold,
            exhaustive=exhaustive,
            penetration=penetration,
            prefilter=prefilter,
        )
        hits = _hits_frame(columns)
        probe_ids = pl.from_arrow(pa.array(ids).take(hits["probe"].to_arrow()))
        assert isinstance(probe_ids, pl.Series)
        return hits.with_columns(probe_ids.cast(pl.String).alias("probe_id")).select("probe_id", *HIT_COLUMNS)

    def __len__(self) -> int:
        return len(self._core)

    @property
    def subject_count(self) -> int:
        """Number of distinct subjects."""
        return int(self._core.subject_count)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the gallery file (versioned, with a checksum; written atomically)."""
        self._core.save(str(Path(path)))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FingerprintGallery:
        """Reads a gallery file; ``IndexFileError`` when it is corrupted, truncated or foreign."""
        return cls._wrap(_core.FingerprintGallery.load(str(Path(path))))

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (_from_bytes, (self._core.to_bytes(),))

    def __repr__(self) -> str:
        return f"FingerprintGallery({len(self)} templates, {self.subject_count} subjects)"


def _from_bytes(data: bytes) -> FingerprintGallery:
    """Unpickles a gallery from its file format."""
    return FingerprintGallery._wrap(_core.FingerprintGallery.from_bytes(data))


def _core_invalid(message: str) -> Exception:
    from cgi_match.errors import InvalidInputError

    return InvalidInputError(message)
