"""``cgi-match synth …``: synthetic data sets with ground truth (no police data, so no accountability options)."""

from __future__ import annotations

import click


@click.group()
def synth() -> None:
    """Generate synthetic data sets (deterministic from --seed) with their ground truth."""
