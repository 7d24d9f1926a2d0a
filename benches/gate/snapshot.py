"""One modality's recorded run: every figure BENCHMARKS.md shows, with the facts of the run that made it.

``gate run`` measures a modality and writes ``.benchmarks/<modality>/snapshot.json``; ``gate record`` splits it by
source into ``benches/results/<modality>.<source>.json`` (committed); ``gate report`` regenerates BENCHMARKS.md
from the committed snapshots alone, so the document can be checked against them (tests/test_bench_gate.py) and
a modality can be re-run without touching the others' figures.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gate.instructions import InstructionCount
from gate.results import Metric, Results, ResultsError, Timing

FORMAT = 1
RESULTS_DIR = Path("benches/results")


@dataclass
class Snapshot:
    """The figures of one modality's run and the facts of that run."""

    modality: str
    scale: str
    command: str  # what produced it, e.g. `make bench MODALITY=plates`
    started: str  # UTC, "YYYY-MM-DD HH:MM UTC"
    finished: str
    commit: str  # `git describe --always --dirty` of the measured tree
    machine: dict[str, str]  # gate.machine.facts()
    load_average: dict[str, list[float]]  # "start" / "end": 1, 5, 15-minute load averages
    sources: list[str]  # "pytest-benchmark", "criterion", "callgrind"
    timings: list[Timing] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    instructions: list[InstructionCount] = field(default_factory=list)

    def results(self) -> Results:
        """Timings and metrics in the form check, floors and report take."""
        return Results(list(self.timings), list(self.metrics))

    def run_line(self) -> str:
        """One sentence of facts for every generated block: command, date, commit, machine, load."""
        m = self.machine
        start, end = self.load_average.get("start", []), self.load_average.get("end", [])
        load = f"load average {start[0]:.1f} at the start, {end[0]:.1f} at the end" if start and end else "load -"
        return (
            f"Measured by `{self.command}` ({self.scale} size) from {self.started} to {self.finished[-9:]}, "
            f"commit `{self.commit}`; {m.get('cores', '?')} cores, {m.get('cpu', '?')}, {m.get('memory', '?')}, "
            f"{load}; benchmarks on {m.get('threads', '?')} thread(s)."
        )


def split_by_source(snap: Snapshot) -> list[Snapshot]:
    """One snapshot per source (pytest-benchmark, criterion, callgrind), each with that source's figures.

    They are recorded as ``<modality>.<source>.json``, so a run that skipped a source (``BENCH_SKIP=criterion``
    when time is short) replaces only the parts it measured and the others keep their own run's facts.
    """
    out = []
    for source in snap.sources:
        part = Snapshot(**{**snap.__dict__, "sources": [source]})
        part.timings = [t for t in snap.timings if t.source == source]
        part.metrics = list(snap.metrics) if source == "pytest-benchmark" else []
        part.instructions = list(snap.instructions) if source == "callgrind" else []
        out.append(part)
    return out


def to_json(snap: Snapshot) -> str:
    """Stable text (sorted figures, sorted keys) so that a re-run shows as a small diff."""
    doc: dict[str, Any] = asdict(snap)
    doc["format"] = FORMAT
    doc["timings"] = sorted(doc["timings"], key=lambda t: (t["source"], t["name"]))
    doc["metrics"] = sorted(doc["metrics"], key=lambda m: (m["gate"], m["name"], m["scale"]))
    doc["instructions"] = sorted(doc["instructions"], key=lambda c: c["kernel"])
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def save(snap: Snapshot, path: Path) -> None:
    """Writes a snapshot file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(snap), encoding="utf-8")


def load(path: Path) -> Snapshot:
    """Reads a snapshot file; a malformed one raises :class:`ResultsError` naming the file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read snapshot: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ResultsError(f"{path}: not a benchmark snapshot of format {FORMAT}")
    try:
        return Snapshot(
            modality=str(doc["modality"]),
            scale=str(doc["scale"]),
            command=str(doc["command"]),
            started=str(doc["started"]),
            finished=str(doc["finished"]),
            commit=str(doc["commit"]),
            machine={str(k): str(v) for k, v in doc["machine"].items()},
            load_average={str(k): [float(x) for x in v] for k, v in doc["load_average"].items()},
            sources=[str(s) for s in doc["sources"]],
            timings=[Timing(**t) for t in doc["timings"]],
            metrics=[Metric(**m) for m in doc["metrics"]],
            instructions=[InstructionCount(**c) for c in doc["instructions"]],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultsError(f"{path}: unexpected snapshot layout ({exc!r})") from exc


def load_dir(directory: Path = RESULTS_DIR) -> list[Snapshot]:
    """Every committed snapshot (``<modality>.<source>.json``), in name order."""
    if not directory.is_dir():
        return []
    return [load(p) for p in sorted(directory.glob("*.json"))]
