"""The exception hierarchy of cgi-match, rooted at :class:`CgiMatchError`.

The Rust binding raises these classes by name (``crates/matcher-py/src/error.rs``); per-record problems in a
batch are never exceptions but rows in ``rejects`` with a reason.
"""

from __future__ import annotations


class CgiMatchError(Exception):
    """Base of every error cgi-match raises on purpose, so callers can catch them all at once."""


class InvalidInputError(CgiMatchError, ValueError):
    """A parameter or value the caller can correct (unknown option, inconsistent columns, not a plate)."""


class FormatError(CgiMatchError, ValueError):
    """A malformed file or record; the message names the input, the record, the field and the byte offset."""


class IndexFileError(FormatError):
    """A saved index that is truncated, corrupted, foreign or of an unsupported format version."""


class StorageError(CgiMatchError, OSError):
    """The operating system refused to read or write a file cgi-match needed."""


__all__ = ["CgiMatchError", "FormatError", "IndexFileError", "InvalidInputError", "StorageError"]
