"""cgi-match: hit matching of licence plates, fingerprint templates and DNA profiles against police alerts.

The matching runs in the Rust core (``cgi_match._core``); this package reads and writes the data, and
offers the notebook and command-line API.
"""

from __future__ import annotations

from cgi_match import _core, synth
from cgi_match.alerts import AlertSet, load_alert_set
from cgi_match.batch import JobResult, load_job, run_job
from cgi_match.dna import (
    AlleleFrequencies,
    DnaIndex,
    DnaProfiles,
    random_match_probabilities,
    random_match_probability,
)
from cgi_match.errors import CgiMatchError, FormatError, IndexFileError, InvalidInputError, StorageError
from cgi_match.fingerprint_gallery import FingerprintGallery, compare
from cgi_match.fingerprint_tables import read_template_table
from cgi_match.fingerprints import FingerprintTemplate, read_template_folder
from cgi_match.plates import PlateIndex, PlateMatch, normalize_plate, normalize_plates
from cgi_match.report import render_report, write_report

#: Single source: the Cargo workspace version, compiled into the extension.
__version__: str = _core.__version__

__all__ = [
    "AlertSet",
    "AlleleFrequencies",
    "CgiMatchError",
    "DnaIndex",
    "DnaProfiles",
    "FingerprintGallery",
    "FingerprintTemplate",
    "FormatError",
    "IndexFileError",
    "InvalidInputError",
    "JobResult",
    "PlateIndex",
    "PlateMatch",
    "StorageError",
    "__version__",
    "compare",
    "load_alert_set",
    "load_job",
    "normalize_plate",
    "normalize_plates",
    "random_match_probabilities",
    "random_match_probability",
    "read_template_folder",
    "read_template_table",
    "render_report",
    "run_job",
    "synth",
    "write_report",
]
