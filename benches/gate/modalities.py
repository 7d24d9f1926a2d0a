"""Which benchmarks belong to which modality, so that one modality can be measured and recorded alone.

``make bench MODALITY=plates`` runs only the plate benchmarks (their pytest files, criterion benches and
callgrind kernels), records them in ``benches/results/plates.json`` and regenerates BENCHMARKS.md; the other
modalities' committed results stay as they are. A gate, criterion group or kernel belongs to the modality
whose name prefix it starts with; a pytest benchmark to the modality that lists its file.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.results import Timing


@dataclass(frozen=True)
class Modality:
    """One modality's benchmarks."""

    name: str
    pytest_files: tuple[str, ...]  # files under benches/
    criterion_benches: tuple[str, ...]  # `[[bench]]` names of crates/matcher
    prefixes: tuple[str, ...]  # gate names, criterion group ids and kernel names start with one of these


MODALITIES: dict[str, Modality] = {
    m.name: m
    for m in (
        Modality(
            "plates",
            ("test_bench_plates.py", "test_bench_plate_normalise.py"),
            ("plate_index", "plate_normalise"),
            ("plate",),
        ),
        Modality("dna", ("test_bench_dna.py",), ("dna_scan",), ("dna",)),
        Modality(
            "fingerprints",
            ("test_bench_fingerprints.py", "test_bench_finger_formats.py", "test_bench_finger_accuracy.py"),
            ("finger_match", "finger_formats"),
            ("finger",),
        ),
        Modality("workflow", ("test_bench_workflow.py",), (), ("workflow",)),
        Modality("distributed", ("test_bench_distributed.py",), (), ("distributed",)),
    )
}


def of_name(name: str) -> str | None:
    """The modality of a gate name, criterion group id or kernel name (by prefix), or None."""
    for m in MODALITIES.values():
        if any(name.startswith(p) for p in m.prefixes):
            return m.name
    return None


def of_timing(t: Timing) -> str | None:
    """The modality of a measured benchmark: its pytest file, or its gate / criterion group prefix."""
    if t.source == "pytest-benchmark":
        file = t.name.split("::", 1)[0].rsplit("/", 1)[-1]
        for m in MODALITIES.values():
            if file in m.pytest_files:
                return m.name
    return of_name(t.gate or t.name)


def covers(modalities: set[str] | None, name: str) -> bool:
    """Whether a figure named ``name`` (gate, metric key or kernel) is within the modalities a run covered."""
    return modalities is None or of_name(name) in modalities
