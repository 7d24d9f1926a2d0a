"""Plate normalisation through the Python API: behaviour users rely on, and properties that must hold."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cgi_match
from cgi_match import normalize_plate, normalize_plates


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("1-abc-123", "1ABC123"),
        ("AB-123-CD", "AB123CD"),
        ("M ÖÄ 123", "MOA123"),
        ("СВ 1234 РН", "CB1234PH"),  # Bulgarian, Cyrillic look-alikes
        ("ΙΚΥ-1234", "IKY1234"),  # Greek
        ("ＡＢ１２", "AB12"),  # full-width forms
    ],
)
def test_normalize_plate(raw: str, key: str) -> None:
    assert normalize_plate(raw) == key


@pytest.mark.parametrize("bad", ["", "  ", "--", "AB\n12", "ABCDEFGHIJKLM"])
def test_not_a_plate(bad: str) -> None:
    with pytest.raises(cgi_match.InvalidInputError):
        normalize_plate(bad)


def test_column_accounts_for_every_row_and_keeps_order() -> None:
    series = pl.Series(["ab-1", None, "--", "cd 2", "x\ty"])
    out = normalize_plates(series)
    assert out["plate_key"].to_list() == ["AB1", None, None, "CD2", None]
    assert out["reject_reason"].to_list() == [
        None,
        "plate is empty",
        "plate has no letters or digits",
        None,
        "plate contains a control character",
    ]


def test_column_accepts_arrow_slices_and_chunks() -> None:
    arr = pa.chunked_array([["zz", "ab-1"], ["cd-2"]]).combine_chunks().slice(1)
    assert normalize_plates(arr)["plate_key"].to_list() == ["AB1", "CD2"]
    chunked = pa.chunked_array([["a1"], ["b2", None]])
    assert normalize_plates(chunked)["plate_key"].to_list() == ["A1", "B2", None]
    assert normalize_plates(pl.Series([], dtype=pl.String)).height == 0


@given(st.text(max_size=20))
def test_normalisation_is_idempotent_and_agrees_with_the_column_path(text: str) -> None:
    try:
        key = normalize_plate(text)
    except cgi_match.InvalidInputError:
        assert normalize_plates([text])["plate_key"][0] is None
        return
    assert normalize_plate(key) == key
    assert normalize_plates([text])["plate_key"][0] == key
