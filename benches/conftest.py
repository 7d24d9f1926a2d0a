"""Benchmark sizes: ``CGI_MATCH_BENCH_SCALE=tiny`` (inside ``make test``) or ``full`` (``make bench``).

Gated figures are declared with :func:`gate` (see benches/README.md): the benchmark gate reads them from the
pytest-benchmark JSON and compares the subject/peer throughput ratio with ``benches/floors.toml``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def scale() -> str:
    """Name of the scale in use."""
    return os.environ.get("CGI_MATCH_BENCH_SCALE", "tiny")


def scaled(full: int, tiny: int) -> int:
    """The size to use for this run."""
    return tiny if scale() == "tiny" else full


def gate(benchmark: Any, name: str, role: str, items: int, **metrics: float) -> None:
    """Declares this benchmark as the ``role`` ("subject" or "peer") of gate ``name``, processing ``items`` per call.

    Accuracy figures measured on the same synthetic set go in as keywords (``recall=0.998``) and are checked
    against their committed bounds.
    """
    benchmark.extra_info.update(gate=name, role=role, items=items, scale=scale())
    if metrics:
        benchmark.extra_info.setdefault("metrics", {}).update(metrics)


@pytest.fixture
def bench_scale() -> str:
    """Name of the scale in use, recorded in the results' extra_info."""
    return scale()
