"""Benchmark sizes: ``CGI_MATCH_BENCH_SCALE=tiny`` (inside ``make test``) or ``full`` (``make bench``)."""

from __future__ import annotations

import os

import pytest


def scaled(full: int, tiny: int) -> int:
    """The size to use for this run."""
    return tiny if os.environ.get("CGI_MATCH_BENCH_SCALE", "tiny") == "tiny" else full


@pytest.fixture
def bench_scale() -> str:
    """Name of the scale in use, recorded in the results' extra_info."""
    return os.environ.get("CGI_MATCH_BENCH_SCALE", "tiny")
