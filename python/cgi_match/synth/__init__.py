"""Synthetic data generators (deterministic from a seed, with ground truth) for scale tests and evaluation."""

from __future__ import annotations

from cgi_match.synth import dna, fingerprints, plates

__all__ = ["dna", "fingerprints", "plates"]
