"""PlateIndex through the public API: the contract other code relies on, a brute-force reference written
here in Python, and the properties the issue lists."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cgi_match
from cgi_match import PlateIndex, normalize_plate
from cgi_match._columns import str_buffers, str_view_buffers
from cgi_match.cli import main
from cgi_match.outputs import REJECTS_SCHEMA
from cgi_match.plates import DEFAULT_OCR_CLASSES
from cgi_match.synth.plates import generate, lookalike_reads

ALERTS = pl.DataFrame(
    {
        "alert_id": ["a1", "a2", "a3", "a4", "a5"],
        "plate": ["1-ABC-123", "AB-123-CD", "M?X*", "", "СВ 1234 РН"],
        "country": ["B", "F", None, None, "BG"],
        "valid_from": [None, dt.datetime(2025, 1, 1), None, None, None],
        "valid_to": [None, dt.datetime(2025, 12, 31), None, None, None],
        "alert_type": ["stolen", "wanted", "witness", "bad", "stolen"],
    }
)
IN_2025 = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def _reads(*plates: str, **columns: list[object]) -> pl.DataFrame:
    return pl.DataFrame({"read_id": list(range(len(plates))), "plate": list(plates), **columns})


def test_match_contract_columns_and_passthrough() -> None:
    index = PlateIndex(ALERTS)
    assert len(index) == 4
    hits = index.match(_reads("1abc123", "CB1234PH"), at=IN_2025)
    assert hits.columns[:7] == ["read_id", "alert_id", "read_plate", "alert_plate", "match_kind", "distance", "score"]
    assert "alert_type" in hits.columns
    assert hits.select("read_id", "alert_id", "match_kind").rows() == [(0, "a1", "exact"), (1, "a5", "exact")]
    assert hits["alert_plate"].to_list() == ["1-ABC-123", "СВ 1234 РН"]  # original text kept for display


def test_rejected_alerts_have_reasons() -> None:
    rejects = PlateIndex(ALERTS).rejects
    assert rejects.rows() == [(3, "a4", "", "plate is empty")]


def test_kinds_ocr_edit_wildcard_and_order() -> None:
    index = PlateIndex(ALERTS)
    hits = index.match(_reads("IABCI23", "1ABC12", "MAX77", "AB*CD"), max_edits=1, at=IN_2025)
    assert hits.select("read_id", "alert_id", "match_kind").rows() == [
        (0, "a1", "ocr"),
        (1, "a1", "edit"),
        (2, "a3", "wildcard"),
        (3, "a2", "wildcard"),
    ]
    assert hits["distance"].to_list()[:2] == [1.0, 1.0]  # two look-alike swaps weigh one edit
    # Edits are off by default.
    assert index.match(_reads("1ABC12"), at=IN_2025).height == 0


def test_short_plates_get_one_lookalike_swap_and_no_edits() -> None:
    # A German plate of three characters (B A 1): below min_fuzzy_length=5, so only the narrow ocr kind applies.
    index = PlateIndex(pl.DataFrame({"alert_id": ["s1"], "plate": ["B A 1"]}))
    assert index.match(_reads("8A1"), max_edits=1)["match_kind"].to_list() == ["ocr"]
    assert index.match(_reads("8AI")).height == 0  # two swaps: beyond max_ocr_short=1
    assert index.match(_reads("8AI"), max_ocr_short=2).height == 1
    assert index.match(_reads("8A1"), max_ocr_short=0).height == 0  # the former behaviour
    assert index.match(_reads("8A1"), max_ocr=0).height == 0  # max_ocr caps it
    assert index.match(_reads("BA12"), max_edits=2).height == 0  # no edits on short plates
    with pytest.raises(cgi_match.InvalidInputError, match="max_ocr_short"):
        index.match(_reads("8A1"), max_ocr_short=-1)


def test_country_policies() -> None:
    index = PlateIndex(ALERTS)
    reads = _reads("1ABC123", "1ABC123", "1ABC123", country=["BE", "NL", None])
    lenient = index.match(reads, at=IN_2025)["read_id"].to_list()
    strict = index.match(reads, country_policy="strict", at=IN_2025)["read_id"].to_list()
    ignore = index.match(reads, country_policy="ignore", at=IN_2025)["read_id"].to_list()
    assert (lenient, strict, ignore) == ([0, 2], [0], [0, 1, 2])
    with pytest.raises(cgi_match.InvalidInputError, match="country_policy"):
        index.match(reads, country_policy="loose")


def test_unknown_country_is_a_reject_not_an_error() -> None:
    result = PlateIndex(ALERTS).match_with_rejects(_reads("1ABC123", country=["Atlantis"]))
    assert result.rejects["reason"].to_list() == ["country is neither an ISO 3166 alpha-2 code nor a vehicle code"]


def test_validity_window_uses_seen_at_then_at() -> None:
    index = PlateIndex(ALERTS)
    reads = _reads("AB123CD", "AB123CD", "AB123CD", seen_at=[dt.datetime(2025, 3, 1), dt.datetime(2026, 3, 1), None])
    assert index.match(reads, at=IN_2025)["read_id"].to_list() == [0, 2]
    assert index.match(reads, at=dt.datetime(2027, 1, 1))["read_id"].to_list() == [0]
    # Default at = now, and the alert expired at the end of 2025.
    assert index.match(_reads("AB123CD")).height == 0


def test_inputs_as_arrow_parquet_and_csv(tmp_path: Path) -> None:
    parquet = tmp_path / "alerts.parquet"
    csv = tmp_path / "alerts.csv"
    ALERTS.write_parquet(parquet)
    ALERTS.write_csv(csv)
    reads = _reads("1ABC123", "AB123CD")
    expected = PlateIndex(ALERTS).match(reads, at=IN_2025).select("read_id", "alert_id", "match_kind")
    for source in (ALERTS.to_arrow(), parquet, str(csv)):
        got = PlateIndex(source).match(reads.to_arrow(), at=IN_2025).select("read_id", "alert_id", "match_kind")
        assert got.equals(expected), source
    with pytest.raises(cgi_match.InvalidInputError, match="missing column"):
        PlateIndex(pl.DataFrame({"alert_id": ["x"]}))
    with pytest.raises(cgi_match.StorageError):
        PlateIndex(tmp_path / "missing.parquet")


def test_string_view_and_large_string_buffers_give_the_same_hits() -> None:
    """The core reads polars' own string_view columns (inline and buffered strings, nulls, slices) exactly as
    the large_string buffers of the same text; hostile views are refused, not read."""
    index = PlateIndex(ALERTS)
    plates = pl.Series(["1abc123", None, "AB 123 CD", "a very long plate text", "СВ 1234 РН", "", "1-ABC-123"] * 3)
    countries = pl.Series(["B", None, "FR", "DE", "BG", None, "zz"] * 3)
    for sl in (slice(0, None), slice(2, 17)):
        p, c = plates[sl], countries[sl]
        views, offsets = str_view_buffers(p), str_buffers(p)
        assert isinstance(views[1], list)  # really the view layout
        by_views = index._index.match_reads(views, str_view_buffers(c), None, at=0)
        by_offsets = index._index.match_reads(offsets, str_buffers(c), None, at=0)
        for a, b in zip(by_views, by_offsets, strict=True):
            assert np.array_equal(a, b)
        assert by_views[0].size > 0
    bad_views = np.zeros(16, dtype=np.uint8)
    bad_views[0] = 40  # a 40-byte string in buffer 0 at offset 0, but buffer 0 holds 3 bytes
    with pytest.raises(cgi_match.InvalidInputError, match="outside"):
        index._index.match_reads((bad_views, [np.zeros(3, dtype=np.uint8)], None))
    with pytest.raises(cgi_match.InvalidInputError, match="whole number"):
        index._index.match_reads((np.zeros(15, dtype=np.uint8), [], None))


def test_save_load_pickle_and_corruption(tmp_path: Path) -> None:
    index = PlateIndex(ALERTS)
    path = tmp_path / "alerts.idx"
    index.save(path)
    loaded = PlateIndex.load(path)
    reads = _reads("1ABC123", "IABCI23", "MAX77", "AB*CD")
    assert loaded.match(reads, at=IN_2025).equals(index.match(reads, at=IN_2025))
    assert pickle.loads(pickle.dumps(index)).match(reads, at=IN_2025).equals(index.match(reads, at=IN_2025))
    assert pickle.loads(pickle.dumps(index._index)).ocr_classes == list(index.ocr_classes)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(cgi_match.IndexFileError, match="checksum"):
        PlateIndex.load(path)
    path.write_bytes(b"PAR1 not an index at all")
    with pytest.raises(cgi_match.IndexFileError, match="not a cgi-match plate index"):
        PlateIndex.load(path)
    path.write_bytes(bytes(data[:100]))
    with pytest.raises(cgi_match.IndexFileError):
        PlateIndex.load(path)


def test_match_one_and_bad_options() -> None:
    index = PlateIndex(ALERTS)
    assert index.match_one("1 abc 123", "B")["alert_id"].to_list() == ["a1"]
    assert index.match_one("AB12?C*", at=IN_2025)["match_kind"].to_list() == ["wildcard"]
    with pytest.raises(cgi_match.InvalidInputError, match="no letters or digits"):
        index.match_one("--")
    with pytest.raises(cgi_match.InvalidInputError, match="max_edits"):
        index.match(_reads("X"), max_edits=3)
    with pytest.raises(cgi_match.InvalidInputError):
        index.match(_reads("X"), max_ocr=-1)


def test_custom_ocr_classes() -> None:
    index = PlateIndex(ALERTS, ocr_classes=["0O"])
    assert index.ocr_classes == ["0O"]
    assert index.match(_reads("IABCI23"), at=IN_2025).height == 0
    with pytest.raises(cgi_match.InvalidInputError, match="more than one OCR class"):
        PlateIndex(ALERTS, ocr_classes=["0O", "OD"])


def test_repr_html_names_counts_not_plates() -> None:
    page = PlateIndex(ALERTS)._repr_html_()
    assert "alerts indexed" in page
    assert "plate is empty" in page
    assert "ABC" not in page


# -- brute-force reference, written independently of the Rust index ----------------------------------------


def _fold(c: str) -> str:
    for cls in DEFAULT_OCR_CLASSES:
        if c in cls:
            return min(cls)
    return c


def _weighted(a: str, b: str) -> float:
    prev = [float(j) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        cur = [float(i)] + [0.0] * len(b)
        for j in range(1, len(b) + 1):
            x, y = a[i - 1], b[j - 1]
            sub = 0.0 if x == y else 0.5 if _fold(x) == _fold(y) else 1.0
            cur[j] = min(prev[j - 1] + sub, prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return prev[-1]


def _reference(
    alerts: list[tuple[str, str]], reads: list[str], max_ocr: int, max_edits: int
) -> list[tuple[int, str, str]]:
    keys = []
    for alert_id, plate in alerts:
        with contextlib.suppress(cgi_match.InvalidInputError):
            keys.append((alert_id, normalize_plate(plate)))
    out = []
    for r, plate in enumerate(reads):
        try:
            rk = normalize_plate(plate)
        except cgi_match.InvalidInputError:
            continue
        found = []
        for alert_id, ak in keys:
            longer = max(len(rk), len(ak))
            fuzzy = min(len(rk), len(ak)) >= 5
            subs = sum(x != y for x, y in zip(rk, ak, strict=False))
            same = len(rk) == len(ak) and all(_fold(x) == _fold(y) for x, y in zip(rk, ak, strict=True))
            # Short plates keep a narrow ocr kind: at most one look-alike swap (max_ocr_short=1), no edits.
            ocr_limit = max_ocr if fuzzy else min(max_ocr, 1)
            if rk == ak:
                found.append((1.0, alert_id, "exact"))
            elif same and ocr_limit > 0 and subs <= ocr_limit:
                found.append((1 - subs * 0.5 / longer, alert_id, "ocr"))
            elif fuzzy and max_edits and _weighted(rk, ak) <= max_edits:
                found.append((1 - _weighted(rk, ak) / longer, alert_id, "edit"))
        found.sort(key=lambda h: (-h[0], h[1]))
        out += [(r, alert_id, kind) for _, alert_id, kind in found]
    return out


_plate = st.text(alphabet="AB8O01I5S-", min_size=1, max_size=9)


@settings(max_examples=60, deadline=None)
@given(
    alerts=st.lists(_plate, max_size=25),
    reads=st.lists(_plate, max_size=25),
    max_ocr=st.integers(0, 2),
    max_edits=st.integers(0, 2),
)
def test_index_equals_python_brute_force(alerts: list[str], reads: list[str], max_ocr: int, max_edits: int) -> None:
    table = pl.DataFrame(
        {"alert_id": [f"a{i:03d}" for i in range(len(alerts))], "plate": alerts},
        schema={"alert_id": pl.String, "plate": pl.String},
    )
    hits = PlateIndex(table).match(
        pl.DataFrame({"read_id": range(len(reads)), "plate": reads}, schema={"read_id": pl.Int64, "plate": pl.String}),
        max_ocr=max_ocr,
        max_edits=max_edits,
    )
    got = [(int(r), a, str(k)) for r, a, k in hits.select("read_id", "alert_id", "match_kind").rows()]
    assert got == _reference(list(table.iter_rows()), reads, max_ocr, max_edits)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), split=st.integers(1, 300), pick=st.integers(0, 199))
def test_properties_on_synthetic_data(seed: int, split: int, pick: int) -> None:
    data = generate(200, 300, related_share=0.5, seed=seed)
    index = PlateIndex(data.alerts)
    whole = index.match_with_rejects(data.reads, max_edits=1)
    # Every read is accounted for.
    assert whole.reads_with_hits + whole.reads_without_hits + whole.reads_rejected == data.reads.height
    # Hits do not depend on the batch split.
    parts = [index.match(data.reads.slice(s, split), max_edits=1) for s in range(0, data.reads.height, split)]
    assert pl.concat(parts).equals(whole.hits)
    # A read equal to an alert hits it as exact (when the alert is valid at the read's time).
    alert = data.alerts.row(pick, named=True)
    seen = alert["valid_from"] or dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    if alert["valid_to"] is None or alert["valid_to"] >= seen:
        hits = index.match_one(alert["plate"], alert["country"], seen_at=seen)
        assert ("exact", alert["alert_id"]) in hits.select("match_kind", "alert_id").rows()


def test_lookalike_reads_differ_by_one_swap() -> None:
    data = generate(500, 0, seed=3)
    reads = lookalike_reads(data.alerts, 300, seed=4)
    joined = reads.join(data.alerts, left_on="source_alert_id", right_on="alert_id")
    for read, alert in joined.select("plate", "plate_right").rows():
        a, b = normalize_plate(read), normalize_plate(alert)
        assert len(a) == len(b)
        assert sum(x != y for x, y in zip(a, b, strict=True)) == 1


def test_cli_end_to_end(tmp_path: Path) -> None:
    runner = CliRunner()
    data_dir, out = tmp_path / "data", tmp_path / "out"
    result = runner.invoke(main, ["synth", "plates", "--alerts", "2000", "--reads", "5000", "--out", str(data_dir)])
    assert result.exit_code == 0, result.output
    reads = pl.read_parquet(data_dir / "reads.parquet")
    # A few broken rows: every read must still be accounted for.
    broken = pl.DataFrame({"read_id": [10**9, 10**9 + 1], "plate": ["", "AB\t12"]}).with_columns(
        pl.lit(None, dtype=pl.String).alias("country"), pl.lit(None, dtype=reads["seen_at"].dtype).alias("seen_at")
    )
    pl.concat([reads, broken]).write_parquet(data_dir / "reads.parquet")
    args = ["plates", "--alerts", str(data_dir / "alerts.parquet"), "--reads", str(data_dir / "reads.parquet")]
    args += ["--out", str(out), "--max-edits", "1", "--at", "2026-01-01T00:00:00+00:00"]
    args += [
        "--operator",
        "u1",
        "--justification",
        "test",
        "--case-ref",
        "C-1",
        "--audit-log",
        str(tmp_path / "a.jsonl"),
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    c = summary["counts"]
    assert c["reads_in"] == 5002
    assert c["reads_with_hits"] + c["reads_without_hits"] + c["reads_rejected"] == c["reads_in"]
    assert c["reads_rejected"] == 2
    assert sum(c["hits_by_kind"].values()) == c["hits"] == pl.read_parquet(out / "hits.parquet").height
    assert {i["role"] for i in summary["inputs"]} == {"alerts", "reads"}
    rejects = pl.read_parquet(out / "rejects.parquet")
    assert dict(rejects.schema) == REJECTS_SCHEMA
    assert sorted(rejects["reason"].to_list()) == ["plate contains a control character", "plate is empty"]
    # Ground truth: most reads derived from alerts hit their alert.
    truth = pl.read_parquet(data_dir / "ground_truth.parquet").filter(pl.col("noise").is_in(["none", "lookalike"]))
    hits = pl.read_parquet(out / "hits.parquet").select("read_id", pl.col("alert_id").alias("source_alert_id"))
    found = truth.join(hits, on=["read_id", "source_alert_id"], how="semi").height
    assert found >= 0.9 * truth.height


def test_hits_do_not_depend_on_thread_count(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from cgi_match import PlateIndex\n"
        "from cgi_match.synth.plates import generate\n"
        "d = generate(3000, 9000, related_share=0.5, seed=5)\n"
        "PlateIndex(d.alerts).match(d.reads, max_edits=1).write_parquet(sys.argv[1])\n"
    )
    outputs = []
    for threads in ("1", "3"):
        out = tmp_path / f"hits-{threads}.parquet"
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=True)
        outputs.append(pl.read_parquet(out))
    assert outputs[0].height > 0
    assert outputs[0].equals(outputs[1])


def test_a_bare_valid_to_date_means_through_that_day(tmp_path: Path) -> None:
    alerts = pl.DataFrame({"alert_id": ["a", "b"], "plate": ["AB123CD", "XY987ZW"], "valid_to": ["2025-12-31", None]})
    csv = tmp_path / "alerts.csv"
    alerts.write_csv(csv)
    late = dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC)
    for source in (alerts, csv, alerts.with_columns(pl.col("valid_to").str.to_date())):
        index = PlateIndex(source)
        assert index.match_one("AB123CD", at=late).height == 1, source
        assert index.match_one("AB123CD", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).height == 0
    # A time of day given explicitly is taken as written.
    exact = PlateIndex(alerts.with_columns(pl.lit("2025-12-31T12:00:00").alias("valid_to")))
    assert exact.match_one("AB123CD", at=late).height == 0
