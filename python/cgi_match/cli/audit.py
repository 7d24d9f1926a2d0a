"""``cgi-match audit``: check the hash-chained audit log."""

from __future__ import annotations

from pathlib import Path

import click

from cgi_match import audit as audit_log


@click.group()
def audit() -> None:
    """Inspect the audit log of cgi-match jobs."""


@audit.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(log: Path) -> None:
    """Verify LOG's hash chain; exit 1 naming the first altered, removed, inserted or reordered record."""
    report = audit_log.verify(log)
    if report.ok:
        click.echo(f"{log}: {report.records} records, chain intact; head hash {report.head_hash}")
        return
    click.echo(
        f"{log}: chain broken at line {report.first_bad_line}: {report.problem} "
        f"({report.records} records verified before it)",
        err=True,
    )
    raise SystemExit(1)
