"""Licence plates: normalisation to the key that matching compares."""

from __future__ import annotations

from typing import Any

import polars as pl

from cgi_match import _core
from cgi_match._columns import str_array, str_buffers

#: Reject code → the sentence a person reads in ``rejects.parquet``.
PLATE_REJECT_REASONS: dict[int, str] = dict(_core.plate_reject_reasons())


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
