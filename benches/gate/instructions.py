"""Instruction counts of the hottest kernels under callgrind: the one figure that repeats on a noisy machine.

The kernels are registered in ``crates/matcher/examples/kernels.rs`` (one line each). This module builds that
example in the ``release`` profile (so ``make test`` reuses the release build of the core that maturin just made:
about 10 s instead of a fresh fat-LTO build), asks it for its list, runs each
kernel under ``valgrind --tool=callgrind`` collecting only inside ``measured_kernel_run`` (so input
preparation is not counted) and reads the total ``Ir`` (instructions executed) from callgrind's output file.

``perf stat -e instructions`` would be cheaper, but the hardware counter is not exposed on every machine
(``perf stat -e instructions true`` prints ``<not supported>`` on this project's CI kind); callgrind counts in
software everywhere valgrind runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

EXAMPLE = "kernels"
PACKAGE = "cgi-match-core"
# The `profiling` profile generates the same code (same count) with debug info, for `callgrind_annotate` when a
# count moves: `cargo build --profile profiling -p cgi-match-core --example kernels`.
PROFILE = "release"
TOGGLE = "*measured_kernel_run*"


class InstructionsError(RuntimeError):
    """The kernels could not be built or counted (valgrind missing, build failure, unreadable output)."""


@dataclass(frozen=True)
class InstructionCount:
    """Instructions one kernel executed on its fixed input."""

    kernel: str
    items: int
    instructions: int

    @property
    def per_item(self) -> float:
        """Instructions per item, the figure BENCHMARKS.md shows."""
        return self.instructions / self.items


def parse_callgrind_totals(text: str) -> int:
    """The ``Ir`` total from a callgrind output file (``events:`` names the columns, ``totals:``/``summary:``)."""
    events: list[str] = []
    totals: list[int] | None = None
    for line in text.splitlines():
        if line.startswith("events:"):
            events = line.split(":", 1)[1].split()
        elif line.startswith(("totals:", "summary:")):
            totals = [int(v) for v in line.split(":", 1)[1].split()]
    if totals is None or "Ir" not in events:
        raise InstructionsError("callgrind output has no Ir totals")
    index = events.index("Ir")
    if index >= len(totals):
        raise InstructionsError("callgrind totals line is shorter than its events line")
    return totals[index]


def build(repo: Path) -> Path:
    """Builds the kernels example and returns the binary's path."""
    cmd = ["cargo", "build", "--quiet", "--profile", PROFILE, "-p", PACKAGE, "--example", EXAMPLE]
    try:
        proc = subprocess.run(cmd, cwd=repo, check=False)
    except OSError as exc:
        raise InstructionsError(f"cannot run cargo: {exc}") from exc
    if proc.returncode != 0:
        raise InstructionsError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}")
    target = Path(os.environ.get("CARGO_TARGET_DIR", repo / "target"))
    binary = target / PROFILE / "examples" / EXAMPLE
    if not binary.is_file():
        raise InstructionsError(f"{binary} was not built")
    return binary


def list_kernels(binary: Path) -> list[tuple[str, int]]:
    """The registry of the kernels example: (name, items) pairs."""
    proc = subprocess.run([str(binary), "--list"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InstructionsError(f"{binary} --list failed: {proc.stderr.strip()}")
    out = []
    for line in proc.stdout.splitlines():
        name, _, items = line.partition("\t")
        if not name or not items.isdigit():
            raise InstructionsError(f"{binary} --list printed an unexpected line {line!r}")
        out.append((name, int(items)))
    return out


def count(binary: Path, kernel: str, items: int) -> InstructionCount:
    """Runs one kernel under callgrind and returns its instruction count."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise InstructionsError("valgrind is not installed (Debian package `valgrind`)")
    with tempfile.TemporaryDirectory() as tmp:
        out_file = Path(tmp) / "callgrind.out"
        cmd = [
            valgrind,
            "--tool=callgrind",
            f"--callgrind-out-file={out_file}",
            f"--toggle-collect={TOGGLE}",
            str(binary),
            kernel,
        ]
        # A fixed, minimal environment, so that the caller's environment (its size moves where the stack and heap
        # start) is not one more variable in the count.
        # valgrind and the kernel are started by absolute path, so PATH can be a constant too.
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            raise InstructionsError(f"callgrind run of {kernel} failed: {proc.stderr.strip()[-2000:]}")
        total = parse_callgrind_totals(out_file.read_text(encoding="utf-8"))
    if total == 0:
        # A zero means the toggle symbol was not found (renamed, or inlined away): counting nothing would pass
        # every bound, so it is an error.
        raise InstructionsError(f"callgrind counted no instructions in {TOGGLE} for {kernel}")
    return InstructionCount(kernel, items, total)


def measure_all(repo: Path, prefixes: tuple[str, ...] | None = None) -> list[InstructionCount]:
    """Builds the example and counts every registered kernel (only those whose name starts with ``prefixes``)."""
    binary = build(repo)
    return [
        count(binary, name, items)
        for name, items in list_kernels(binary)
        if prefixes is None or name.startswith(prefixes)
    ]


def save(counts: list[InstructionCount], path: Path) -> None:
    """Writes the counts as JSON (``.benchmarks/instructions.json``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(c) for c in counts], indent=2) + "\n", encoding="utf-8")


def load(path: Path) -> list[InstructionCount]:
    """Reads counts written by :func:`save`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [InstructionCount(str(d["kernel"]), int(d["items"]), int(d["instructions"])) for d in doc]
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InstructionsError(f"{path}: cannot read instruction counts: {exc}") from exc
