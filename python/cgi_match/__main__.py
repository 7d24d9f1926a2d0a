"""``python -m cgi_match`` is the same as the ``cgi-match`` command."""

from cgi_match.cli import main

main()
