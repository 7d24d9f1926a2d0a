"""Fingerprint verification accuracy as gated figures: EER and FNMR at FMR 1 % / 0.1 % (FVC protocol,
``cgi_match.fingerprint_eval``) on a seeded synthetic set, and on the real development set (FVC2002 DB2_B in
``../shared``) when it is present.

The synthetic set (seed 11) is the held-back set of the matcher's note, never used for any choice. Full size:
100 fingers x 8 impressions (2,800 genuine, 316,800 impostor pairs); tiny: 30 x 4. The dev set has 80
templates at both sizes; its figures are optional in the gate (a clone without ``../shared`` skips them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cgi_match import read_template_folder
from cgi_match.fingerprint_eval import Evaluation, evaluate_synthetic, evaluate_templates
from conftest import gate, scaled

FINGERS = scaled(100, 30)
IMPRESSIONS = scaled(8, 4)
DEVSET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fingerprints" / "fvc2002_db2_b"
# Directions of the figures the gate does not know by name (benches/README.md).
BETTER = {"fnmr_at_fmr_1pct": "lower", "fnmr_at_fmr_0_1pct": "lower"}


def _record(benchmark: Any, name: str, ev: Evaluation, *, optional: bool = False) -> None:
    pairs = int(ev.genuine.size + ev.impostor.size)
    gate(benchmark, name, "subject", items=pairs)
    benchmark.extra_info.update(
        genuine_pairs=int(ev.genuine.size),
        impostor_pairs=int(ev.impostor.size),
        metrics={"eer": ev.eer, "fnmr_at_fmr_1pct": ev.fnmr_at_fmr[0.01], "fnmr_at_fmr_0_1pct": ev.fnmr_at_fmr[0.001]},
        better=BETTER,
    )
    # Accuracy only: no peer, so the gate's role keys are dropped again (a subject without a peer is an error).
    for key in ("role", "items"):
        benchmark.extra_info.pop(key)
    if optional:
        benchmark.extra_info["optional"] = True


def test_accuracy_synthetic(benchmark: Any) -> None:
    ev = benchmark.pedantic(evaluate_synthetic, args=(FINGERS, IMPRESSIONS), kwargs={"seed": 11}, rounds=1)
    benchmark.extra_info.update(fingers=FINGERS, impressions=IMPRESSIONS, seed=11)
    _record(benchmark, "finger.accuracy_synthetic", ev)
    assert 0.0 <= ev.eer < 0.5


@pytest.mark.skipif(not DEVSET.is_dir(), reason="the development set (../shared) is not present")
def test_accuracy_devset(benchmark: Any) -> None:
    read = read_template_folder(DEVSET)
    ids = [i for i, _ in read.templates]
    ev = benchmark.pedantic(evaluate_templates, args=(ids, [t for _, t in read.templates]), rounds=1)
    benchmark.extra_info.update(templates=len(ids), data="FVC2002 DB2_B (../shared)")
    _record(benchmark, "finger.accuracy_devset", ev, optional=True)
    assert ev.eer < 0.5
