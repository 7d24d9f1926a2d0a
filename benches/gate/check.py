"""Comparing one run with the committed floors, and deriving new floors from a run.

A gate's figure is ``throughput(subject) / throughput(peer)`` from the same run: whatever slows the machine
slows both sides, so the ratio survives noise that moves absolute times by 2x.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gate.floors import Floors, InstructionBound, MetricBound, RatioFloor
from gate.instructions import InstructionCount
from gate.modalities import covers
from gate.results import Results, Timing


class GateError(ValueError):
    """A run whose gate declarations are inconsistent (two subjects for one gate, a peer without subject …)."""


@dataclass(frozen=True)
class GateRatio:
    """One gate's in-run ratio."""

    gate: str
    scale: str
    source: str
    subject: Timing
    peer: Timing

    @property
    def ratio(self) -> float:
        """Subject throughput over peer throughput (>1: cgi-match is faster than the peer)."""
        s, p = self.subject.throughput, self.peer.throughput
        if s is None or p is None or p == 0:
            raise GateError(f"gate {self.gate}: a side has no throughput")
        return s / p


@dataclass(frozen=True)
class Row:
    """One line of the gate's table."""

    kind: str  # "ratio" | "metric" | "instructions"
    name: str
    scale: str
    value: str
    bound: str
    status: str  # "ok" | "improved" | "REGRESSED" | "MISSING" | "no floor" | "skipped"
    detail: str

    @property
    def failed(self) -> bool:
        """Whether this row makes the gate exit non-zero."""
        return self.status in ("REGRESSED", "MISSING")


def gate_ratios(results: Results) -> list[GateRatio]:
    """Pairs each gate's subject with its peer; each (gate, scale) must have exactly one of each."""
    sides: dict[tuple[str, str], dict[str, list[Timing]]] = {}
    for t in results.timings:
        if t.gate is None or t.role is None:
            continue
        sides.setdefault((t.gate, t.scale), {}).setdefault(t.role, []).append(t)
    out = []
    for (gate, scale), roles in sorted(sides.items()):
        for role in ("subject", "peer"):
            found = roles.get(role, [])
            if len(found) != 1:
                names = ", ".join(t.name for t in found) or "none"
                raise GateError(f"gate {gate} ({scale}) needs exactly one {role}, found {len(found)}: {names}")
        subject, peer = roles["subject"][0], roles["peer"][0]
        source = subject.source if subject.source == peer.source else f"{subject.source}+{peer.source}"
        out.append(GateRatio(gate, scale, source, subject, peer))
    return out


def _pct(value: float, bound: float) -> str:
    return f"{(value / bound - 1) * 100:+.0f}%"


def compare(
    floors: Floors,
    results: Results,
    counts: Iterable[InstructionCount] | None,
    scales: Iterable[str],
    sources: Iterable[str],
    modalities: set[str] | None = None,
) -> list[Row]:
    """Rows for every figure of the run and every committed floor that the run should have produced.

    ``scales``, ``sources`` and ``modalities`` (None: all) say what this run covered, so a floor outside it is
    not reported missing (the tiny gate inside `make test` runs no criterion bench; `make bench-check
    MODALITY=dna` runs no plate bench); ``counts`` is None when instructions were not counted.
    """
    scales, sources = set(scales), set(sources)
    rows: list[Row] = []
    seen: set[tuple[str, str]] = set()
    for g in gate_ratios(results):
        seen.add((g.scale, g.gate))
        ratio = g.ratio
        floor = floors.ratios.get(g.scale, {}).get(g.gate)
        value = f"{ratio:.3g}x"
        if floor is None:
            rows.append(Row("ratio", g.gate, g.scale, value, "-", "no floor", "run `make bench-floors`"))
        elif ratio < floor.floor:
            detail = f"{_pct(ratio, floor.floor)} below floor; {_pct(ratio, floor.measured)} vs when set"
            rows.append(Row("ratio", g.gate, g.scale, value, f">= {floor.floor:.3g}x", "REGRESSED", detail))
        else:
            detail = f"{_pct(ratio, floor.measured)} vs when set ({floor.measured:.3g}x)"
            rows.append(Row("ratio", g.gate, g.scale, value, f">= {floor.floor:.3g}x", "ok", detail))
    for scale in sorted(scales):
        for gate, floor in sorted(floors.ratios.get(scale, {}).items()):
            covered = any(part in sources for part in floor.source.split("+")) and covers(modalities, gate)
            if (scale, gate) not in seen and covered:
                rows.append(Row("ratio", gate, scale, "-", f">= {floor.floor:.3g}x", "MISSING", "gate not in this run"))
    seen_metrics: set[tuple[str, str]] = set()
    for m in results.metrics:
        seen_metrics.add((m.scale, m.key))
        bound = floors.metrics.get(m.scale, {}).get(m.key)
        value = f"{m.value:.4g}"
        if bound is None:
            rows.append(Row("metric", m.key, m.scale, value, "-", "no floor", "run `make bench-floors`"))
            continue
        op = ">=" if bound.better == "higher" else "<="
        bad = m.value < bound.bound if bound.better == "higher" else m.value > bound.bound
        detail = f"{m.value - bound.measured:+.4g} vs when set ({bound.measured:.4g})"
        rows.append(
            Row("metric", m.key, m.scale, value, f"{op} {bound.bound:.4g}", "REGRESSED" if bad else "ok", detail)
        )
    if "pytest-benchmark" in sources:
        for scale in sorted(scales):
            for key, bound in sorted(floors.metrics.get(scale, {}).items()):
                if (scale, key) not in seen_metrics and covers(modalities, key):
                    op = ">=" if bound.better == "higher" else "<="
                    status, detail = (
                        ("skipped", "optional: its data is absent")
                        if bound.optional
                        else (
                            "MISSING",
                            "not reported",
                        )
                    )
                    rows.append(Row("metric", key, scale, "-", f"{op} {bound.bound:.4g}", status, detail))
    if counts is not None:
        counted = {c.kernel: c for c in counts}
        for c in counted.values():
            ib = floors.instructions.get(c.kernel)
            value = f"{c.instructions:,}"
            if ib is None:
                rows.append(Row("instructions", c.kernel, "-", value, "-", "no floor", "run `make bench-floors`"))
            elif ib.items != c.items:
                rows.append(
                    Row(
                        "instructions",
                        c.kernel,
                        "-",
                        value,
                        f"<= {ib.max:,}",
                        "REGRESSED",
                        f"kernel now runs {c.items} items, bound was set for {ib.items}: update the floors",
                    )
                )
            else:
                status = "REGRESSED" if c.instructions > ib.max else "ok"
                detail = f"{_pct(c.instructions, ib.measured)} vs when set ({c.per_item:,.0f}/item)"
                if c.instructions < ib.measured * (1 - 2 * floors.instruction_tolerance):
                    # A bound far above today's count would let the improvement be lost again unnoticed.
                    status = "improved"
                    detail += "; run `make bench-floors` to tighten the bound"
                rows.append(Row("instructions", c.kernel, "-", value, f"<= {ib.max:,}", status, detail))
        for kernel, ib in sorted(floors.instructions.items()):
            if kernel not in counted and covers(modalities, kernel):
                rows.append(Row("instructions", kernel, "-", "-", f"<= {ib.max:,}", "MISSING", "kernel not run"))
    return rows


def table(rows: list[Row]) -> str:
    """The plain-text table the gate prints, failures first so that they are seen in a long CI log."""
    header = ("status", "kind", "figure", "scale", "value", "bound", "detail")
    ordered = sorted(rows, key=lambda r: (not r.failed, r.status != "no floor", r.kind, r.name, r.scale))
    cells = [header] + [(r.status, r.kind, r.name, r.scale, r.value, r.bound, r.detail) for r in ordered]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(header))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed = [r for r in rows if r.failed]
    if failed:
        lines.append(f"\nbenchmark gate FAILED: {len(failed)} of {len(rows)} figures regressed or missing")
    else:
        lines.append(f"\nbenchmark gate passed: {len(rows)} figures checked")
    return "\n".join(lines)


def updated_floors(
    floors: Floors,
    results: Results,
    counts: Iterable[InstructionCount] | None,
    scales: Iterable[str],
    keep_lowest: bool = False,
    sources: Iterable[str] | None = None,
    modalities: set[str] | None = None,
) -> Floors:
    """New floors from this run: the figures of the scales and sources it covered are replaced, others kept.

    ``sources`` (default: every source) names the result kinds this run read: a run of the instruction counts
    alone must not drop the ratio floors.

    With ``keep_lowest``, a gate already in ``floors`` keeps the lower of its committed and its new measured
    ratio: `make bench-floors` runs the benchmarks several times and sets each floor from the slowest run, so
    that a floor never comes from one lucky quiet moment of the machine. Every run's ratio is kept in the
    floor's ``runs`` (BENCHMARKS.md shows their spread). ``modalities`` (None: all) limits the replacement to the
    modalities this run measured, so `make bench-floors MODALITY=dna` leaves the plate floors alone.
    """
    scales = set(scales)
    ran = None if sources is None else set(sources)

    def replaced(scale: str, source: str, name: str) -> bool:
        return (
            scale in scales
            and (ran is None or any(part in ran for part in source.split("+")))
            and covers(modalities, name)
        )

    previous = {s: dict(v) for s, v in floors.ratios.items()} if keep_lowest else {}
    new = Floors(
        ratio_margin=dict(floors.ratio_margin),
        instruction_tolerance=floors.instruction_tolerance,
        metric_slack=floors.metric_slack,
        unfloored={k: list(v) for k, v in floors.unfloored.items()},
        ratios={s: {g: f for g, f in v.items() if not replaced(s, f.source, g)} for s, v in floors.ratios.items()},
        # An optional figure (dev set in ../shared) keeps its bound when this run could not measure it.
        metrics={
            s: {k: b for k, b in v.items() if b.optional or not replaced(s, "pytest-benchmark", k)}
            for s, v in floors.metrics.items()
        },
        instructions={k: b for k, b in floors.instructions.items() if counts is None or not covers(modalities, k)},
    )
    for g in gate_ratios(results):
        if g.scale in scales and g.gate not in floors.unfloored.get(g.scale, []):
            ratio = g.ratio
            runs: tuple[float, ...] = (ratio,)
            old = previous.get(g.scale, {}).get(g.gate)
            if old is not None:
                runs = (*(old.runs or (old.measured,)), ratio)
                ratio = min(ratio, old.measured)
            floor = RatioFloor(ratio, ratio / floors.margin(g.scale), g.source, runs)
            new.ratios.setdefault(g.scale, {})[g.gate] = floor
    for m in results.metrics:
        if m.scale in scales:
            slack = floors.metric_slack
            bound = m.value - slack if m.better == "higher" else m.value + slack
            new.metrics.setdefault(m.scale, {})[m.key] = MetricBound(m.value, m.better, bound, m.optional)
    for c in counts or ():
        limit = int(c.instructions * (1 + floors.instruction_tolerance))
        new.instructions[c.kernel] = InstructionBound(c.items, c.instructions, limit)
    return new
