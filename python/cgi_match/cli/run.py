"""``cgi-match run JOB.toml``: a batch job over every modality the job file names."""

from __future__ import annotations

from pathlib import Path

import click

from cgi_match.cli.options import job_options
from cgi_match.errors import CgiMatchError
from cgi_match.jobs import Accountability


@click.command()
@click.argument("job_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Output folder (overrides [job] out)."
)
@click.option("--dry-run", is_flag=True, help="Validate the job file, the alert set and the probes; match nothing.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on a terminal.")
@job_options
def run(
    job_file: Path, out: Path | None, dry_run: bool, progress: bool, who: Accountability, audit_log: Path | None
) -> None:
    """Run JOB_FILE: match its probes against its alert set; write hits, rejects and summary.json atomically.

    A killed run rerun with the same job file resumes from its checkpoint and writes the same hits.
    """
    from cgi_match.batch import load_job, run_job

    try:
        spec = load_job(job_file, out=out)
        result = run_job(spec, who, audit_log=audit_log, dry_run=dry_run, show_progress=progress)
    except CgiMatchError as exc:
        raise click.ClickException(str(exc)) from exc
    head = "dry run (nothing matched, nothing written)" if dry_run else f"outputs in {spec.out}"
    click.echo(f"job {result.job_id}: {head}{' (resumed)' if result.resumed else ''}")
    for modality, c in result.counts.items():
        click.echo(f"  {modality:<13} " + ", ".join(f"{k} {v}" for k, v in c.items() if not isinstance(v, dict)))
    n_rej = result.rejects.height
    click.echo(f"  rejects       {n_rej} row(s){' (see rejects.parquet)' if n_rej and not dry_run else ''}")
