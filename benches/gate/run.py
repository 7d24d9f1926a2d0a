"""Measuring one modality: its criterion benches, pytest benchmarks and callgrind kernels, into one snapshot.

``gate run --modality plates --scale full --out .benchmarks/plates`` is what ``make bench MODALITY=plates``
calls (under the Makefile's one-thread environment). It records the facts BENCHMARKS.md prints beside every
figure: the command, the date, the commit, the machine and its load average at the start and the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from gate import instructions, machine
from gate.modalities import MODALITIES, of_timing
from gate.results import Results, ResultsError, load_criterion, load_pytest_benchmark
from gate.snapshot import Snapshot, save

PACKAGE = "cgi-match-core"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _commit(repo: Path) -> str:
    try:
        proc = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--exclude", "*"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return proc.stdout.strip() or "unknown"


def _run(cmd: list[str], repo: Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=repo, env=env, check=False)
    if proc.returncode != 0:
        raise ResultsError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}")


def pytest_command(files: list[str], scale: str, json_out: Path) -> list[str]:
    """The pytest-benchmark command of a run (warm-up on; tiny runs take at least 20 rounds)."""
    cmd = [sys.executable, "-m", "pytest", *files, "-q", "--benchmark-enable", "--benchmark-only"]
    cmd += ["--benchmark-warmup=on", f"--benchmark-json={json_out}"]
    if scale == "tiny":
        cmd.append("--benchmark-min-rounds=20")
    return cmd


def run(modality: str, scale: str, out: Path, repo: Path, command: str, skip: set[str] | None = None) -> Snapshot:
    """Runs one modality's benchmarks and writes ``out/snapshot.json``.

    Criterion benches and instruction counts have one size; they run with ``scale="full"`` only. ``skip`` names
    sources to leave out ("criterion", "pytest-benchmark", "callgrind").
    """
    skip = skip or set()
    m = MODALITIES[modality]
    out.mkdir(parents=True, exist_ok=True)
    started, load_start = _now(), _load()
    results = Results([], [])
    sources: list[str] = []
    if scale == "full" and m.criterion_benches and "criterion" not in skip:
        stamp = out / "criterion.stamp"
        stamp.touch()
        since = stamp.stat().st_mtime
        cmd = ["cargo", "bench", "--quiet", "-p", PACKAGE]
        for bench in m.criterion_benches:
            cmd += ["--bench", bench]
        _run(cmd, repo)
        found = load_criterion(repo / "target" / "criterion", newer_than=since)
        results.timings += [t for t in found.timings if of_timing(t) == modality]
        sources.append("criterion")
    files = [f"benches/{f}" for f in m.pytest_files if (repo / "benches" / f).is_file()]
    if files and "pytest-benchmark" not in skip:
        json_out = out / "pytest-benchmark.json"
        json_out.unlink(missing_ok=True)
        env = dict(os.environ, CGI_MATCH_BENCH_SCALE=scale)
        _run(pytest_command(files, scale, json_out.resolve()), repo, env)
        results.extend(load_pytest_benchmark(json_out, default_scale=scale))
        sources.append("pytest-benchmark")
    found_counts: list[instructions.InstructionCount] = []
    if scale == "full" and "callgrind" not in skip:
        found_counts = instructions.measure_all(repo, m.prefixes)
        if found_counts:
            sources.append("callgrind")
    snap = Snapshot(
        modality=modality,
        scale=scale,
        command=command,
        started=started,
        finished=_now(),
        commit=_commit(repo),
        machine=machine.facts(),
        load_average={"start": load_start, "end": _load()},
        sources=sources,
        timings=results.timings,
        metrics=results.metrics,
        instructions=found_counts,
    )
    save(snap, out / "snapshot.json")
    return snap
