"""``cgi-match demo``: the main job on built-in synthetic data."""

from __future__ import annotations

import click

from cgi_match import __version__


@click.command()
@click.option("--reads", "n_reads", default=1_000_000, show_default=True, help="Synthetic plate reads to generate.")
@click.option("--seed", default=0, show_default=True, help="Seed of the synthetic data.")
def demo(n_reads: int, seed: int) -> None:
    """Run the main job end to end on built-in synthetic data and print a summary."""
    from cgi_match.demo import run_demo

    summary = run_demo(n_reads=n_reads, seed=seed)
    click.echo(f"cgi-match {__version__} demo")
    for line in summary.lines():
        click.echo(line)
