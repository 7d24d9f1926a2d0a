"""Alert sets: every bad row is rejected with a reason a person understands, and nothing else is lost."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cgi_match.alerts import CATEGORIES, AlertSet
from cgi_match.errors import InvalidInputError
from workflow_data import write_alert_set


def test_bad_alert_rows_are_rejected_with_reasons_and_nothing_else_lost(tmp_path: Path) -> None:
    planted = write_alert_set(tmp_path / "a", n_alerts=120)
    s = AlertSet.load(tmp_path / "a")
    counts = s.counts()
    for table, c in counts.items():
        assert c["in"] == c["kept"] + c["rejected"], table
    assert counts["alerts"]["rejected"] == planted["bad_alert_rows"]
    assert counts["plates"]["rejected"] == planted["bad_plate_rows"]
    # Every good alert survives, the duplicated id does not (which copy is right is not ours to guess).
    kept = set(s.alerts["alert_id"].to_list())
    assert kept == set(planted["ids"]) - {"AL-00001"}
    reasons = dict(
        zip(
            (s.rejects["input"] + ":" + s.rejects["record_id"].fill_null("")).to_list(),
            s.rejects["reason"].to_list(),
            strict=True,
        )
    )
    assert "unknown category wizardry" in reasons["alerts.csv:BAD-CAT"]
    assert "2024-02-30 is not a date" in reasons["alerts.csv:BAD-DATE"]
    assert "valid_to is before valid_from" in reasons["alerts.csv:BAD-ORDER"]
    assert "unknown source FBI" in reasons["alerts.csv:BAD-SRC"]
    assert "more than once" in reasons["alerts.csv:AL-00001"]
    assert "alert_id is missing" in reasons["alerts.csv:"]
    assert "points to no alert" in reasons["plates.parquet:NOPE-1"]
    assert "which was rejected" in reasons["plates.parquet:BAD-CAT"]
    assert "plate is empty" in reasons["plates.parquet:AL-00002"]
    assert s.rejects.filter(pl.col("reason").is_null() | (pl.col("reason") == "")).is_empty()


def test_one_reject_row_names_every_problem_of_a_row() -> None:
    alerts = pl.DataFrame(
        {
            "alert_id": ["A"],
            "source": ["CIA"],
            "category": ["arrest"],
            "issuing_country": ["Belgium"],
            "valid_from": ["yesterday"],
            "valid_to": [None],
            "action": ["dance"],
            "case_ref": [None],
        },
        schema_overrides={"valid_to": pl.String, "case_ref": pl.String},
    )
    s = AlertSet.from_frames(alerts)
    assert s.alerts.is_empty()
    (row,) = s.rejects.iter_rows(named=True)
    assert row["field"] == "source,action,issuing_country,valid_from"
    for words in (
        "unknown source CIA",
        "unknown action dance",
        "Belgium is not an ISO 3166",
        "yesterday is not a date",
    ):
        assert words in row["reason"]


@pytest.mark.parametrize("suffix", ["parquet", "csv", "ndjson"])
def test_formats_load_the_same_alert_set(tmp_path: Path, suffix: str) -> None:
    write_alert_set(tmp_path / "src", n_alerts=40)
    ref = AlertSet.load(tmp_path / "src")
    folder = tmp_path / suffix
    folder.mkdir()
    raw = pl.read_csv(tmp_path / "src" / "alerts.csv", infer_schema=False)
    plates = pl.read_parquet(tmp_path / "src" / "plates.parquet")
    getattr(raw, f"write_{suffix}")(folder / f"alerts.{suffix}")
    getattr(plates, f"write_{suffix}")(folder / f"plates.{suffix}")
    s = AlertSet.load(folder)
    assert s.alerts.equals(ref.alerts)
    assert s.plates.equals(ref.plates)
    assert s.rejects.select("row", "record_id", "reason").equals(ref.rejects.select("row", "record_id", "reason"))


def test_native_dates_and_urgency_columns(tmp_path: Path) -> None:
    alerts = pl.DataFrame(
        {
            "alert_id": ["x", "y"],
            "source": ["sis", "PRUM"],
            "category": ["other", "Terrorism"],
            "issuing_country": ["be", "FR"],
            "valid_from": pl.Series([None, None], dtype=pl.Date),
            "valid_to": pl.Series(["2030-01-01", None]).str.to_date(),
            "action": ["inform", "immediate-action"],
            "case_ref": ["c1", "c2"],
        }
    )
    s = AlertSet.from_frames(alerts)
    assert s.rejects.is_empty()
    cols = s.alert_columns().sort("_category_rank")
    assert cols["alert_id"].to_list() == ["y", "x"]
    assert cols["_category_rank"].to_list() == [list(CATEGORIES).index("terrorism"), list(CATEGORIES).index("other")]
    assert s.alerts["valid_to"].dtype == pl.Datetime("us", "UTC")


def test_two_files_for_one_table_is_an_error(tmp_path: Path) -> None:
    write_alert_set(tmp_path, n_alerts=5)
    pl.read_csv(tmp_path / "alerts.csv").write_parquet(tmp_path / "alerts.parquet")
    with pytest.raises(InvalidInputError, match="several files"):
        AlertSet.load(tmp_path)


def test_fingerprint_and_dna_identifiers_are_linked_and_checked(tmp_path: Path) -> None:
    write_alert_set(tmp_path, n_alerts=5)
    (tmp_path / "t0.iso").write_bytes(b"FMR\0 20\0")
    pl.DataFrame(
        {
            "alert_id": ["AL-00000", "AL-00003", "GHOST"],
            "finger": ["1", "2", "1"],
            "template_file": ["t0.iso", "nofile.iso", "t0.iso"],
        }
    ).write_csv(tmp_path / "fingerprints.csv")
    pl.DataFrame(
        {
            "alert_id": ["AL-00000", "AL-00000", "AL-00003", "GHOST"],
            "locus": ["TH01", "vWA", None, "FGA"],
            "allele": ["6", "17", "9", "22"],
        }
    ).write_csv(tmp_path / "dna.csv")
    s = AlertSet.load(tmp_path)
    assert s.fingerprints["alert_id"].to_list() == ["AL-00000"]
    assert s.fingerprints["template"].to_list() == [b"FMR\0 20\0"]
    assert s.dna["profile_id"].to_list() == ["AL-00000", "AL-00000"]
    c = s.counts()
    assert c["fingerprints"] == {"in": 3, "kept": 1, "rejected": 2}
    assert c["dna"] == {"in": 4, "kept": 2, "rejected": 2}
    reasons = " | ".join(s.rejects["reason"].to_list())
    assert "nofile.iso cannot be read" in reasons
    assert "locus is missing" in reasons
    # The reject reasons never carry an allele or template bytes.
    assert "FMR" not in reasons


def test_repr_html_shows_counts(tmp_path: Path) -> None:
    write_alert_set(tmp_path, n_alerts=10)
    html = AlertSet.load(tmp_path)._repr_html_()
    assert "<table>" in html
    assert "Most frequent rejects" in html
    assert "<td>alerts</td><td>16</td><td>9</td><td>7</td>" in html


def test_a_bare_valid_to_date_means_through_that_day() -> None:
    alerts = pl.DataFrame(
        {
            "alert_id": ["t", "d", "x"],
            "source": ["SIS"] * 3,
            "category": ["arrest"] * 3,
            "issuing_country": ["BE"] * 3,
            "valid_from": ["2026-01-01", "2026-01-01", "2026-01-01"],
            "valid_to": ["2026-01-31", "2026-01-31T12:00:00", "2026-01-01"],
            "action": ["arrest"] * 3,
            "case_ref": ["c"] * 3,
        }
    )
    s = AlertSet.from_frames(alerts)
    assert s.rejects.is_empty()  # valid_to on the day of valid_from is a one-day alert, not an error
    ends = dict(zip(s.alerts["alert_id"], s.alerts["valid_to"].dt.to_string("%Y-%m-%dT%H:%M:%S%.6f"), strict=True))
    assert ends == {
        "t": "2026-01-31T23:59:59.999999",
        "d": "2026-01-31T12:00:00.000000",
        "x": "2026-01-01T23:59:59.999999",
    }
    native = AlertSet.from_frames(alerts.with_columns(pl.col("valid_to").str.slice(0, 10).str.to_date()))
    assert native.alerts.filter(pl.col("alert_id") == "t")["valid_to"].dt.hour().item() == 23
