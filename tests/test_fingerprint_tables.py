"""Tables of templates (Parquet / Arrow IPC) as gallery and probes: reading, rejects, and the CLI on them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import cgi_match
from cgi_match import FingerprintGallery
from cgi_match.cli import main
from cgi_match.errors import InvalidInputError
from cgi_match.fingerprint_tables import read_template_table

JOB = ["--operator", "tester", "--justification", "unit test", "--case-ref", "T-1"]


@pytest.fixture(scope="module")
def synthetic() -> tuple[list[bytes], list[bytes]]:
    """ISO records of 10 subjects: impression 0 (gallery) and impression 1 (probes)."""
    truth, templates = cgi_match.synth.fingerprints.templates(10, 2, seed=5)
    imp = truth["impression"].to_list()
    gallery = [t.to_iso19794_2() for t, i in zip(templates, imp, strict=True) if i == 0]
    probes = [t.to_iso19794_2() for t, i in zip(templates, imp, strict=True) if i == 1]
    return gallery, probes


def _gallery_table(records: list[bytes]) -> pa.Table:
    ids = [f"S{k:02d}" for k in range(len(records))]
    fingers: list[int | None] = [2] * len(records)
    blobs: list[bytes | None] = list(records)
    # Four bad rows: no template, garbage bytes, no id, a finger code out of range.
    ids += ["NULLT", "JUNK", None, "BADF"]  # type: ignore[list-item]
    fingers += [1, 1, 1, 11]
    blobs += [None, b"FMR\0 20\0\0\0", records[0], records[1]]
    return pa.table(
        {"subject_id": ids, "finger": pa.array(fingers, pa.int16()), "template": pa.array(blobs, pa.binary())}
    )


def test_read_table_keeps_every_row_accounted_for(synthetic: tuple[list[bytes], list[bytes]], tmp_path: Path) -> None:
    gallery, _ = synthetic
    path = tmp_path / "g.parquet"
    pq.write_table(_gallery_table(gallery), path)
    t = read_template_table(path, "subject_id")
    assert t.rows == len(gallery) + 4
    assert len(t.templates) + t.rejects.height == t.rows
    assert t.ids == [f"S{k:02d}" for k in range(len(gallery))]
    assert set(t.fingers.tolist()) == {2}
    by_field = dict(zip(t.rejects["row"].to_list(), t.rejects["field"].to_list(), strict=True))
    n = len(gallery)
    assert by_field == {n: "template", n + 1: "template", n + 2: "subject_id", n + 3: "finger"}
    reasons = t.rejects["reason"].to_list()
    assert "missing" in reasons[0]
    assert reasons[1].startswith(f"row {n + 1}: record 0, field 'record length' at byte 8")
    assert t.rejects["input"].to_list() == [str(path)] * 4


def test_probe_ids_must_be_unique_and_the_binary_column_is_found(
    synthetic: tuple[list[bytes], list[bytes]], tmp_path: Path
) -> None:
    _, probes = synthetic
    path = tmp_path / "p.arrow"
    ids = [str(k) for k in range(len(probes))] + ["0"]
    feather.write_feather(pa.table({"probe_id": ids, "blob": pa.array([*probes, probes[3]], pa.large_binary())}), path)
    t = read_template_table(path, "probe_id", unique_ids=True)
    assert t.ids == [str(k) for k in range(len(probes))]
    assert t.rejects["reason"].to_list() == [f"row {len(probes)}: probe_id '0' already taken by row 0"]
    two = tmp_path / "two.parquet"
    pq.write_table(pa.table({"probe_id": ["a"], "x": [b"1"], "y": [b"2"]}), two)
    with pytest.raises(InvalidInputError, match="binary columns"):
        read_template_table(two, "probe_id")
    with pytest.raises(InvalidInputError, match="id column"):
        read_template_table(path, "subject_id")


def test_cli_on_tables_matches_the_cli_on_folders(synthetic: tuple[list[bytes], list[bytes]], tmp_path: Path) -> None:
    gallery, probes = synthetic
    g_table, p_table = tmp_path / "g.parquet", tmp_path / "p.parquet"
    pq.write_table(_gallery_table(gallery), g_table)
    pq.write_table(pa.table({"probe_id": [f"S{k:02d}" for k in range(len(probes))], "template": probes}), p_table)
    g_dir, p_dir = tmp_path / "gdir", tmp_path / "pdir"
    g_dir.mkdir()
    p_dir.mkdir()
    for k, (g, p) in enumerate(zip(gallery, probes, strict=True)):
        (g_dir / f"S{k:02d}.iso").write_bytes(g)
        (p_dir / f"S{k:02d}.iso").write_bytes(p)
    runner = CliRunner()
    outs = []
    for name, (g, p) in {"tables": (g_table, p_table), "folders": (g_dir, p_dir)}.items():
        out = tmp_path / name
        args = ["fingerprints", "--gallery", str(g), "--probes", str(p), "--out", str(out), "--top-k", "3"]
        result = runner.invoke(main, [*args, *JOB, "--audit-log", str(tmp_path / "audit.jsonl")])
        assert result.exit_code == 0, result.output
        outs.append(out)
    counts = json.loads((outs[0] / "summary.json").read_text())["counts"]
    assert counts["gallery_rows"] == counts["gallery_templates"] + counts["gallery_rejected_rows"]
    assert counts["gallery_rejected_rows"] == 4
    assert counts["probe_rows"] == counts["probes"] + counts["probe_rejected_rows"] == len(probes)
    assert counts["probes_with_hits"] + counts["probes_without_hits"] == counts["probes"]
    import polars as pl

    hits_t = pl.read_parquet(outs[0] / "hits.parquet")
    hits_f = pl.read_parquet(outs[1] / "hits.parquet")
    assert hits_t.select("probe_id", "subject_id", "score", "rank").equals(
        hits_f.select("probe_id", "subject_id", "score", "rank")
    )
    assert set(hits_t["finger"].to_list()) == {2}
    assert pl.read_parquet(outs[0] / "rejects.parquet").height == 4
    # The searched gallery is the same as one built through the API.
    g = FingerprintGallery()
    t = read_template_table(g_table, "subject_id")
    g.add_many(t.ids, t.templates, t.fingers)
    assert len(g) == counts["gallery_templates"]


@pytest.mark.parametrize("prefilter", ["hashing", "scan"])
def test_cli_prefilter_at_full_penetration_equals_exhaustive(
    synthetic: tuple[list[bytes], list[bytes]], prefilter: str, tmp_path: Path
) -> None:
    import polars as pl

    gallery, probes = synthetic
    g_table, p_table = tmp_path / "g.parquet", tmp_path / "p.parquet"
    pq.write_table(_gallery_table(gallery), g_table)
    pq.write_table(pa.table({"probe_id": [f"S{k:02d}" for k in range(len(probes))], "template": probes}), p_table)
    runner = CliRunner()
    hits = []
    for name, extra in {"exhaustive": [], prefilter: ["--penetration", "1.0", "--prefilter", prefilter]}.items():
        out = tmp_path / name
        args = ["fingerprints", "--gallery", str(g_table), "--probes", str(p_table), "--out", str(out), *extra]
        result = runner.invoke(main, [*args, *JOB, "--audit-log", str(tmp_path / "audit.jsonl")])
        assert result.exit_code == 0, result.output
        summary = json.loads((out / "summary.json").read_text())
        assert summary["parameters"]["prefilter"] == (prefilter if extra else None)
        hits.append(pl.read_parquet(out / "hits.parquet").select("probe_id", "subject_id", "score", "rank"))
    assert hits[0].equals(hits[1])
