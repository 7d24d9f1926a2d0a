"""``cgi-match demo``: the whole workflow on built-in synthetic data, with ground truth."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cgi_match import __version__


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Folder for the synthetic data, the job outputs, report.html and the demo's audit log.",
)
@click.option(
    "--scale", default=1.0, show_default=True, help="Fraction of the full demo sizes (1 = the issue's sizes)."
)
@click.option("--seed", default=0, show_default=True, help="Seed of the synthetic data.")
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Audit log (default OUT/audit.jsonl: the demo consults no real data).",
)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on a terminal.")
def demo(out: Path, scale: float, seed: int, audit_log: Path | None, progress: bool) -> None:
    """Synthesise alerts and probes, run the job, write the report, print recall, precision and timings."""
    from cgi_match.demo import run_demo

    if scale <= 0:
        raise click.BadParameter("must be positive", param_hint="--scale")
    t0 = time.perf_counter()
    outcome = run_demo(out, scale=scale, seed=seed, audit_log=audit_log, show_progress=progress)
    click.echo(f"cgi-match {__version__} demo (scale {scale:g}, seed {seed})")
    for line in outcome.lines():
        click.echo(line)
    click.echo(f"time {'total':<32} {time.perf_counter() - t0:8.2f} s")
