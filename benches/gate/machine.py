"""Facts about the machine and toolchain a run used, printed beside every generated figure."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

# Python packages whose versions matter to the figures: cgi-match itself, the harness and the peers.
PACKAGES = ("cgi-match", "pytest-benchmark", "numpy", "polars", "pyarrow", "rapidfuzz")


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU model name from /proc/cpuinfo (``platform.processor()`` is empty on Linux)."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    """Total memory in GiB, from /proc/meminfo."""
    try:
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    return None


def _tool_version(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return proc.stdout.strip().splitlines()[0] if proc.returncode == 0 and proc.stdout.strip() else "not found"


def facts() -> dict[str, str]:
    """Cores, CPU model, memory, OS, and the versions of the toolchain and packages behind the figures."""
    mem = memory_gib()
    out = {
        "cores": str(os.cpu_count() or "unknown"),
        "cpu": cpu_model(),
        "memory": f"{mem:.0f} GiB" if mem is not None else "unknown",
        "os": f"{platform.system()} {platform.release()}",
        # The gate runs benchmarks on one thread (Makefile BENCH_ENV); recorded so a figure says how it was made.
        "threads": os.environ.get("RAYON_NUM_THREADS", "all cores"),
        "python": platform.python_version(),
        "rustc": _tool_version(["rustc", "--version"]).removeprefix("rustc "),
        "valgrind": _tool_version(["valgrind", "--version"]).removeprefix("valgrind-"),
    }
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def save(path: Path) -> dict[str, str]:
    """Writes the facts next to the results (``.benchmarks/machine.json``) and returns them."""
    data = facts()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data


def load(path: Path) -> dict[str, str]:
    """Facts saved by :func:`save`, or the current machine's when the file is missing."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in doc.items()}
    except (OSError, json.JSONDecodeError, AttributeError):
        return facts()


def summary(data: dict[str, str]) -> str:
    """One line for BENCHMARKS.md."""
    versions = ", ".join(f"{k} {v}" for k, v in data.items() if k not in ("cores", "cpu", "memory", "os", "threads"))
    return (
        f"{data.get('cores', '?')} cores, {data.get('cpu', '?')}, {data.get('memory', '?')}, "
        f"{data.get('os', '?')}; benchmarks on {data.get('threads', '?')} thread(s); {versions}"
    )
