"""The committed floors and bounds (``benches/floors.toml``): read with tomllib, written by ``make bench-floors``.

Layout (every table is written by :func:`dump`, never by hand):

``[settings]``
    ``ratio_margin`` (floor = measured ratio / margin, per scale), ``instruction_tolerance`` (bound = measured
    count x (1 + tolerance)), ``metric_slack`` (absolute slack on accuracy figures) and ``unfloored`` (per
    scale, gates that `make bench-floors` leaves without a floor because one run of them is too noisy to gate).
``[ratio.<scale>."<gate>"]``
    ``measured`` (subject/peer throughput ratio when the floor was set: the lowest of ``runs``), ``floor``,
    ``source`` and ``runs`` (each run's ratio, for the spread BENCHMARKS.md shows).
``[metric.<scale>."<gate>.<metric>"]``
    ``measured``, ``better`` and ``min`` or ``max``; ``optional = true`` for a figure measured only where its data
    is (the real dev set in ../shared), which a run without that data skips instead of failing.
``[instructions."<kernel>"]``
    ``items``, ``measured`` and ``max``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Why these defaults (measured on this project's shared 2-core machine, recorded in the issue-8 note; BENCHMARKS.md
# "Gate noise and floors" regenerates the spread of the runs behind the committed floors), at
# load averages of 5-14): with the gate's settings (fastest round, warm-up, one thread) the ratios moved between
# runs by 1.09x (tiny pytest, 9 runs), up to 2.2x (full pytest, 9 runs, one outlier high) and 1.6x (criterion,
# whose subject and peer are measured in separate 8 s windows). Floors are set from the slowest of three runs
# (`make bench-floors`) and a failing timing figure is measured
# again before the gate fails, so a margin of 1.6 at full size keeps the gate quiet and still flags a kernel
# that got ~2x slower. The tiny gate runs inside every `make test` on a loaded machine, where a
# false alarm costs everyone, so it gets 2. Smaller regressions are the instruction counts' job; they repeat
# exactly for one binary, and 3% absorbs a compiler or dependency upgrade.
DEFAULT_RATIO_MARGIN = {"full": 1.6, "tiny": 2.0}
DEFAULT_INSTRUCTION_TOLERANCE = 0.03
DEFAULT_METRIC_SLACK = 0.01


class FloorsError(ValueError):
    """floors.toml is malformed."""


@dataclass(frozen=True)
class RatioFloor:
    """The committed floor of one gate's subject/peer throughput ratio at one scale."""

    measured: float
    floor: float
    source: str
    runs: tuple[float, ...] = ()  # every run's ratio when the floor was set (`make bench-floors` takes several)


@dataclass(frozen=True)
class MetricBound:
    """The committed bound of one accuracy figure at one scale."""

    measured: float
    better: str  # "higher" → value must be >= bound; "lower" → value must be <= bound
    bound: float
    optional: bool = False  # measured only where its data is (../shared): missing from a run is not a failure


@dataclass(frozen=True)
class InstructionBound:
    """The committed upper bound of one kernel's instruction count."""

    items: int
    measured: int
    max: int


@dataclass
class Floors:
    """Everything floors.toml holds."""

    ratio_margin: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATIO_MARGIN))
    instruction_tolerance: float = DEFAULT_INSTRUCTION_TOLERANCE
    metric_slack: float = DEFAULT_METRIC_SLACK
    # Gates left without a floor at a scale, on purpose (reported as "no floor"), because their tiny runs are too
    # short to gate inside every `make test`: the pre-filter search times one round per side, and the tiny exact
    # plate match three rounds of a few milliseconds per side, whose ratio moved from 0.50x to 4.7x over four runs
    # of one commit on 2026-11-28 (load 8-13). Their full-size figures are gated.
    unfloored: dict[str, list[str]] = field(
        default_factory=lambda: {"tiny": ["finger.search_prefilter", "plates.match_exact"]}
    )
    ratios: dict[str, dict[str, RatioFloor]] = field(default_factory=dict)  # scale → gate → floor
    metrics: dict[str, dict[str, MetricBound]] = field(default_factory=dict)  # scale → key → bound
    instructions: dict[str, InstructionBound] = field(default_factory=dict)

    def margin(self, scale: str) -> float:
        """Safety margin for ratio floors at this scale."""
        return self.ratio_margin.get(scale, max(self.ratio_margin.values(), default=2.0))


def _table(doc: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise FloorsError(f"{where}: [{key}] must be a table")
    return value


def _float(table: dict[str, Any], key: str, where: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FloorsError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def load(path: Path) -> Floors:
    """Reads floors.toml; a missing file is an empty set of floors."""
    if not path.exists():
        return Floors()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FloorsError(f"{path}: {exc}") from exc
    floors = Floors()
    settings = _table(doc, "settings", str(path))
    margins = settings.get("ratio_margin", DEFAULT_RATIO_MARGIN)
    if not isinstance(margins, dict) or not all(isinstance(v, int | float) and v >= 1 for v in margins.values()):
        raise FloorsError(f"{path}: settings.ratio_margin must map scale -> number >= 1")
    floors.ratio_margin = {str(k): float(v) for k, v in margins.items()}
    if "instruction_tolerance" in settings:
        floors.instruction_tolerance = _float(settings, "instruction_tolerance", f"{path} [settings]")
    if "metric_slack" in settings:
        floors.metric_slack = _float(settings, "metric_slack", f"{path} [settings]")
    if "unfloored" in settings:
        unfloored = settings["unfloored"]
        if not isinstance(unfloored, dict) or not all(isinstance(v, list) for v in unfloored.values()):
            raise FloorsError(f"{path}: settings.unfloored must map scale -> list of gate names")
        floors.unfloored = {str(k): [str(g) for g in v] for k, v in unfloored.items()}
    for scale, gates in _table(doc, "ratio", str(path)).items():
        for gate, t in gates.items():
            where = f"{path} [ratio.{scale}.{gate}]"
            runs = t.get("runs", [])
            if not isinstance(runs, list) or not all(isinstance(r, int | float) for r in runs):
                raise FloorsError(f"{where}: runs must be a list of numbers")
            floors.ratios.setdefault(scale, {})[gate] = RatioFloor(
                _float(t, "measured", where),
                _float(t, "floor", where),
                str(t.get("source", "")),
                tuple(float(r) for r in runs),
            )
    for scale, keys in _table(doc, "metric", str(path)).items():
        for key, t in keys.items():
            where = f"{path} [metric.{scale}.{key}]"
            better = t.get("better")
            if better not in ("higher", "lower"):
                raise FloorsError(f"{where}: better must be 'higher' or 'lower'")
            bound = _float(t, "min" if better == "higher" else "max", where)
            floors.metrics.setdefault(scale, {})[key] = MetricBound(
                _float(t, "measured", where), better, bound, t.get("optional", False) is True
            )
    for kernel, t in _table(doc, "instructions", str(path)).items():
        where = f"{path} [instructions.{kernel}]"
        floors.instructions[kernel] = InstructionBound(
            int(_float(t, "items", where)), int(_float(t, "measured", where)), int(_float(t, "max", where))
        )
    return floors


def _key(name: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise (gate names contain dots)."""
    if name and all(c.isalnum() or c in "-_" for c in name):
        return name
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _num(value: float) -> str:
    return repr(float(f"{value:.6g}"))


def dump(floors: Floors) -> str:
    """floors.toml text; sorted so that an update shows as a small diff."""
    lines = [
        "# Committed benchmark floors and bounds, checked by `make bench-check` (benches/gate).",
        "# Do not edit by hand: after a deliberate change, `make bench-floors` rewrites this file from a fresh run.",
        "# floor = measured ratio / ratio_margin[scale]; instruction max = measured x (1 + instruction_tolerance);",
        "# accuracy min/max = measured -/+ metric_slack. See benches/README.md.",
        "",
        "[settings]",
        "ratio_margin = { "
        + ", ".join(f"{_key(k)} = {_num(v)}" for k, v in sorted(floors.ratio_margin.items()))
        + " }",
        f"instruction_tolerance = {_num(floors.instruction_tolerance)}",
        f"metric_slack = {_num(floors.metric_slack)}",
        "unfloored = { "
        + ", ".join(
            f"{_key(k)} = [{', '.join(chr(34) + g + chr(34) for g in v)}]" for k, v in sorted(floors.unfloored.items())
        )
        + " }",
    ]
    for scale in sorted(floors.ratios):
        for gate, r in sorted(floors.ratios[scale].items()):
            lines += [
                "",
                f"[ratio.{_key(scale)}.{_key(gate)}]",
                f"measured = {_num(r.measured)}",
                f"floor = {_num(r.floor)}",
                f'source = "{r.source}"',
            ]
            if r.runs:
                lines.append("runs = [" + ", ".join(_num(x) for x in r.runs) + "]")
    for scale in sorted(floors.metrics):
        for key, m in sorted(floors.metrics[scale].items()):
            lines += [
                "",
                f"[metric.{_key(scale)}.{_key(key)}]",
                f"measured = {_num(m.measured)}",
                f'better = "{m.better}"',
                f"{'min' if m.better == 'higher' else 'max'} = {_num(m.bound)}",
            ]
            if m.optional:
                lines.append("optional = true")
    for kernel, b in sorted(floors.instructions.items()):
        lines += [
            "",
            f"[instructions.{_key(kernel)}]",
            f"items = {b.items}",
            f"measured = {b.measured}",
            f"max = {b.max}",
        ]
    return "\n".join(lines) + "\n"
