"""``cgi-match synth``: the group of synthetic-data commands, one sub-command per modality."""

from __future__ import annotations

import click


@click.group()
def synth() -> None:
    """Generate synthetic data (never real persons) for demos, tests and benchmarks."""
