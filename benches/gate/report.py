"""Regenerating every table of BENCHMARKS.md from the committed snapshots (``benches/results/*.json``).

A block ``<!-- gate:begin NAME -->`` … ``<!-- gate:end -->`` is replaced by generated text; everything outside the
markers is prose that people write (method, caveats, what a figure means), never a figure. ``NAME`` is:

``<gate prefix>`` (``plates``, ``finger``, ``dna`` …)
    every gate of that prefix: subject/peer throughput ratio with its floor, then the accuracy figures.
``timings:<bench>``
    every benchmark of a pytest file (``timings:test_bench_plates``) or criterion group (``timings:plate_index``):
    fastest and median time, items, throughput, ratio to its in-run peer and what it recorded (sizes, hits …).
``instructions``
    the callgrind counts with their bounds.
``run:<modality>``
    the facts of that modality's run (date, commit, machine, load average, versions).
``noise``
    the ratios of every run the committed floors were set from, and their spread.

Each generated table ends with the command, date, commit, machine and load average of the run it comes from.
Rendering reads only the snapshots and floors, so BENCHMARKS.md is a pure function of committed files
(tests/test_bench_gate.py checks it). A gate prefix without a block gets a generated section appended.
"""

from __future__ import annotations

import re

from gate.check import GateRatio, gate_ratios
from gate.floors import Floors
from gate.machine import summary
from gate.modalities import MODALITIES
from gate.results import Metric, Results, Timing
from gate.snapshot import Snapshot

BLOCK = re.compile(r"(<!-- gate:begin (?P<name>[\w.:\-]+) -->\n)(?P<body>.*?)(<!-- gate:end -->)", re.DOTALL)


def _seconds(s: float | None) -> str:
    if s is None:
        return "-"
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


def _value(v: str | int | float | bool) -> str:
    if isinstance(v, bool | str):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.4g}"


def prefix(gate: str) -> str:
    """The BENCHMARKS.md block a gate belongs to: its name up to the first dot."""
    return gate.split(".", 1)[0]


def _in_block(name: str, gate: str) -> bool:
    return gate == name or gate.startswith(name + ".")


def short_name(t: Timing) -> str:
    """A benchmark's name without its file (pytest) or group (criterion)."""
    return t.name.split("::", 1)[1] if "::" in t.name else t.name.split("/", 1)[-1]


def _commands(snap: Snapshot, timings: list[Timing]) -> str:
    parts = []
    files = sorted({t.name.split("::", 1)[0] for t in timings if t.source == "pytest-benchmark"})
    if files:
        parts.append(
            f"pytest-benchmark: `CGI_MATCH_BENCH_SCALE={snap.scale} pytest {' '.join(files)} --benchmark-enable "
            "--benchmark-only --benchmark-warmup=on`"
        )
    benches = MODALITIES[snap.modality].criterion_benches if snap.modality in MODALITIES else ()
    if any(t.source == "criterion" for t in timings) and benches:
        parts.append("criterion: `cargo bench -p cgi-match-core " + " ".join(f"--bench {b}" for b in benches) + "`")
    threads = snap.machine.get("threads", "?")
    env = f" under `RAYON_NUM_THREADS={threads} POLARS_MAX_THREADS={threads}`" if threads.isdigit() else ""
    return ("Commands: " + "; ".join(parts) + env + ". ") if parts else ""


def _footer(snaps: list[Snapshot], timings: list[Timing]) -> list[str]:
    """The command and run facts of every snapshot that holds one of ``timings`` (or, without timings, of all)."""
    lines = []
    for snap in snaps:
        mine = [t for t in timings if t in snap.timings]
        lines += ["", _commands(snap, mine) + snap.run_line()]
    return lines


def gate_table(ratios: list[GateRatio], metrics: list[Metric], floors: Floors) -> list[str]:
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
                f"| `{g.gate}` | {g.scale} | {g.subject.items:,} | `{short_name(g.subject)}`: "
                f"{_seconds(g.subject.seconds)}, {_rate(g.subject.throughput)} | `{short_name(g.peer)}`: "
                f"{_seconds(g.peer.seconds)}, {_rate(g.peer.throughput)} | **{g.ratio:.3g}x** | "
                f"{f'{floor.floor:.3g}x' if floor else '-'} |"
            )
        lines += ["", "Throughput from the fastest round of each side, both measured in the same run."]
    if metrics:
        if lines:
            lines.append("")
        lines += ["| accuracy figure | scale | value | bound |", "|---|---|---:|---:|"]
        for m in sorted(metrics, key=lambda m: (m.key, m.scale)):
            bound = floors.metrics.get(m.scale, {}).get(m.key)
            shown = "-" if bound is None else f"{'≥' if bound.better == 'higher' else '≤'} {bound.bound:.4g}"
            lines.append(f"| `{m.key}` | {m.scale} | {m.value:.4g} | {shown} |")
    return lines


def timings_table(timings: list[Timing], all_timings: list[Timing]) -> list[str]:
    """Markdown for every benchmark of one pytest file or criterion group."""
    by_name = {short_name(t): t for t in all_timings}
    ratios = {}
    for g in gate_ratios(Results(all_timings, [])):
        ratios[g.subject.name] = f"**{g.ratio:.3g}x** `{short_name(g.peer)}` (gate `{g.gate}`)"
        ratios[g.peer.name] = f"peer of `{g.gate}`"
    lines = [
        "| benchmark | fastest | median | rounds | items/call | throughput | vs in-run peer | recorded |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for t in timings:
        vs = ratios.get(t.name, "")
        baseline = t.info.get("vs")
        if not vs and isinstance(baseline, str) and baseline in by_name and t.seconds > 0:
            # A declared baseline without a gate (`extra_info["vs"]`): how many times faster than it, same run.
            vs = f"{by_name[baseline].seconds / t.seconds:.3g}x `{baseline}`"
        info = ", ".join(f"{k}={_value(v)}" for k, v in t.info.items() if k != "vs")
        lines.append(
            f"| `{short_name(t)}` | {_seconds(t.seconds)} | {_seconds(t.median)} | {t.rounds or '-'} | "
            f"{f'{t.items:,}' if t.items else '-'} | {_rate(t.throughput)} | {vs} | {info} |"
        )
    return lines


def instructions_table(snaps: list[Snapshot], floors: Floors) -> list[str]:
    """Markdown for the callgrind counts of every modality."""
    lines = ["| kernel | items | instructions | per item | bound |", "|---|---:|---:|---:|---:|"]
    for snap in snaps:
        for c in sorted(snap.instructions, key=lambda c: c.kernel):
            b = floors.instructions.get(c.kernel)
            lines.append(
                f"| `{c.kernel}` | {c.items:,} | {c.instructions:,} | {c.per_item:,.0f} | "
                f"{f'{b.max:,}' if b else '-'} |"
            )
    lines += [
        "",
        "Command: `make bench-instructions` → `PYTHONPATH=benches python -m gate instructions` (builds "
        "`crates/matcher/examples/kernels.rs` in release, runs each kernel under "
        "`valgrind --tool=callgrind --toggle-collect='*measured_kernel_run*'`), also run by `make bench`.",
    ]
    return lines


def noise_table(floors: Floors) -> list[str]:
    """The ratios of the runs each committed floor was set from, and their spread."""
    lines = [
        "| gate | scale | runs | ratios (each run) | spread (max ÷ min) | floor (slowest ÷ margin) |",
        "|---|---|---:|---|---:|---:|",
    ]
    for scale in sorted(floors.ratios):
        for gate, f in sorted(floors.ratios[scale].items()):
            runs = f.runs or (f.measured,)
            spread = max(runs) / min(runs) if min(runs) > 0 else float("nan")
            lines.append(
                f"| `{gate}` | {scale} | {len(runs)} | {', '.join(f'{r:.3g}' for r in runs)} | {spread:.2f} | "
                f"{f.floor:.3g}x (÷ {floors.margin(scale):g}) |"
            )
    return lines


def _block(name: str, snaps: list[Snapshot], floors: Floors) -> list[str] | None:
    """The generated lines of one block, or None when no committed snapshot has figures for it."""
    timings = [t for s in snaps for t in s.timings]
    if name == "instructions":
        with_counts = [s for s in snaps if s.instructions]
        return instructions_table(with_counts, floors) + _footer(with_counts, []) if with_counts else None
    if name == "noise":
        return noise_table(floors) if floors.ratios else None
    if name.startswith("run:"):
        found = [s for s in snaps if s.modality == name[4:]]
        if not found:
            return None
        lines = []
        for s in found:
            lines += [f"- {', '.join(s.sources)}: {s.run_line()} Machine and versions: {summary(s.machine)}."]
        return lines
    if name.startswith("timings:"):
        sel = name[len("timings:") :]
        mine = sorted(
            (t for t in timings if t.name.startswith(sel + "/") or f"/{sel}.py::" in f"/{t.name}"),
            key=lambda t: t.name,
        )
        if not mine:
            return None
        owners = [s for s in snaps if any(t in s.timings for t in mine)]
        return timings_table(mine, timings) + _footer(owners, mine)
    ratios = [g for g in gate_ratios(Results(timings, [])) if _in_block(name, g.gate)]
    metrics = [m for s in snaps for m in s.metrics if _in_block(name, m.gate)]
    if not ratios and not metrics:
        return None
    used = {t.name for t in timings if t.gate is not None and _in_block(name, t.gate)}
    owners = [
        s for s in snaps if any(_in_block(name, m.gate) for m in s.metrics) or any(t.name in used for t in s.timings)
    ]
    return gate_table(ratios, metrics, floors) + _footer(owners, [t for t in timings if t.name in used])


def render(text: str, snaps: list[Snapshot], floors: Floors) -> str:
    """BENCHMARKS.md with every block regenerated from ``snaps`` and new gate prefixes appended."""

    def replace(m: re.Match[str]) -> str:
        name = m.group("name")
        lines = _block(name, snaps, floors)
        if lines is None:
            lines = [
                f"_No recorded figures for `{name}`: run `make bench` for its modality and commit benches/results._"
            ]
        return f"{m.group(1)}" + "\n".join(lines) + f"\n{m.group(4)}"

    out = BLOCK.sub(replace, text)
    present = {m.group("name") for m in BLOCK.finditer(text)}
    gates = {t.gate for s in snaps for t in s.timings if t.gate} | {m.gate for s in snaps for m in s.metrics}
    for name in sorted({prefix(g) for g in gates} - present):
        lines = _block(name, snaps, floors) or []
        out = out.rstrip("\n") + (
            f"\n\n## {name} (generated by the benchmark gate)\n\n<!-- gate:begin {name} -->\n"
            + "\n".join(lines)
            + "\n<!-- gate:end -->\n"
        )
    return out
