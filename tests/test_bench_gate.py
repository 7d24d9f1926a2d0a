"""The benchmark gate (benches/gate): reading results, comparing with floors, failing on a slowed kernel."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gate import check, floors, instructions, machine, report
from gate.__main__ import main
from gate.results import Results, ResultsError, load_criterion, load_pytest_benchmark


def _bench(name: str, fastest: float, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "fullname": f"benches/test_x.py::{name}",
        "stats": {"min": fastest, "median": fastest * 1.2, "rounds": 9},
        "extra_info": extra,
    }


def _pytest_json(tmp_path: Path, benches: list[dict[str, Any]], name: str = "run.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"datetime": "2026-11-28T15:00:00", "benchmarks": benches}), encoding="utf-8")
    return path


def _plates_run(tmp_path: Path, subject_seconds: float = 0.01, scale: str = "full", name: str = "run.json") -> Path:
    """A run where the subject processes 1000 items in ``subject_seconds`` and the peer in 0.1 s."""
    return _pytest_json(
        tmp_path,
        [
            _bench("test_rust", subject_seconds, gate="plates.normalise", role="subject", items=1000, scale=scale),
            _bench("test_peer", 0.1, gate="plates.normalise", role="peer", items=1000, scale=scale),
            _bench("test_ungated", 0.5),
            _bench("test_recall", 0.2, gate="plates.search", metrics={"recall": 0.995, "false_hit_rate": 0.001}),
        ],
        name,
    )


def _criterion_result(root: Path, group: str, function: str, fastest_ns: float, items: int | None) -> None:
    d = root / group / function.replace(":", "_") / "new"
    d.mkdir(parents=True)
    bench = {
        "group_id": group,
        "function_id": function,
        "full_id": f"{group}/{function}",
        "throughput": {"Elements": items} if items else None,
    }
    (d / "benchmark.json").write_text(json.dumps(bench), encoding="utf-8")
    estimates = {"median": {"point_estimate": fastest_ns * 1.5}, "mean": {"point_estimate": fastest_ns * 2}}
    (d / "estimates.json").write_text(json.dumps(estimates), encoding="utf-8")
    # Two samples of 4 and 2 iterations; the fastest per-iteration time is fastest_ns.
    sample = {"sampling_mode": "Linear", "iters": [4.0, 2.0], "times": [fastest_ns * 4, fastest_ns * 2 * 1.3]}
    (d / "sample.json").write_text(json.dumps(sample), encoding="utf-8")


def test_ratio_is_subject_over_peer_throughput(tmp_path: Path) -> None:
    results = load_pytest_benchmark(_plates_run(tmp_path))
    (g,) = check.gate_ratios(results)
    assert g.gate == "plates.normalise"
    assert g.ratio == pytest.approx(10.0)
    assert {m.key: m.better for m in results.metrics} == {
        "plates.search.recall": "higher",
        "plates.search.false_hit_rate": "lower",
    }


def test_unknown_metric_direction_must_be_declared(tmp_path: Path) -> None:
    bad = _pytest_json(tmp_path, [_bench("t", 1.0, gate="g", metric="mystery", value=0.5)])
    with pytest.raises(ResultsError, match="no known direction"):
        load_pytest_benchmark(bad)
    ok = _pytest_json(tmp_path, [_bench("t", 1.0, gate="g", metric="mystery", value=0.5, better={"mystery": "lower"})])
    (m,) = load_pytest_benchmark(ok).metrics
    assert m.better == "lower"


def test_gated_benchmark_without_items_is_an_error(tmp_path: Path) -> None:
    bad = _pytest_json(tmp_path, [_bench("t", 1.0, gate="g", role="subject")])
    with pytest.raises(ResultsError, match="must declare items"):
        load_pytest_benchmark(bad)


def test_two_subjects_for_one_gate_is_an_error(tmp_path: Path) -> None:
    path = _pytest_json(
        tmp_path,
        [
            _bench("a", 1.0, gate="g", role="subject", items=1),
            _bench("b", 1.0, gate="g", role="subject", items=1),
            _bench("c", 1.0, gate="g", role="peer", items=1),
        ],
    )
    with pytest.raises(check.GateError, match="exactly one subject"):
        check.gate_ratios(load_pytest_benchmark(path))


def test_criterion_roles_come_from_function_ids(tmp_path: Path) -> None:
    root = tmp_path / "criterion"
    _criterion_result(root, "plates.core", "subject:column", 1e6, 1000)
    _criterion_result(root, "plates.core", "peer:ascii", 5e5, 1000)
    _criterion_result(root, "other", "plain", 1e3, None)
    results = load_criterion(root)
    (g,) = check.gate_ratios(results)
    assert g.ratio == pytest.approx(0.5)
    assert {t.name for t in results.timings if t.gate is None} == {"other/plain"}


def test_stale_criterion_results_are_ignored(tmp_path: Path) -> None:
    root = tmp_path / "criterion"
    _criterion_result(root, "plates.core", "subject:column", 1e6, 1000)
    stamp = tmp_path / "stamp"
    stamp.touch()
    future = stamp.stat().st_mtime + 10
    assert load_criterion(root, newer_than=future).timings == []


def _floors_from(tmp_path: Path, run: Path, counts: list[instructions.InstructionCount]) -> floors.Floors:
    results = load_pytest_benchmark(run)
    return check.updated_floors(floors.Floors(), results, counts, ["full"])


def test_floors_round_trip_through_toml(tmp_path: Path) -> None:
    counts = [instructions.InstructionCount("plate_normalise", 1000, 2_000_000)]
    f = _floors_from(tmp_path, _plates_run(tmp_path), counts)
    text = floors.dump(f)
    tomllib.loads(text)  # valid TOML
    path = tmp_path / "floors.toml"
    path.write_text(text, encoding="utf-8")
    again = floors.load(path)
    assert again.ratios == f.ratios
    assert again.metrics == f.metrics
    assert again.instructions == f.instructions
    assert again.ratios["full"]["plates.normalise"].floor == pytest.approx(10.0 / floors.DEFAULT_RATIO_MARGIN["full"])
    assert again.instructions["plate_normalise"].max == 2_060_000


def test_same_run_passes_and_a_slowed_kernel_fails(tmp_path: Path) -> None:
    f = _floors_from(tmp_path, _plates_run(tmp_path), [])
    same = check.compare(f, load_pytest_benchmark(_plates_run(tmp_path)), None, ["full"], ["pytest-benchmark"])
    assert not any(r.failed for r in same)
    # The subject got 3x slower while the peer did not: the ratio falls from 10x to 3.3x, below the 6.25x floor.
    slowed = load_pytest_benchmark(_plates_run(tmp_path, subject_seconds=0.03, name="slowed.json"))
    rows = check.compare(f, slowed, None, ["full"], ["pytest-benchmark"])
    (bad,) = [r for r in rows if r.failed]
    assert (bad.name, bad.status) == ("plates.normalise", "REGRESSED")
    assert "-47% below floor" in bad.detail
    assert "benchmark gate FAILED" in check.table(rows)


def test_a_machine_twice_as_slow_still_passes(tmp_path: Path) -> None:
    f = _floors_from(tmp_path, _plates_run(tmp_path), [])
    slow = _pytest_json(
        tmp_path,
        [
            _bench("test_rust", 0.02, gate="plates.normalise", role="subject", items=1000),
            _bench("test_peer", 0.2, gate="plates.normalise", role="peer", items=1000),
            _bench("test_recall", 0.4, gate="plates.search", metrics={"recall": 0.995, "false_hit_rate": 0.001}),
        ],
        name="slow.json",
    )
    rows = check.compare(f, load_pytest_benchmark(slow), None, ["full"], ["pytest-benchmark"])
    assert not any(r.failed for r in rows)


def test_missing_gate_and_worse_accuracy_fail(tmp_path: Path) -> None:
    f = _floors_from(tmp_path, _plates_run(tmp_path), [])
    run = _pytest_json(
        tmp_path,
        [
            _bench("test_recall", 0.2, gate="plates.search", metrics={"recall": 0.95, "false_hit_rate": 0.001}),
        ],
        name="partial.json",
    )
    rows = {
        (r.name, r.status) for r in check.compare(f, load_pytest_benchmark(run), None, ["full"], ["pytest-benchmark"])
    }
    assert ("plates.normalise", "MISSING") in rows
    assert ("plates.search.recall", "REGRESSED") in rows
    assert ("plates.search.false_hit_rate", "ok") in rows


def test_floors_of_sources_not_run_are_not_missing(tmp_path: Path) -> None:
    f = _floors_from(tmp_path, _plates_run(tmp_path), [])
    rows = check.compare(f, Results([], []), None, ["full"], ["criterion"])
    assert not any(r.failed for r in rows)
    rows = check.compare(f, Results([], []), None, ["tiny"], ["pytest-benchmark"])
    assert not any(r.failed for r in rows)


def test_instruction_count_above_bound_fails(tmp_path: Path) -> None:
    f = _floors_from(tmp_path, _plates_run(tmp_path), [instructions.InstructionCount("k", 100, 1_000_000)])
    ok = [instructions.InstructionCount("k", 100, 1_020_000)]
    slow = [instructions.InstructionCount("k", 100, 1_100_000)]
    none = Results([], [])
    assert not any(r.failed for r in check.compare(f, none, ok, ["full"], []))
    (bad,) = check.compare(f, none, slow, ["full"], [])
    assert bad.status == "REGRESSED"
    assert "+10%" in bad.detail
    (better,) = check.compare(f, none, [instructions.InstructionCount("k", 100, 500_000)], ["full"], [])
    assert (better.status, better.failed) == ("improved", False)
    (gone,) = check.compare(f, none, [], ["full"], [])
    assert gone.status == "MISSING"


def test_parse_callgrind_totals() -> None:
    text = (
        "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\n\nfl=(1) x\nfn=(1) f\n3 5\n\nsummary: 1234\ntotals: 1234\n"
    )
    assert instructions.parse_callgrind_totals(text) == 1234
    with pytest.raises(instructions.InstructionsError):
        instructions.parse_callgrind_totals("events: Ir\n")


def test_cli_check_exit_codes_and_floors_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    floors_path = tmp_path / "floors.toml"
    run = _plates_run(tmp_path)
    assert main(["floors", "--scale", "full", "--pytest", str(run), "--floors", str(floors_path)]) == 0
    assert main(["check", "--scale", "full", "--pytest", str(run), "--floors", str(floors_path)]) == 0
    slowed = _plates_run(tmp_path, subject_seconds=0.05, name="slowed.json")
    assert main(["check", "--scale", "full", "--pytest", str(slowed), "--floors", str(floors_path)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED" in out
    assert "plates.normalise" in out
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert main(["check", "--scale", "full", "--pytest", str(broken), "--floors", str(floors_path)]) == 2


def _snapshot(modality: str, results: Results, counts: list[instructions.InstructionCount] | None = None) -> Any:
    from gate.snapshot import Snapshot

    return Snapshot(
        modality=modality,
        scale="full",
        command=f"make bench MODALITY={modality}",
        started="2026-11-28 15:00 UTC",
        finished="2026-11-28 15:09 UTC",
        commit="abc1234",
        machine={"cores": "2", "cpu": "Test CPU", "memory": "24 GiB", "os": "Linux", "threads": "1"},
        load_average={"start": [3.5, 3.0, 2.0], "end": [4.25, 3.1, 2.0]},
        sources=["pytest-benchmark"] + (["callgrind"] if counts else []),
        timings=results.timings,
        metrics=results.metrics,
        instructions=counts or [],
    )


def test_report_regenerates_blocks_from_snapshots_and_appends_new_ones(tmp_path: Path) -> None:
    text = (
        "# Benchmarks\n\nHand-written intro.\n\n"
        "## Plates\n\nProse about plates.\n\n<!-- gate:begin plates -->\nold table\n<!-- gate:end -->\n\n"
        "<!-- gate:begin timings:test_x -->\nold\n<!-- gate:end -->\n\n"
        "<!-- gate:begin instructions -->\nold\n<!-- gate:end -->\n\n"
        "## DNA\n\n<!-- gate:begin dna -->\nhand edit\n<!-- gate:end -->\n"
    )
    plates = load_pytest_benchmark(_plates_run(tmp_path))
    finger = [
        _bench("s", 1.0, gate="finger.match", role="subject", items=10),
        _bench("p", 2.0, gate="finger.match", role="peer", items=10),
    ]
    counts = [instructions.InstructionCount("plate_normalise", 1000, 2_000_000)]
    snaps = [
        _snapshot("plates", plates, counts),
        _snapshot("fingerprints", load_pytest_benchmark(_pytest_json(tmp_path, finger, "finger.json"))),
    ]
    out = report.render(text, snaps, floors.Floors())
    assert "Hand-written intro." in out
    assert "Prose about plates." in out
    assert "old table" not in out
    assert "**10x**" in out
    assert "2 cores, Test CPU" in out
    assert "load average 3.5 at the start, 4.2 at the end" in out
    assert "`make bench MODALITY=plates`" in out
    assert "hand edit" not in out  # a block without figures says so instead of keeping typed text
    assert "_No recorded figures for `dna`" in out
    assert "## finger (generated by the benchmark gate)" in out
    assert "plates.search.recall" in out
    assert "| `test_ungated` |" in out  # the timings block lists ungated benchmarks too
    assert "2,000,000" in out
    assert report.render(out, snaps, floors.Floors()) == out


def test_snapshot_round_trips_and_record_report_cli(tmp_path: Path) -> None:
    from gate import snapshot

    snap = _snapshot("plates", load_pytest_benchmark(_plates_run(tmp_path)))
    path = tmp_path / "snap.json"
    snapshot.save(snap, path)
    again = snapshot.load(path)
    assert snapshot.to_json(again) == snapshot.to_json(snap)
    assert again.results().timings[0].median is not None
    results = tmp_path / "results"
    assert main(["record", str(path), "--results", str(results)]) == 0
    md = tmp_path / "B.md"
    md.write_text("# B\n\n<!-- gate:begin plates -->\n<!-- gate:end -->\n", encoding="utf-8")
    args = ["--markdown", str(md), "--results", str(results), "--floors", str(tmp_path / "none.toml")]
    assert main(["report", "--check", *args]) == 1
    assert main(["report", *args]) == 0
    assert main(["report", "--check", *args]) == 0
    md.write_text(md.read_text(encoding="utf-8").replace("**10x**", "**12x**"), encoding="utf-8")
    assert main(["report", "--check", *args]) == 1


def test_a_modality_run_leaves_the_other_modalities_floors_alone(tmp_path: Path) -> None:
    from gate import snapshot

    both = [
        _bench("a", 0.01, gate="plates.normalise", role="subject", items=1000),
        _bench("b", 0.1, gate="plates.normalise", role="peer", items=1000),
        _bench("c", 0.01, gate="dna.search", role="subject", items=1000),
        _bench("d", 0.1, gate="dna.search", role="peer", items=1000),
    ]
    floors_path = tmp_path / "floors.toml"
    assert (
        main(["floors", "--scale", "full", "--pytest", str(_pytest_json(tmp_path, both)), "--floors", str(floors_path)])
        == 0
    )
    dna_only = _snapshot("dna", load_pytest_benchmark(_pytest_json(tmp_path, both[2:], "dna.json")))
    dna_path = tmp_path / "dna.snap.json"
    snapshot.save(dna_only, dna_path)
    # The DNA run has no plate figures: not MISSING, since it did not cover plates.
    assert main(["check", "--snapshot", str(dna_path), "--floors", str(floors_path)]) == 0
    assert main(["floors", "--keep-lowest", "--snapshot", str(dna_path), "--floors", str(floors_path)]) == 0
    committed = floors.load(floors_path)
    assert set(committed.ratios["full"]) == {"plates.normalise", "dna.search"}
    assert committed.ratios["full"]["dna.search"].runs == (10.0, 10.0)


def test_optional_accuracy_figures_are_skipped_not_missing(tmp_path: Path) -> None:
    run = _pytest_json(
        tmp_path,
        [_bench("t", 1.0, gate="finger.accuracy_devset", metrics={"eer": 0.02}, optional=True)],
    )
    first = _floors_from(tmp_path, run, [])
    assert first.metrics["full"]["finger.accuracy_devset.eer"].optional
    rows = check.compare(first, Results([], []), None, ["full"], ["pytest-benchmark"])
    assert [r.status for r in rows] == ["skipped"]
    kept = check.updated_floors(first, Results([], []), None, ["full"])
    assert "finger.accuracy_devset.eer" in kept.metrics["full"]


def test_benchmarks_md_is_what_the_committed_results_generate() -> None:
    """BENCHMARKS.md is generated: a hand edit of a figure, or results committed without `make bench-report`,
    fails here. Regenerate with `make bench-report`."""
    from gate import snapshot

    root = Path(__file__).resolve().parents[1]
    text = (root / "BENCHMARKS.md").read_text(encoding="utf-8")
    snaps = snapshot.load_dir(root / "benches" / "results")
    assert snaps, "benches/results holds no recorded run"
    expected = report.render(text, snaps, floors.load(root / "benches" / "floors.toml"))
    assert text == expected, "BENCHMARKS.md differs from its generated tables: run `make bench-report`"


def test_machine_facts_name_cores_and_cpu() -> None:
    facts = machine.facts()
    assert int(facts["cores"]) >= 1
    assert facts["cpu"]
    assert "python" in facts


def test_keep_lowest_sets_floors_from_the_slowest_run(tmp_path: Path) -> None:
    first = _floors_from(tmp_path, _plates_run(tmp_path), [])
    slower = load_pytest_benchmark(_plates_run(tmp_path, subject_seconds=0.02, name="slower.json"))
    kept = check.updated_floors(first, slower, None, ["full"], keep_lowest=True)
    assert kept.ratios["full"]["plates.normalise"].measured == pytest.approx(5.0)
    faster = load_pytest_benchmark(_plates_run(tmp_path, subject_seconds=0.005, name="faster.json"))
    kept = check.updated_floors(kept, faster, None, ["full"], keep_lowest=True)
    assert kept.ratios["full"]["plates.normalise"].measured == pytest.approx(5.0)
    replaced = check.updated_floors(kept, faster, None, ["full"])
    assert replaced.ratios["full"]["plates.normalise"].measured == pytest.approx(20.0)


def test_floors_from_instruction_counts_alone_keep_the_ratio_floors(tmp_path: Path) -> None:
    first = _floors_from(tmp_path, _plates_run(tmp_path), [])
    counts = [instructions.InstructionCount("k", 10, 1000)]
    new = check.updated_floors(first, Results([], []), counts, ["full"], sources=[])
    assert new.ratios == first.ratios
    assert new.metrics == first.metrics
    assert new.instructions["k"].measured == 1000


def test_every_benchmark_file_and_criterion_bench_belongs_to_a_modality() -> None:
    """`make bench MODALITY=…` runs what benches/gate/modalities.py lists: a new file must be listed there."""
    from gate.modalities import MODALITIES

    root = Path(__file__).resolve().parents[1]
    files = {p.name for p in (root / "benches").glob("test_bench_*.py")}
    listed = {f for m in MODALITIES.values() for f in m.pytest_files}
    assert files - listed == set(), "add these pytest files to benches/gate/modalities.py"
    manifest = tomllib.loads((root / "crates" / "matcher" / "Cargo.toml").read_text(encoding="utf-8"))
    benches = {b["name"] for b in manifest.get("bench", [])}
    assert benches - {b for m in MODALITIES.values() for b in m.criterion_benches} == set()


def test_committed_results_pass_the_committed_floors() -> None:
    """The recorded runs are among those the floors were set from, so they must pass them."""
    from gate import snapshot

    root = Path(__file__).resolve().parents[1]
    snaps = snapshot.load_dir(root / "benches" / "results")
    args = [a for s in sorted((root / "benches" / "results").glob("*.json")) for a in ("--snapshot", str(s))]
    assert snaps
    assert main(["check", *args, "--floors", str(root / "benches" / "floors.toml")]) == 0
