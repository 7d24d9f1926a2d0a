"""Batch jobs with the real matchers: the job's hits are the matcher's own, for any chunking; DNA and
plate evidence carries no biometric payload; reader rejects are accounted for. Each test runs only when its
matcher is in the build."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import cgi_match
from cgi_match.batch import run_job
from cgi_match.jobs import Accountability
from cgi_match.report import render_report

WHO = Accountability(operator="u1", justification="modality test", case_ref="CASE-M")
AT = "2026-01-01T00:00:00+00:00"


def _alerts(ids: pl.Series, category: str, action: str) -> pl.DataFrame:
    n = ids.len()
    return pl.DataFrame(
        {
            "alert_id": ids,
            "source": ["SIS"] * n,
            "category": [category] * n,
            "issuing_country": ["BE"] * n,
            "valid_from": [None] * n,
            "valid_to": [None] * n,
            "action": [action] * n,
            "case_ref": ["C"] * n,
        },
        schema_overrides={"valid_from": pl.String, "valid_to": pl.String},
    )


@pytest.mark.skipif(not hasattr(cgi_match, "PlateIndex"), reason="no plate matcher in this build")
@pytest.mark.parametrize("chunk_size", [1, 97, 100_000])
def test_plate_job_hits_are_the_matchers_own_for_any_chunking(tmp_path: Path, chunk_size: int) -> None:
    synth = pytest.importorskip("cgi_match.synth.plates")
    data = synth.generate(3_000, 2_000, seed=5)
    (tmp_path / "a").mkdir()
    _alerts(data.alerts["alert_id"], "stolen-vehicle", "seize").write_parquet(tmp_path / "a" / "alerts.parquet")
    data.alerts.select("alert_id", "plate", "country").write_parquet(tmp_path / "a" / "plates.parquet")
    reads = data.reads.with_columns(pl.col("read_id").cast(pl.String))
    reads.write_parquet(tmp_path / "reads.parquet")
    (tmp_path / "job.toml").write_text(
        f'[job]\nalerts = "a"\nout = "out"\nat = "{AT}"\nchunk_size = {chunk_size}\n'
        '[plates]\nreads = "reads.parquet"\nmax_edits = 1\n'
    )
    result = run_job(tmp_path / "job.toml", WHO, audit_log=tmp_path / "log", show_progress=False)
    direct = cgi_match.PlateIndex(data.alerts.select("alert_id", "plate", "country")).match(
        reads, max_edits=1, at=pl.Series([AT]).str.to_datetime()[0]
    )
    expected = {(str(r), str(a), str(k)) for r, a, k in direct.select("read_id", "alert_id", "match_kind").iter_rows()}
    got = set(result.hits.select("probe_id", "alert_id", "match_kind").iter_rows())
    assert got == expected
    c = result.counts["plates"]
    assert c["in"] == reads.height == c["matched"] + c["unmatched"] + c["rejected"]
    details = [json.loads(d) for d in result.hits["details"].head(50)]
    assert all({"read_plate", "alert_plate", "distance", "differing"} <= d.keys() for d in details)


@pytest.mark.skipif(not hasattr(cgi_match, "DnaIndex"), reason="no DNA matcher in this build")
def test_dna_job_counts_rejects_and_carries_no_allele(tmp_path: Path) -> None:
    synth = pytest.importorskip("cgi_match.synth.dna")
    data = synth.generate(300, n_probes=60, seed=9)
    (tmp_path / "a").mkdir()
    db = data.database.with_columns(("A-" + pl.col("profile_id")).alias("alert_id"))
    _alerts(db["alert_id"].unique(maintain_order=True), "arrest", "arrest").write_parquet(
        tmp_path / "a" / "alerts.parquet"
    )
    db.write_parquet(tmp_path / "a" / "dna.parquet")
    probes = data.probes.rename({"profile_id": "probe_id"})
    first = probes["probe_id"][0]
    garbage = pl.DataFrame(
        {
            "probe_id": [first, "ONLY-GARBAGE"],
            "locus": ["TH01", "FGA"],
            "allele": ["abc", "12.34.5"],
            "kind": ["reference"] * 2,
        }
    )
    pl.concat([probes, garbage.select(probes.columns)]).write_parquet(tmp_path / "probes.parquet")
    (tmp_path / "job.toml").write_text(
        f'[job]\nalerts = "a"\nout = "out"\nat = "{AT}"\nchunk_size = 25\n[dna]\nprobes = "probes.parquet"\n'
        'rules = "codis-moderate"\n'
    )
    result = run_job(tmp_path / "job.toml", WHO, audit_log=tmp_path / "log", show_progress=False)
    c = result.counts["dna"]
    n_probes = probes["probe_id"].n_unique() + 1
    assert c["in"] == n_probes == c["matched"] + c["unmatched"] + c["rejected"]
    assert c["rejected"] == 1  # ONLY-GARBAGE has no readable row; the other probe is searched on its good rows
    rej = result.rejects.filter(pl.col("input") == "probes.parquet")
    assert set(rej["record_id"]) == {first, "ONLY-GARBAGE"}
    assert rej["reason"].str.len_chars().min() > 5
    direct = cgi_match.DnaIndex(db.select("profile_id", "locus", "allele", "kind")).search(
        probes.rename({"probe_id": "profile_id"}), rules="codis-moderate"
    )
    assert result.hits.height == direct.select("probe_id", "profile_id").unique().height
    for d in result.hits["details"]:
        assert set(json.loads(d)) == {"profile_id", "loci_compared", "loci_matched", "mismatched_alleles", "rmp", "lr"}
    html = render_report(tmp_path / "out")
    alleles = set(probes["allele"]) - {str(n) for n in range(100)}  # microvariants such as 9.3 are rarer
    assert not [a for a in alleles if f">{a}<" in html or f" {a} " in html]


@pytest.mark.skipif(not hasattr(cgi_match, "FingerprintTemplate"), reason="no fingerprint templates in this build")
def test_fingerprint_probes_are_read_with_rejects_from_a_folder_and_a_table(tmp_path: Path) -> None:
    synth = pytest.importorskip("cgi_match.synth.fingerprints")
    from cgi_match.batch.fingerprint_search import FingerprintSearch

    synth.write_iso_folder(tmp_path / "probes", 4, 1, seed=3)
    (tmp_path / "probes" / "broken.iso").write_bytes(b"FMR\x00 20\x00\x00\x00\x00\x10")
    probes = FingerprintSearch().load_probes(tmp_path / "probes")
    assert (probes.n_in, probes.n_valid, probes.n_rejected) == (5, 4, 1)
    assert probes.rejects["record_id"].to_list() == ["broken"]
    assert probes.rejects["input"].to_list() == ["probes"]
    assert probes.table["template"].dtype == pl.Binary
    blobs = probes.table["template"].to_list()
    pl.DataFrame(
        {"probe_id": ["a", "b", "b", "c"], "template": [blobs[0], blobs[1], blobs[2], b"garbage"]}
    ).write_parquet(tmp_path / "probes.parquet")
    table = FingerprintSearch().load_probes(tmp_path / "probes.parquet")
    assert (table.n_in, table.n_valid, table.n_rejected) == (4, 1, 3)
    reasons = dict(zip(table.rejects["row"].to_list(), table.rejects["reason"].to_list(), strict=True))
    assert reasons[1] == reasons[2] == "probe_id occurs more than once"
    assert reasons[3].startswith("unreadable template")


@pytest.mark.skipif(not hasattr(cgi_match, "FingerprintTemplate"), reason="no fingerprint templates in this build")
def test_demo_fingerprint_data_links_probes_to_enrolled_subjects() -> None:
    pytest.importorskip("cgi_match.synth.fingerprints")
    from cgi_match.demo import _fingerprints

    data = _fingerprints(30, 10, 1)
    assert not isinstance(data, str)
    assert data.identifiers.height == 30
    assert data.probes.height == 10
    assert data.truth.height == 5  # half the probes come from enrolled subjects
    assert set(data.truth["alert_id"]) <= set(data.identifiers["alert_id"])
    assert set(data.alerts["alert_id"]) == set(data.identifiers["alert_id"])


@pytest.mark.skipif(not hasattr(cgi_match, "FingerprintGallery"), reason="no fingerprint gallery in this build")
def test_fingerprint_job_end_to_end_carries_no_template(tmp_path: Path) -> None:
    pytest.importorskip("cgi_match.synth.fingerprints")
    from cgi_match.demo import _fingerprints

    data = _fingerprints(40, 12, 4)
    assert not isinstance(data, str)
    (tmp_path / "a").mkdir()
    data.alerts.write_parquet(tmp_path / "a" / "alerts.parquet")
    data.identifiers.write_parquet(tmp_path / "a" / "fingerprints.parquet")
    data.probes.write_parquet(tmp_path / "probes.parquet")
    data.truth.write_parquet(tmp_path / "truth.parquet")
    (tmp_path / "job.toml").write_text(
        f'[job]\nalerts = "a"\nout = "out"\nat = "{AT}"\nchunk_size = 5\n'
        '[fingerprints]\nprobes = "probes.parquet"\ntruth = "truth.parquet"\ntop_k = 1\n'
    )
    result = run_job(tmp_path / "job.toml", WHO, audit_log=tmp_path / "log", show_progress=False)
    c = result.counts["fingerprints"]
    assert c["in"] == 12 == c["matched"] + c["unmatched"] + c["rejected"]
    assert c["alert_identifiers_indexed"] == 40
    assert result.hits.height == 12  # top_k=1 and no threshold: one candidate per probe
    assert result.evaluation["fingerprints"]["true_hits"] >= 5  # every mated probe finds its subject at rank 1
    for d in result.hits["details"]:
        assert set(json.loads(d)) >= {"finger", "rank"}
    blobs = data.identifiers["template"].to_list() + data.probes["template"].to_list()
    for path in (tmp_path / "out").iterdir():
        raw = path.read_bytes()
        assert not [b for b in blobs[:10] if b[20:60] in raw], path
