"""Progress for long jobs: a bar on a terminal, plain log lines otherwise (batch logs stay readable)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

log = logging.getLogger("cgi_match.progress")


@contextmanager
def progress(total: int, label: str, *, every_s: float = 5.0) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``; draws a bar on a TTY, else logs ``label: done/total`` at most every ``every_s``."""
    if sys.stderr.isatty():
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield bar.update
        return
    done = 0
    last = time.monotonic()

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= every_s or done >= total:
            log.info("%s: %d/%d", label, done, total)
            last = now

    yield advance
