"""Reading benchmark results: pytest-benchmark JSON files and criterion's ``target/criterion`` tree.

Both are turned into the same two records: a :class:`Timing` (one measured side of a gate, or an ungated
benchmark kept for the report) and a :class:`Metric` (an accuracy figure). Malformed files raise
:class:`ResultsError` naming the file and the entry, never a bare ``KeyError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROLES = ("subject", "peer")

# The statistic the gate uses is the *minimum* time per call over the rounds: interference from other work on a
# shared machine only ever adds time, so the minimum estimates the undisturbed cost. Measured on this project's
# 2-core machine (issue-8 note), the tiny plate ratio spread over six runs was 3.21-3.54 with the
# minimum and 2.79-3.32 with the median.

# Direction of the accuracy figures the matchers report; a benchmark declares any other metric's direction with
# ``extra_info["better"] = {"name": "higher" | "lower"}`` (see benches/README.md).
KNOWN_DIRECTIONS: dict[str, str] = {
    "recall": "higher",
    "precision": "higher",
    "accuracy": "higher",
    "rank1": "higher",
    "tar": "higher",
    "f1": "higher",
    "false_hit_rate": "lower",
    "false_match_rate": "lower",
    "false_non_match_rate": "lower",
    "fmr": "lower",
    "fnmr": "lower",
    "far": "lower",
    "frr": "lower",
    "eer": "lower",
    "miss_rate": "lower",
}


class ResultsError(ValueError):
    """A results file the gate cannot read, with the file and entry it is about."""


@dataclass(frozen=True)
class Timing:
    """One benchmark's measured time per call, and the gate role it plays if any."""

    source: str  # "pytest-benchmark" or "criterion"
    name: str  # pytest node id or criterion full id
    seconds: float  # the statistic the gate uses: minimum time per call
    items: int | None  # items processed per call, for throughput
    gate: str | None
    role: str | None  # "subject" | "peer" | None
    scale: str  # "full" | "tiny"; criterion benches have one size and count as "full"
    rounds: int
    median: float | None = None  # median time per call, shown beside the fastest round in BENCHMARKS.md
    # What the benchmark recorded about its data and results (sizes, hits, bytes per alert …): the scalar
    # entries of pytest-benchmark's extra_info other than the gate's own keys.
    info: dict[str, str | int | float | bool] = field(default_factory=dict)

    @property
    def throughput(self) -> float | None:
        """Items per second, when the benchmark declared how many items one call processes."""
        if self.items is None or self.seconds <= 0:
            return None
        return self.items / self.seconds


@dataclass(frozen=True)
class Metric:
    """An accuracy figure a benchmark reported (recall, false-hit rate, EER …) on its synthetic set."""

    gate: str
    name: str
    value: float
    better: str  # "higher" | "lower"
    scale: str
    # Measured only where its data is (the real dev set in ../shared): a run without it skips, never fails.
    optional: bool = False

    @property
    def key(self) -> str:
        """Name used in floors.toml and the report: ``<gate>.<metric>``."""
        return f"{self.gate}.{self.name}"


@dataclass
class Results:
    """Everything one run produced."""

    timings: list[Timing]
    metrics: list[Metric]

    def extend(self, other: Results) -> None:
        """Adds another file's results to these."""
        self.timings.extend(other.timings)
        self.metrics.extend(other.metrics)


# extra_info keys the gate itself interprets; everything else scalar is kept as a recorded figure.
GATE_KEYS = frozenset({"gate", "role", "items", "scale", "metric", "value", "metrics", "better", "optional"})


def _info(extra: dict[str, Any]) -> dict[str, str | int | float | bool]:
    out: dict[str, str | int | float | bool] = {}
    flat: list[tuple[str, object]] = []
    for key, value in extra.items():
        if key in GATE_KEYS:
            continue
        if isinstance(value, dict):  # one level of nesting, e.g. hits by match kind
            flat += [(f"{key}.{k}", v) for k, v in value.items()]
        else:
            flat.append((str(key), value))
    for key, value in sorted(flat):
        if not isinstance(value, str | int | float | bool):
            continue
        if isinstance(value, float) and value != value:  # NaN has no place in a table
            continue
        out[key] = value
    return out


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultsError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _gate_fields(extra: dict[str, Any], where: str) -> tuple[str | None, str | None, int | None]:
    gate = extra.get("gate")
    role = extra.get("role")
    items = extra.get("items")
    if gate is not None and not isinstance(gate, str):
        raise ResultsError(f"{where}: extra_info gate must be a string, got {gate!r}")
    if role is not None and role not in ROLES:
        raise ResultsError(f"{where}: extra_info role must be one of {ROLES}, got {role!r}")
    if role is not None and gate is None:
        raise ResultsError(f"{where}: extra_info has a role but no gate")
    if items is not None and (isinstance(items, bool) or not isinstance(items, int) or items <= 0):
        raise ResultsError(f"{where}: extra_info items must be a positive integer, got {items!r}")
    if role is not None and items is None:
        raise ResultsError(f"{where}: a gated {role} must declare items (work per call) for its throughput")
    return gate, role, items


def _metrics(extra: dict[str, Any], gate: str | None, scale: str, where: str) -> list[Metric]:
    found: dict[str, float] = {}
    if "metric" in extra:
        name = extra["metric"]
        if not isinstance(name, str):
            raise ResultsError(f"{where}: extra_info metric must be a name, got {name!r}")
        found[name] = _number(extra.get("value"), f"{where}: extra_info value of {name}")
    block = extra.get("metrics", {})
    if not isinstance(block, dict):
        raise ResultsError(f"{where}: extra_info metrics must be a table of name -> value")
    for name, value in block.items():
        found[str(name)] = _number(value, f"{where}: metric {name}")
    if not found:
        return []
    if gate is None:
        raise ResultsError(f"{where}: accuracy figures need a gate name in extra_info")
    declared = extra.get("better", {})
    if not isinstance(declared, dict):
        raise ResultsError(f"{where}: extra_info better must be a table of metric -> 'higher' | 'lower'")
    out = []
    for name, value in found.items():
        better = declared.get(name, KNOWN_DIRECTIONS.get(name))
        if better not in ("higher", "lower"):
            raise ResultsError(
                f"{where}: metric {name!r} has no known direction; declare extra_info['better'] = "
                f"{{{name!r}: 'higher' | 'lower'}}"
            )
        optional = extra.get("optional", False) is True
        out.append(Metric(gate=gate, name=name, value=value, better=better, scale=scale, optional=optional))
    return out


def load_pytest_benchmark(path: Path, default_scale: str = "full") -> Results:
    """Reads one ``--benchmark-json`` file; benchmarks that did not record their scale get ``default_scale``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read pytest-benchmark JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise ResultsError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    results = Results([], [])
    for i, bench in enumerate(doc["benchmarks"]):
        where = f"{path} benchmark #{i}"
        if not isinstance(bench, dict):
            raise ResultsError(f"{where}: not an object")
        name = str(bench.get("fullname") or bench.get("name") or f"#{i}")
        where = f"{path} {name}"
        extra = bench.get("extra_info") or {}
        if not isinstance(extra, dict):
            raise ResultsError(f"{where}: extra_info is not an object")
        scale = str(extra.get("scale", default_scale))
        gate, role, items = _gate_fields(extra, where)
        stats = bench.get("stats")
        if not isinstance(stats, dict):
            raise ResultsError(f"{where}: no stats")
        seconds = _number(stats.get("min"), f"{where}: stats.min")
        rounds = int(_number(stats.get("rounds", 0), f"{where}: stats.rounds"))
        median = stats.get("median")
        results.timings.append(
            Timing(
                "pytest-benchmark",
                name,
                seconds,
                items,
                gate,
                role,
                scale,
                rounds,
                median=_number(median, f"{where}: stats.median") if median is not None else None,
                info=_info(extra),
            )
        )
        results.metrics.extend(_metrics(extra, gate, scale, where))
    return results


def _criterion_role(function_id: str) -> tuple[str | None, str]:
    """``subject`` / ``subject:label`` / ``peer:label`` function ids carry the gate role (benches/README.md)."""
    head, _, label = function_id.partition(":")
    if head in ROLES:
        return head, label or head
    return None, function_id


def _criterion_min_seconds(sample_path: Path, where: str) -> float | None:
    """Fastest per-iteration time of criterion's samples (``sample.json``: parallel ``iters`` and ``times`` in ns)."""
    try:
        sample = json.loads(sample_path.read_text(encoding="utf-8"))
        per_iter = [t / n for n, t in zip(sample["iters"], sample["times"], strict=True) if n > 0]
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise ResultsError(f"{where}: unreadable sample.json ({exc!r})") from exc
    return min(per_iter) * 1e-9 if per_iter else None


def load_criterion(root: Path, newer_than: float | None = None) -> Results:
    """Reads every ``<root>/**/new/{benchmark,estimates,sample}.json`` that criterion wrote.

    The group id is the gate name when a function id is ``subject[:label]`` or ``peer[:label]``; the items per
    iteration come from the group's ``Throughput::Elements``. Groups without roles are reported, not gated.
    With ``newer_than`` (a POSIX time), results left over from earlier runs are ignored, so a bench that was
    removed or renamed shows up as missing instead of passing on stale figures.
    """
    results = Results([], [])
    if not root.is_dir():
        return results
    for estimates_path in sorted(root.glob("**/new/estimates.json")):
        bench_path = estimates_path.with_name("benchmark.json")
        if newer_than is not None and estimates_path.stat().st_mtime < newer_than:
            continue
        where = str(estimates_path.parent)
        try:
            estimates = json.loads(estimates_path.read_text(encoding="utf-8"))
            bench = json.loads(bench_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ResultsError(f"{where}: cannot read criterion results: {exc}") from exc
        try:
            median_ns = _number(estimates["median"]["point_estimate"], f"{where}: median")
            group = str(bench["group_id"])
            function_id = str(bench.get("function_id") or "")
            full_id = str(bench.get("full_id") or f"{group}/{function_id}")
        except (KeyError, TypeError) as exc:
            raise ResultsError(f"{where}: unexpected criterion layout ({exc!r})") from exc
        throughput = bench.get("throughput") or {}
        items: int | None = None
        # Elements, or bytes for scans gated against a memory-bandwidth probe (both sides must use the same unit).
        for unit in ("Elements", "Bytes", "BytesDecimal"):
            if isinstance(throughput, dict) and unit in throughput:
                items = int(_number(throughput[unit], f"{where}: throughput"))
        seconds = _criterion_min_seconds(estimates_path.with_name("sample.json"), where)
        if seconds is None:  # older criterion layouts without samples: fall back to the median estimate
            seconds = median_ns * 1e-9
        role, _label = _criterion_role(function_id)
        if role is not None and items is None:
            raise ResultsError(f"{where}: gated criterion bench {full_id} must set Throughput::Elements or Bytes")
        gate = group if role is not None else None
        results.timings.append(
            Timing("criterion", full_id, seconds, items, gate, role, "full", 0, median=median_ns * 1e-9)
        )
    return results
