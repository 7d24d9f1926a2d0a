"""Options every audited job takes: who runs it, why, for which case, and where the audit log is."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cgi_match.jobs import Accountability

F = TypeVar("F", bound=Callable[..., Any])


def job_options(f: F) -> F:
    """Adds ``--operator``, ``--justification``, ``--case-ref`` (required; also from ``CGI_MATCH_*`` variables)
    and ``--audit-log``, and hands the command ``who: Accountability`` and ``audit_log: Path | None``."""

    @functools.wraps(f)
    def wrapper(*args: Any, operator: str, justification: str, case_ref: str, **kwargs: Any) -> Any:
        try:
            who = Accountability(operator=operator, justification=justification, case_ref=case_ref)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        return f(*args, who=who, **kwargs)

    decorated: Any = wrapper
    for option in reversed(
        [
            click.option(
                "--operator",
                envvar="CGI_MATCH_OPERATOR",
                required=True,
                help="Who runs the job (user id); or $CGI_MATCH_OPERATOR.",
            ),
            click.option(
                "--justification",
                envvar="CGI_MATCH_JUSTIFICATION",
                required=True,
                help="Why the data is consulted; or $CGI_MATCH_JUSTIFICATION.",
            ),
            click.option(
                "--case-ref",
                envvar="CGI_MATCH_CASE_REF",
                required=True,
                help="Case or request reference; or $CGI_MATCH_CASE_REF.",
            ),
            click.option(
                "--audit-log",
                type=click.Path(dir_okay=False, path_type=Path),
                envvar="CGI_MATCH_AUDIT_LOG",
                default=None,
                help="Hash-chained audit log (default $CGI_MATCH_AUDIT_LOG or ~/.local/state/cgi-match/audit.jsonl).",
            ),
        ]
    ):
        decorated = option(decorated)
    result: F = decorated
    return result
