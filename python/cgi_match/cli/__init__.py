"""The ``cgi-match`` command line: one group; each job kind lives in its own module of this package."""

from __future__ import annotations

import logging

import click

from cgi_match import __version__
from cgi_match.cli.audit import audit
from cgi_match.cli.demo import demo
from cgi_match.cli.dna import dna, synth_dna
from cgi_match.cli.fingerprints import evaluate, fingerprints
from cgi_match.cli.plates import plates, synth_plates
from cgi_match.cli.report import report
from cgi_match.cli.run import run
from cgi_match.cli.synth import synth


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cgi-match")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Log lines on stderr (never plate text or biometric data).",
)
def main(log_level: str) -> None:
    """cgi-match: match plates, fingerprints and DNA profiles against international alerts."""
    logging.basicConfig(
        level=getattr(logging, log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


main.add_command(demo)
main.add_command(audit)
main.add_command(run)
main.add_command(report)
main.add_command(plates)
main.add_command(synth)
synth.add_command(synth_plates, "plates")
main.add_command(dna)
synth.add_command(synth_dna, "dna")
main.add_command(fingerprints)
main.add_command(evaluate)
