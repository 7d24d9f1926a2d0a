"""FingerprintTemplate: reading every format, writing, numpy minutiae, pickling, reprs without biometric data,
folder reading with rejects, and the synthetic generator and its CLI."""

from __future__ import annotations

import contextlib
import json
import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cgi_match
from cgi_match import FingerprintTemplate, FormatError, InvalidInputError, read_template_folder
from cgi_match.cli import main
from cgi_match.outputs import REJECTS_SCHEMA

DEVSET = Path(__file__).resolve().parents[2] / "shared" / "data" / "fingerprints" / "fvc2002_db2_b"


@pytest.fixture(scope="module")
def synthetic() -> list[FingerprintTemplate]:
    _, templates = cgi_match.synth.fingerprints.templates(4, 2, seed=3)
    return templates


def test_every_format_reads_back_the_same_minutiae(synthetic: list[FingerprintTemplate]) -> None:
    t = synthetic[0]
    iso = FingerprintTemplate.from_bytes(t.to_iso19794_2())
    ansi = FingerprintTemplate.from_bytes(t.to_ansi378())
    assert FingerprintTemplate.from_iso19794_2(t.to_iso19794_2()).minutiae.shape == t.minutiae.shape
    assert FingerprintTemplate.from_ansi378(t.to_ansi378()).minutiae.shape == t.minutiae.shape
    xyt = FingerprintTemplate.from_xyt(t.to_xyt(), image_height=t.height)
    for other, angle_tol in ((iso, 0.71), (ansi, 1.01), (xyt, 0.51)):
        assert len(other) == len(t)
        d = np.abs(other.minutiae - t.minutiae)
        assert d[:, :2].max() <= 1.0  # positions round to source pixels (ISO at 197 px/cm ≈ 500.4 ppi)
        angle = np.minimum(d[:, 2], 360 - d[:, 2])
        assert angle.max() <= angle_tol
    # Types survive ISO and ANSI; .xyt has none.
    assert np.array_equal(iso.minutiae[:, 3], t.minutiae[:, 3])
    assert set(np.unique(xyt.minutiae[:, 3])) == {0.0}
    assert t.width == 288
    assert t.height == 384


def test_iso_output_round_trips_byte_for_byte(synthetic: list[FingerprintTemplate]) -> None:
    data = synthetic[1].to_iso19794_2()
    assert FingerprintTemplate.from_bytes(data).to_iso19794_2() == data


def test_from_minutiae_accepts_3_4_and_5_columns_and_checks_values() -> None:
    a = np.array([[10.0, 20.0, 45.0, 1.0, 80.0], [100.0, 50.0, 350.0, 2.0, 0.0]])
    t5 = FingerprintTemplate.from_minutiae(a, finger_position=3)
    assert np.allclose(t5.minutiae, a, atol=1e-4)
    assert (t5.finger_position, t5.width, t5.height) == (3, 101, 51)
    t3 = FingerprintTemplate.from_minutiae(a[:, :3], resolution_ppi=1000)
    assert np.allclose(t3.minutiae[:, :2], a[:, :2] / 2)
    assert np.all(t3.minutiae[:, 3] == 0)
    assert len(FingerprintTemplate.from_minutiae(a[:, :4])) == 2
    as_ints = FingerprintTemplate.from_minutiae(a.astype(np.int32).tolist())
    assert np.allclose(as_ints.minutiae, a.astype(np.int32), atol=1e-4)
    assert len(FingerprintTemplate.from_minutiae(np.empty((0, 5)))) == 0
    with pytest.raises(InvalidInputError, match="2-D"):
        FingerprintTemplate.from_minutiae(np.zeros(5))
    for bad in (a[:, :2], np.c_[a[:, :3], [[3.0], [1.0]]], np.c_[a[:, :4], [[101.0], [0.0]]], a * np.nan):
        with pytest.raises(InvalidInputError):
            FingerprintTemplate.from_minutiae(bad)
    with pytest.raises(InvalidInputError):
        FingerprintTemplate.from_minutiae(np.zeros((256, 3)))


def test_pickle_is_exact(synthetic: list[FingerprintTemplate]) -> None:
    for t in synthetic:
        back = pickle.loads(pickle.dumps(t))
        assert np.array_equal(back.minutiae, t.minutiae)
        assert (back.width, back.height, back.resolution_ppi, back.finger_position) == (
            t.width,
            t.height,
            t.resolution_ppi,
            t.finger_position,
        )


def test_reprs_show_counts_never_coordinates() -> None:
    a = np.array([[123.0, 456.0, 78.0, 1.0, 90.0]])
    t = FingerprintTemplate.from_minutiae(a, width=300, height=500)
    for text in (repr(t), t._repr_html_()):
        assert "minutiae" in text
        for secret in ("123", "456", "78"):
            assert secret not in text


def test_malformed_bytes_raise_format_error_naming_the_field(synthetic: list[FingerprintTemplate]) -> None:
    data = bytearray(synthetic[0].to_iso19794_2())
    data[28] = 0xFF  # first minutia x beyond the image width
    data[29] = 0xFF
    with pytest.raises(FormatError, match=r"minutia x / y.*byte 28"):
        FingerprintTemplate.from_iso19794_2(bytes(data))
    with pytest.raises(FormatError, match="not a minutiae template"):
        FingerprintTemplate.from_bytes(b"\x89PNG")
    with pytest.raises(InvalidInputError, match="view 1"):
        FingerprintTemplate.from_bytes(synthetic[0].to_iso19794_2(), view=1)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_arbitrary_bytes_raise_only_cgi_match_errors(data: bytes, fmr: bool) -> None:
    if fmr:
        data = b"FMR\x00 20\x00" + data
    with contextlib.suppress(cgi_match.CgiMatchError):
        FingerprintTemplate.from_bytes(data)


def test_read_template_folder_keeps_good_files_and_rejects_bad_ones(
    tmp_path: Path, synthetic: list[FingerprintTemplate]
) -> None:
    (tmp_path / "1_1.iso").write_bytes(synthetic[0].to_iso19794_2())
    (tmp_path / "1_2.ansi").write_bytes(synthetic[1].to_ansi378())
    (tmp_path / "2_1.xyt").write_text(synthetic[2].to_xyt())
    (tmp_path / "2_2.iso").write_bytes(synthetic[3].to_iso19794_2()[:-5])
    (tmp_path / "notes.md").write_text("not a template")
    folder = read_template_folder(tmp_path)
    assert [tid for tid, _ in folder.templates] == ["1_1", "1_2", "2_1"]
    assert folder.rejects.schema == pl.Schema(REJECTS_SCHEMA)
    assert folder.rejects["record_id"].to_list() == ["2_2"]
    assert "2_2.iso" in folder.rejects["reason"][0]
    assert "record length" in folder.rejects["reason"][0]


@pytest.mark.skipif(not DEVSET.is_dir(), reason="../shared/data not present")
def test_devset_folder_reads_completely() -> None:
    folder = read_template_folder(DEVSET)
    assert len(folder.templates) == 80
    assert folder.rejects.height == 0


def test_synthetic_columns_are_deterministic_and_carry_ground_truth() -> None:
    a = cgi_match.synth.fingerprints.generate(3, 4, fingers=2, seed=9)
    b = cgi_match.synth.fingerprints.generate(3, 4, fingers=2, seed=9)
    assert a.equals(b)
    assert a.height == 24
    assert a["template_id"][:3].to_list() == ["1_1", "1_2", "1_3"]
    assert a["finger_id"].n_unique() == 6
    counts = a["x"].list.len()
    assert counts.min() is not None
    assert 5 <= counts.mean() <= 80  # type: ignore[operator]
    with pytest.raises(InvalidInputError, match="unknown synthetic"):
        cgi_match.synth.fingerprints.generate(1, 1, no_such_parameter=1.0)


def test_cli_synth_fingerprints_writes_fvc_named_iso_files(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    result = CliRunner().invoke(
        main,
        [
            "synth",
            "fingerprints",
            "--subjects",
            "3",
            "--impressions",
            "2",
            "--out",
            str(out),
            "--param",
            "missing_rate=0.2",
        ],
    )
    assert result.exit_code == 0, result.output
    truth = pl.read_parquet(out / "ground_truth.parquet")
    assert sorted(p.name for p in out.glob("*.iso")) == sorted(truth["file"].to_list())
    assert truth.height == 6
    folder = read_template_folder(out)
    assert len(folder.templates) == 6
    assert folder.rejects.height == 0
    assert json.loads((out / "summary.json").read_text())["counts"]["templates"] == 6
    bad = CliRunner().invoke(
        main, ["synth", "fingerprints", "--subjects", "1", "--impressions", "1", "--out", str(out), "--param", "x"]
    )
    assert bad.exit_code != 0


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2000),
            st.integers(0, 2000),
            st.floats(0, 359.9),
            st.integers(0, 2),
            st.integers(0, 100),
        ),
        max_size=255,
    ),
    st.sampled_from([250.0, 500.0, 1000.0]),
)
def test_minutiae_array_round_trips_through_every_writer(
    rows: list[tuple[int, int, float, int, int]], ppi: float
) -> None:
    a = np.array(rows, dtype=np.float64).reshape(-1, 5)
    t = FingerprintTemplate.from_minutiae(a, resolution_ppi=ppi)
    assert np.allclose(t.minutiae[:, :2] * ppi / 500, a[:, :2], atol=1e-2)
    assert pickle.loads(pickle.dumps(t)).minutiae.tobytes() == t.minutiae.tobytes()
    for data in (t.to_iso19794_2(), t.to_ansi378()):
        back = FingerprintTemplate.from_bytes(data)
        assert len(back) == len(t)
        assert np.array_equal(back.minutiae[:, 3:], t.minutiae[:, 3:])


def test_corrupt_pickle_state_is_a_format_error(synthetic: list[FingerprintTemplate]) -> None:
    state = synthetic[0].__reduce__()[1][0]
    with pytest.raises(FormatError, match="snapshot"):
        FingerprintTemplate._from_snapshot(b"nope" + state[4:])
    with pytest.raises(FormatError):
        FingerprintTemplate._from_snapshot(state[:-1])
