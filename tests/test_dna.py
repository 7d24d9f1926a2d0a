"""DNA profile matching through the public Python API: rules and edge cases, statistics against hand
computation (NRC II), kinship, index vs an independent pure-Python reference, files, CLI."""

from __future__ import annotations

import json
import pickle
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cgi_match as cm
from cgi_match.cli import main
from cgi_match.dna import from_genemapper, read_cmf
from cgi_match.errors import FormatError, IndexFileError, InvalidInputError
from cgi_match.synth.dna import generate

SIX = {
    "D3S1358": ["15", "16"],
    "vWA": ["17", "18"],
    "D8S1179": ["13", "14"],
    "D21S11": ["29", "30"],
    "D18S51": ["14", "15"],
    "TH01": ["6", "9.3"],
}


def long(profiles: dict[str, dict[str, list[str]]]) -> pl.DataFrame:
    rows = [(pid, locus, a) for pid, loci in profiles.items() for locus, alleles in loci.items() for a in alleles]
    return pl.DataFrame(rows, schema=["profile_id", "locus", "allele"], orient="row")


def search(db: dict[str, dict[str, list[str]]], probe: dict[str, list[str]], **kw: object) -> pl.DataFrame:
    return cm.DnaIndex(long(db)).search(long({"P": probe}), **kw)  # type: ignore[arg-type]


def with_(changes: dict[str, list[str]], drop: tuple[str, ...] = ()) -> dict[str, list[str]]:
    out = {k: v for k, v in SIX.items() if k not in drop}
    out.update(changes)
    return out


def test_full_match_and_columns() -> None:
    hits = search({"R": SIX}, SIX)
    assert hits.columns[:8] == [
        "probe_id",
        "profile_id",
        "match_class",
        "loci_compared",
        "loci_matched",
        "mismatched_alleles",
        "rmp",
        "lr",
    ]
    assert hits.row(0)[:6] == ("P", "R", "full", 6, 6, 0)
    assert hits["rmp"][0] is None
    assert hits["lr"][0] is None


def test_one_mismatch_is_near_two_is_no_hit() -> None:
    seven = with_({"FGA": ["22", "23"]})
    one = with_({"FGA": ["22", "24"]})
    two = with_({"FGA": ["21", "24"]})
    assert search({"R": seven}, one)["match_class"].to_list() == ["near"]
    assert search({"R": seven}, two).height == 0


def test_fewer_than_six_loci_and_amelogenin_excluded() -> None:
    five = with_({}, drop=("TH01",))
    assert search({"R": five}, five).height == 0
    with_amel = with_({"AMEL": ["X", "Y"]}, drop=("TH01",))
    assert search({"R": with_amel}, with_amel).height == 0
    assert search({"R": with_amel}, with_amel, min_loci=5)["loci_compared"].to_list() == [5]


def test_wildcard_microvariant_homozygote_missing_loci() -> None:
    db = {"R": with_({"FGA": ["22", "23"], "TH01": ["6", "9.3"], "D2S441": ["10", "10"]})}
    probe = with_({"FGA": ["22", "*"], "TH01": ["6", "9"], "D2S441": ["10"], "D12S391": ["18", "19"]})
    hits = search(db, probe)
    assert hits.row(0)[:6] == ("P", "R", "full", 8, 7, 0)
    # Under CODIS the microvariant 9.3 is not 9.
    assert search(db, probe, rules="codis-high", min_loci=6).height == 0


def test_codis_moderate_finds_contributors_of_a_mixture() -> None:
    a = dict(SIX)
    b = {"D3S1358": ["17", "18"], "vWA": ["14", "16"], "D8S1179": ["10", "11"], "D21S11": ["28", "31"]}
    b |= {"D18S51": ["12", "13"], "TH01": ["7", "8"]}
    mix = {locus: a[locus] + b[locus] for locus in SIX}
    hits = search({"A": a, "B": b}, mix, rules="codis-moderate", min_loci=6)
    assert sorted(hits["profile_id"]) == ["A", "B"]
    assert set(hits["match_class"]) == {"partial"}
    assert search({"A": a, "B": b}, mix, rules="codis-high", min_loci=6).height == 0


def test_unknown_rules_and_bad_parameters_raise() -> None:
    with pytest.raises(InvalidInputError):
        search({"R": SIX}, SIX, rules="fuzzy")
    with pytest.raises(InvalidInputError):
        search({"R": SIX}, SIX, min_loci=0)
    with pytest.raises(InvalidInputError):
        search({"R": SIX}, SIX, loci=["AMEL"])


def test_garbage_rows_are_rejected_with_reasons_and_counted() -> None:
    table = pl.concat(
        [
            long({"R": SIX}),
            pl.DataFrame(
                {
                    "profile_id": ["R", "R", "R", None, "R"],
                    "locus": ["FGA", "D99S1", "FGA", "TH01", "D2S441"],
                    "allele": ["abc", "12", "22", "9", "12.34.5"],
                }
            ),
        ]
    )
    idx = cm.DnaIndex(table)
    reasons = idx.rejects["reason"].to_list()
    assert len(reasons) == 5
    assert any("'abc'" in r for r in reasons)
    assert any("unknown locus 'D99S1'" in r for r in reasons)
    assert any("missing profile_id" in r for r in reasons)
    assert any("left out with locus FGA" in r for r in reasons)
    assert any("'12.34.5'" in r for r in reasons)
    assert len(idx) == 1


def test_rmp_and_lr_against_nrc_ii_by_hand() -> None:
    freqs = cm.AlleleFrequencies.from_table(
        pl.DataFrame(
            {
                "locus": ["TH01", "TH01", "FGA"],
                "allele": ["6", "9.3", "22"],
                "frequency": [0.2, 0.3, 0.1],
                "n": [100, 100, 100],
            }
        )
    )
    profile = long({"X": {"TH01": ["6", "9.3"], "FGA": ["22"]}})
    # NRC II 4.1: 2pq · p² = 2·0.2·0.3 · 0.01
    assert cm.random_match_probability(profile, freqs, theta=0.0) == pytest.approx(0.0012, rel=1e-12)
    # NRC II 4.10, θ = 0.01: het 2(θ+(1−θ)p)(θ+(1−θ)q)/((1+θ)(1+2θ)), hom (2θ+(1−θ)p)(3θ+(1−θ)p)/(...)
    d = 1.01 * 1.02
    het = 2 * (0.01 + 0.99 * 0.2) * (0.01 + 0.99 * 0.3) / d
    hom = (0.02 + 0.99 * 0.1) * (0.03 + 0.99 * 0.1) / d
    assert cm.random_match_probability(profile, freqs) == pytest.approx(het * hom, rel=1e-12)
    # An allele not in the table gets 5/2N = 0.025.
    rare = long({"X": {"TH01": ["7"]}})
    assert cm.random_match_probability(rare, freqs, theta=0.0) == pytest.approx(0.025**2, rel=1e-12)
    db = cm.DnaIndex(long({"R": SIX | {"FGA": ["22"]}}))
    hit = db.search(long({"P": SIX | {"FGA": ["22"]}}), min_loci=6, frequencies=freqs, theta=0.0)
    # Only TH01 (6, 9.3: 2·0.2·0.3) and FGA (22: 0.1²) are in the table; other loci are left out.
    assert hit["rmp"][0] == pytest.approx(2 * 0.2 * 0.3 * 0.1**2, rel=1e-12)
    assert hit["lr"][0] == pytest.approx(1 / hit["rmp"][0], rel=1e-12)
    assert hit["expected_adventitious_matches"][0] == pytest.approx(hit["rmp"][0] * len(db), rel=1e-12)


def test_kinship_index_by_hand() -> None:
    freqs = cm.AlleleFrequencies.from_table(
        pl.DataFrame({"locus": ["TH01"] * 3, "allele": ["6", "7", "8"], "frequency": [0.2, 0.1, 0.05], "n": [500] * 3})
    )
    db = cm.DnaIndex(long({"C": {"TH01": ["6", "8"]}, "D": {"TH01": ["7", "7"]}}))
    probe = long({"P": {"TH01": ["6", "7"]}})
    classic = {"theta": 0.0, "mutation_rate": 0.0}
    pc = db.familial_search(probe, relationship="parent-child", frequencies=freqs, min_ki=0.0, **classic)
    # ab–ac: X = 1/(4 p_a) = 1/(4·0.2) = 1.25; ab–bb: X = 1/(2 p_b) = 5
    assert pc["profile_id"].to_list() == ["D", "C"]
    assert pc["kinship_index"].to_list() == pytest.approx([5.0, 1.25])
    assert pc["rank"].to_list() == [1, 2]
    fs = db.familial_search(probe, relationship="full-sibling", frequencies=freqs, min_ki=0.0, **classic)
    assert fs["kinship_index"].to_list() == pytest.approx([0.25 + 0.5 * 5.0, 0.25 + 0.5 * 1.25])
    assert set(fs["relationship"]) == {"full-sibling"}
    # With θ (NRC II 4.10 sampling), parent–child ab–ac: X = (1 + 2θ) / (4[θ + (1 − θ) p_a]).
    t = 0.02
    pc = db.familial_search(probe, relationship="parent-child", frequencies=freqs, min_ki=0.0, theta=t, mutation_rate=0)
    assert pc.filter(pl.col("profile_id") == "C")["kinship_index"][0] == pytest.approx(
        (1 + 2 * t) / (4 * (t + (1 - t) * 0.2)), rel=1e-12
    )


def test_parent_child_one_step_mutation_is_not_an_exclusion() -> None:
    freqs = cm.AlleleFrequencies.from_table(
        pl.DataFrame(
            {"locus": ["TH01"] * 4, "allele": ["6", "7", "8", "9"], "frequency": [0.2, 0.1, 0.25, 0.05], "n": [500] * 4}
        )
    )
    db = cm.DnaIndex(long({"C": {"TH01": ["7", "9"]}, "F": {"TH01": ["9", "9"]}}))
    probe = long({"P": {"TH01": ["6", "8"]}})
    mu = 0.002
    pc = db.familial_search(probe, relationship="parent-child", frequencies=freqs, min_ki=0.0, theta=0.0)
    # 6,8 and 7,9 share nothing. 6,8 as parent: 6→7 or 8→7 (other allele 9), or 8→9 (other 7), each μ/2:
    # P1 = μ(2 p9 + p7)/4 over P0 = 2 p7 p9. 7,9 as parent: 7→6 (other 8), 7→8 or 9→8 (other 6):
    # P1 = μ(p8 + 2 p6)/4 over P0 = 2 p6 p8. KI is the mean of the two directions.
    c = 0.5 * (mu * (2 * 0.05 + 0.1) / (8 * 0.1 * 0.05) + mu * (0.25 + 2 * 0.2) / (8 * 0.2 * 0.25))
    # 6,8 and 9,9: only 8 ↔ 9 is one step: mean of μ/(4 p9) (6,8 as parent) and μ/(4 p8) (9,9 as parent).
    f = 0.5 * (mu / (4 * 0.05) + mu / (4 * 0.25))
    assert pc["profile_id"].to_list() == ["C", "F"]
    assert pc["kinship_index"].to_list() == pytest.approx([c, f], rel=1e-12)
    without = db.familial_search(
        probe, relationship="parent-child", frequencies=freqs, min_ki=0.0, theta=0.0, mutation_rate=0.0
    )
    assert without["kinship_index"].to_list() == [0.0, 0.0]
    with pytest.raises(cm.InvalidInputError):
        db.familial_search(probe, relationship="parent-child", frequencies=freqs, mutation_rate=0.5)


def test_builtin_and_csv_frequencies(tmp_path: Path) -> None:
    for name in cm.dna.BUILTIN_FREQUENCIES:
        table = cm.AlleleFrequencies.builtin(name)
        assert "TH01" in table.loci(), name
        assert 0 < (table.frequency("TH01", "9.3") or 0) < 1
    fbi = cm.AlleleFrequencies.builtin("fbi-cauc-2024")
    assert "Yindel" in fbi.skipped_loci
    # N = 404 in the FBI table: an unseen allele gets 5/808.
    assert fbi.frequency("TH01", "13.3") == pytest.approx(5 / 808)
    path = tmp_path / "f.csv"
    path.write_text("locus,allele,frequency,n\nTH01,6,0.25,200\nTH01,9.3,0.3,200\n")
    f = cm.AlleleFrequencies.from_csv(path)
    assert f.frequency("THO1", "6") == pytest.approx(0.25)
    with pytest.raises(InvalidInputError):
        cm.AlleleFrequencies.builtin("mars")


def prum_reference(probe: dict[str, set[str]], ref: dict[str, set[str]]) -> tuple[str, int, int] | None:
    """An independent, plain-Python statement of the Prüm rule for numeric single-source profiles."""

    def value(a: str, locus: str) -> int:
        whole, _, frac = a.partition(".")
        penta = locus in {"Penta D", "Penta E", "Penta_D", "Penta_E"}
        return int(whole) + (1 if frac and int(frac) >= (3 if penta else 4) else 0)

    matched = mismatches = 0
    for locus in probe.keys() & ref.keys():
        a = sorted(value(x, locus) for x in probe[locus])
        b = sorted(value(x, locus) for x in ref[locus])
        a, b = (a * 2)[:2], (b * 2)[:2]
        same = max(sum(x == y for x, y in zip(a, b, strict=True)), sum(x == y for x, y in zip(a, b[::-1], strict=True)))
        if same == 2:
            matched += 1
        mismatches += 2 - same
    if matched < 6 or mismatches > 1:
        return None
    return ("full" if mismatches == 0 else "near", matched, mismatches)


def test_search_equals_pure_python_reference_on_synthetic_data() -> None:
    synth = generate(400, n_probes=60, seed=3)
    probes = synth.probes.filter(pl.col("kind") == "reference")
    index = cm.DnaIndex(synth.database)
    got = index.search(probes)
    as_sets = lambda t: {  # noqa: E731
        pid: {r["locus"]: set(r["allele"]) for r in g.group_by("locus").agg("allele").to_dicts()}
        for (pid,), g in t.group_by("profile_id")
    }
    db, pr = as_sets(synth.database), as_sets(probes)
    want = []
    for pid in probes["profile_id"].unique(maintain_order=True):
        for rid in sorted(db):
            r = prum_reference(pr[pid], db[rid])
            if r:
                want.append((pid, rid, *r))
    want.sort(key=lambda h: (h[0], h[2] != "full", -h[3], h[4], h[1]))
    order = {p: i for i, p in enumerate(probes["profile_id"].unique(maintain_order=True))}
    want.sort(key=lambda h: order[h[0]])
    got_rows = got.select("probe_id", "profile_id", "match_class", "loci_matched", "mismatched_alleles").rows()
    assert got_rows == want
    assert len(got_rows) >= 10


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["D3S1358", "vWA", "D8S1179", "D21S11", "D18S51", "TH01", "FGA", "D1S1656"]),
        st.lists(st.sampled_from(["8", "9", "9.3", "10", "11", "*"]), min_size=1, max_size=2),
        min_size=1,
    ),
    st.dictionaries(
        st.sampled_from(["D3S1358", "vWA", "D8S1179", "D21S11", "D18S51", "TH01", "FGA", "D1S1656"]),
        st.lists(st.sampled_from(["8", "9", "9.3", "10", "11"]), min_size=1, max_size=2),
        min_size=1,
    ),
)
def test_properties_self_full_symmetry_moderate_contains_high(a: dict[str, list[str]], b: dict[str, list[str]]) -> None:
    index = cm.DnaIndex(long({"A": a, "B": b}))
    self_hits = index.search(long({"A": a}), min_loci=1)
    # A locus with a wildcard is compared but never counts, so a profile needs one designated locus.
    if not all("*" in v for v in a.values()):
        assert ("A", "full") in list(zip(self_hits["profile_id"], self_hits["match_class"], strict=True))
    for rules in ("prum", "codis-high", "codis-low"):
        ab = cm.DnaIndex(long({"B": b})).search(long({"A": a}), rules=rules, min_loci=1, max_mismatches=3)
        ba = cm.DnaIndex(long({"A": a})).search(long({"B": b}), rules=rules, min_loci=1, max_mismatches=3)
        cols = ["match_class", "loci_compared", "loci_matched", "mismatched_alleles"]
        assert ab.select(cols).rows() == ba.select(cols).rows(), rules
    high = index.search(long({"A": a}), rules="codis-high", min_loci=1)
    moderate = index.search(long({"A": a}), rules="codis-moderate", min_loci=1)
    assert set(high["profile_id"]) <= set(moderate["profile_id"])


def test_save_load_pickle_and_corruption(tmp_path: Path) -> None:
    synth = generate(200, seed=1)
    index = cm.DnaIndex(synth.database)
    probes = synth.probes
    want = index.search(probes)
    path = tmp_path / "db.dnaidx"
    index.save(path)
    assert cm.DnaIndex.load(path).search(probes).equals(want)
    assert pickle.loads(pickle.dumps(index)).search(probes).equals(want)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError):
        cm.DnaIndex.load(path)
    path.write_bytes(b"not an index at all")
    with pytest.raises(IndexFileError):
        cm.DnaIndex.load(path)


def test_identical_genotypes_through_the_hash() -> None:
    synth = generate(300, seed=2)
    index = cm.DnaIndex(synth.database)
    same = synth.truth.filter(pl.col("relation") == "same")
    found = index.find_identical(synth.probes.filter(pl.col("profile_id").is_in(same["probe_id"].implode())))
    pairs = set(found.rows())
    assert set(zip(same["probe_id"], same["source_id"], strict=True)) <= pairs


def test_cmf_round_trip_and_errors(tmp_path: Path) -> None:
    profiles = cm.DnaProfiles(long({"S1": SIX | {"AMEL": ["X", "Y"]}, "S&2": {"TH01": ["<5", "OL"]}}))
    path = tmp_path / "x.xml"
    profiles.to_cmf(path, source_lab="LAB1")
    back = read_cmf(path)
    assert set(back["profile_id"]) == {"S1", "S&2"}
    assert (
        cm.DnaProfiles(path)
        .to_long()
        .sort("profile_id", "locus", "allele")
        .equals(profiles.to_long().sort("profile_id", "locus", "allele"))
    )
    path.write_text("<CODISImportFile><SPECIMEN><LOCUS/></SPECIMEN></CODISImportFile>")
    with pytest.raises(FormatError, match="SPECIMENID"):
        read_cmf(path)


def test_genemapper_wide_table() -> None:
    wide = pl.DataFrame(
        {
            "Sample Name": ["A", "A", "B"],
            "Marker": ["TH01", "FGA", "TH01"],
            "Allele 1": ["6", "22", "9.3"],
            "Allele 2": ["9.3", None, ""],
            "Allele 3": [None, None, None],
        }
    )
    table = from_genemapper(wide)
    assert table.rows() == [("A", "TH01", "6"), ("A", "TH01", "9.3"), ("A", "FGA", "22"), ("B", "TH01", "9.3")]
    assert len(cm.DnaProfiles(wide)) == 2


def test_cli_dna_end_to_end(tmp_path: Path) -> None:
    runner = CliRunner()
    syn = tmp_path / "syn"
    r = runner.invoke(main, ["synth", "dna", "--profiles", "300", "--out", str(syn)])
    assert r.exit_code == 0, r.output
    probes = pl.read_parquet(syn / "probes.parquet")
    bad = pl.DataFrame({"profile_id": ["PRB00000000"], "locus": ["TH01"], "allele": ["abc"], "kind": ["reference"]})
    pl.concat([probes, bad]).write_parquet(syn / "probes_bad.parquet")
    out = tmp_path / "out"
    args = ["dna", "--database", str(syn / "database.parquet"), "--probes", str(syn / "probes_bad.parquet")]
    args += ["--out", str(out), "--frequencies", "nist1036-cauc", "--familial", "full-sibling"]
    args += ["--operator", "tester", "--justification", "unit test", "--case-ref", "T-1"]
    args += ["--audit-log", str(tmp_path / "audit.jsonl")]
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    c = summary["counts"]
    assert c["probe_rows_used"] + c["probe_rows_rejected"] == c["probe_rows"]
    assert c["probes_matched"] + c["probes_unmatched"] == c["probes"]
    assert c["probe_rows_rejected"] >= 1
    hits = pl.read_parquet(out / "hits.parquet")
    assert c["hits"] == hits.height
    truth = pl.read_parquet(syn / "truth.parquet").filter(pl.col("relation") == "same")
    found = hits.join(truth, left_on=["probe_id", "profile_id"], right_on=["probe_id", "source_id"])
    assert found.height == truth.height
    rejects = pl.read_parquet(out / "rejects.parquet")
    assert rejects.columns == ["input", "row", "record_id", "field", "reason"]
    assert (out / "familial.parquet").exists()
    assert all(a <= b for a, b in pairwise([0, 1]))
