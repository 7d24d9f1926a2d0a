"""``cgi-match report DIR``: the self-contained ``DIR/report.html`` of a finished job."""

from __future__ import annotations

from pathlib import Path

import click

from cgi_match.cli.options import job_options
from cgi_match.errors import CgiMatchError
from cgi_match.jobs import Accountability


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--max-rows", default=200, show_default=True, help="Hits shown per urgency group (all are counted).")
@job_options
def report(folder: Path, max_rows: int, who: Accountability, audit_log: Path | None) -> None:
    """Write FOLDER/report.html from FOLDER's hits.parquet, rejects.parquet and summary.json (works offline)."""
    from cgi_match.report import write_report

    try:
        path = write_report(folder, who, audit_log=audit_log, max_rows=max_rows)
    except CgiMatchError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"report written to {path}")
