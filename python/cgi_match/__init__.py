"""cgi-match: hit matching of licence plates, fingerprint templates and DNA profiles against police alerts.

The matching runs in the Rust core (``cgi_match._core``); this package reads and writes the data, and
offers the notebook and command-line API.
"""

from __future__ import annotations

from cgi_match import _core, synth
from cgi_match.errors import CgiMatchError, FormatError, IndexFileError, InvalidInputError, StorageError
from cgi_match.fingerprint_gallery import FingerprintGallery, compare
from cgi_match.fingerprints import FingerprintTemplate, read_template_folder
from cgi_match.plates import PlateIndex, PlateMatch, normalize_plate, normalize_plates

#: Single source: the Cargo workspace version, compiled into the extension.
__version__: str = _core.__version__

__all__ = [
    "CgiMatchError",
    "FingerprintGallery",
    "FingerprintTemplate",
    "FormatError",
    "IndexFileError",
    "InvalidInputError",
    "PlateIndex",
    "PlateMatch",
    "StorageError",
    "__version__",
    "compare",
    "normalize_plate",
    "normalize_plates",
    "read_template_folder",
    "synth",
]
