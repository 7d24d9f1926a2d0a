"""``cgi-match synth …``: synthetic data sets with ground truth (no police data, so no accountability options)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cgi_match.outputs import write_json_atomic, write_parquet_atomic


@click.group()
def synth() -> None:
    """Generate synthetic data sets (deterministic from --seed) with their ground truth."""


@synth.command("fingerprints")
@click.option("--subjects", type=click.IntRange(1, 10_000_000), required=True, help="Number of people.")
@click.option("--impressions", type=click.IntRange(1, 1000), required=True, help="Impressions per finger.")
@click.option("--fingers", type=click.IntRange(1, 10), default=1, show_default=True, help="Fingers per subject.")
@click.option("--seed", type=click.IntRange(0, 2**64 - 1), default=0, show_default=True, help="Seed of the generator.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a model parameter, e.g. --param missing_rate=0.3 (names in finger/synth.rs).",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
def fingerprints(
    subjects: int, impressions: int, fingers: int, seed: int, params: tuple[str, ...], out_dir: Path
) -> None:
    """Write ISO 19794-2 templates FINGER_IMPRESSION.iso (FVC naming), ground_truth.parquet and summary.json."""
    from cgi_match.synth.fingerprints import write_iso_folder

    overrides: dict[str, float] = {}
    for item in params:
        name, sep, value = item.partition("=")
        try:
            overrides[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise click.BadParameter(f"'{item}' is not NAME=NUMBER", param_hint="--param")
    t0 = time.perf_counter()
    truth = write_iso_folder(out_dir, subjects, impressions, fingers=fingers, seed=seed, **overrides)
    write_parquet_atomic(truth, out_dir / "ground_truth.parquet")
    summary = {
        "command": "synth fingerprints",
        "parameters": {"subjects": subjects, "impressions": impressions, "fingers": fingers, "seed": seed, **overrides},
        "counts": {"templates": truth.height, "fingers": truth["finger_id"].n_unique(), "subjects": subjects},
        "timings_s": {"total": round(time.perf_counter() - t0, 6)},
    }
    write_json_atomic(summary, out_dir / "summary.json")
    click.echo(f"wrote {truth.height} ISO 19794-2 templates and ground_truth.parquet to {out_dir}")
