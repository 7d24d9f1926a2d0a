"""Regenerating the tables of BENCHMARKS.md from a run's results, between marker comments.

A block ``<!-- gate:begin NAME -->`` … ``<!-- gate:end -->`` is replaced by generated text; everything outside
the markers is prose that people write. ``NAME`` is ``machine`` (machine facts and commands),
``instructions`` (callgrind counts) or a gate prefix such as ``plates`` (every gate named ``plates`` or
``plates.…``). A gate whose prefix has no block gets a new generated section at the end, so a new benchmark
shows up without anyone editing the file. A block whose figures are not in this run keeps its old text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gate.check import GateRatio, gate_ratios
from gate.floors import Floors
from gate.instructions import InstructionCount
from gate.machine import summary
from gate.results import Metric, Results

BLOCK = re.compile(r"(<!-- gate:begin (?P<name>[\w.\-]+) -->\n)(?P<body>.*?)(<!-- gate:end -->)", re.DOTALL)

# What `make bench` runs for each source (Makefile `bench-run`; one thread, see BENCH_ENV there).
COMMANDS = {
    "pytest-benchmark": "`CGI_MATCH_BENCH_SCALE=full pytest benches --benchmark-only --benchmark-warmup=on`",
    "criterion": "`cargo bench -p cgi-match-core --benches`",
}


def _seconds(s: float) -> str:
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= factor:
            return f"{s / factor:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _rate(r: float | None) -> str:
    if r is None:
        return "-"
    for unit, factor in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if r >= factor:
            return f"{r / factor:.3g} {unit}/s"
    return f"{r:.3g} /s"


def prefix(gate: str) -> str:
    """The BENCHMARKS.md block a gate belongs to: its name up to the first dot."""
    return gate.split(".", 1)[0]


def _in_block(name: str, gate: str) -> bool:
    return gate == name or gate.startswith(name + ".")


def gate_table(ratios: list[GateRatio], metrics: list[Metric], floors: Floors) -> str:
    """Markdown for a set of gates: ratio table, then accuracy figures."""
    lines: list[str] = []
    if ratios:
        lines += [
            "| gate | scale | items/call | cgi-match (subject) | peer | subject/peer throughput | floor |",
            "|---|---|---:|---|---|---:|---:|",
        ]
        for g in ratios:
            floor = floors.ratios.get(g.scale, {}).get(g.gate)
            lines.append(
                f"| `{g.gate}` | {g.scale} | {g.subject.items:,} | `{g.subject.name}`: {_seconds(g.subject.seconds)}"
                f", {_rate(g.subject.throughput)} | `{g.peer.name}`: {_seconds(g.peer.seconds)}, "
                f"{_rate(g.peer.throughput)} | **{g.ratio:.3g}x** | {f'{floor.floor:.3g}x' if floor else '-'} |"
            )
        sources = sorted({part for g in ratios for part in g.source.split("+")})
        lines += [
            "",
            "Command: `make bench` ("
            + "; ".join(f"{s}: {COMMANDS.get(s, s)}" for s in sources)
            + ", under `RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1`). Throughput from the fastest round.",
        ]
    if metrics:
        lines += ["", "| accuracy figure | scale | value | bound |", "|---|---|---:|---:|"]
        for m in metrics:
            bound = floors.metrics.get(m.scale, {}).get(m.key)
            shown = "-" if bound is None else f"{'≥' if bound.better == 'higher' else '≤'} {bound.bound:.4g}"
            lines.append(f"| `{m.key}` | {m.scale} | {m.value:.4g} | {shown} |")
    return "\n".join(lines) + "\n"


def instructions_table(counts: list[InstructionCount], floors: Floors) -> str:
    """Markdown for the callgrind counts."""
    lines = [
        "| kernel | items | instructions | per item | bound |",
        "|---|---:|---:|---:|---:|",
    ]
    for c in counts:
        b = floors.instructions.get(c.kernel)
        lines.append(
            f"| `{c.kernel}` | {c.items:,} | {c.instructions:,} | {c.per_item:,.0f} | {f'{b.max:,}' if b else '-'} |"
        )
    lines += [
        "",
        "Command: `make bench-instructions` → `PYTHONPATH=benches python -m gate instructions` (builds "
        "`crates/matcher/examples/kernels.rs` in release, runs each kernel under "
        "`valgrind --tool=callgrind --toggle-collect='*measured_kernel_run*'`).",
    ]
    return "\n".join(lines) + "\n"


def machine_block(machine: dict[str, str], when: str | None) -> str:
    """Markdown for the machine facts of the run."""
    run = f" Run of {when}." if when else ""
    return f"Machine: {summary(machine)}.{run}\n"


def render(
    text: str,
    results: Results,
    counts: Iterable[InstructionCount] | None,
    floors: Floors,
    machine: dict[str, str],
    when: str | None = None,
) -> str:
    """BENCHMARKS.md with every block this run has figures for regenerated, and new blocks appended."""
    ratios = gate_ratios(results)
    counts = list(counts or [])
    blocks: dict[str, str] = {"machine": machine_block(machine, when)}
    if counts:
        blocks["instructions"] = instructions_table(counts, floors)
    names = sorted({prefix(g.gate) for g in ratios} | {prefix(m.gate) for m in results.metrics})
    for name in names:
        blocks[name] = gate_table(
            [g for g in ratios if _in_block(name, g.gate)],
            [m for m in results.metrics if _in_block(name, m.gate)],
            floors,
        )
    present = {m.group("name") for m in BLOCK.finditer(text)}

    def replace(m: re.Match[str]) -> str:
        name = m.group("name")
        body = blocks.get(name, m.group("body"))
        return f"{m.group(1)}{body}{m.group(4)}"

    out = BLOCK.sub(replace, text)
    for name in names:
        if name not in present:
            out = out.rstrip("\n") + (
                f"\n\n## {name} (generated by the benchmark gate)\n\n"
                f"<!-- gate:begin {name} -->\n{blocks[name]}<!-- gate:end -->\n"
            )
    return out
