"""Type stubs of the Rust extension ``cgi_match._core`` (hand-kept; ``mypy.stubtest`` checks them)."""

from os import PathLike
from typing import Any, final

import numpy as np
import numpy.typing as npt

__version__: str

_StrArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.bool_]]

def normalize_plate(text: str, *, keep_wildcards: bool = False) -> str: ...
def normalize_plate_column(
    offsets: npt.NDArray[np.int64],
    data: npt.NDArray[np.uint8],
    valid: npt.NDArray[np.bool_] | None,
    *,
    keep_wildcards: bool = False,
) -> tuple[_StrArrays, npt.NDArray[np.uint8]]: ...
def plate_reject_reasons() -> list[tuple[int, str]]: ...
def plate_match_kinds() -> list[tuple[int, str]]: ...
def default_ocr_classes() -> list[str]: ...

_StrArgs = tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.bool_] | None]
_TimeArgs = tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_] | None]
# Arrow string_view buffers: (views, 16 bytes per row; data buffers; validity).
_StrViewArgs = tuple[npt.NDArray[np.uint8], list[npt.NDArray[np.uint8]], npt.NDArray[np.bool_] | None]

@final
class PlateIndex:
    def __new__(
        cls,
        alert_id: _StrArgs,
        plate: _StrArgs,
        country: _StrArgs | None = None,
        valid_from: _TimeArgs | None = None,
        valid_to: _TimeArgs | None = None,
        *,
        ocr_classes: list[str] | None = None,
    ) -> PlateIndex: ...
    def __len__(self) -> int: ...
    def match_reads(
        self,
        plate: _StrArgs | _StrViewArgs,
        country: _StrArgs | _StrViewArgs | None = None,
        seen_at: _TimeArgs | None = None,
        *,
        max_ocr: int = 2,
        max_edits: int = 0,
        min_fuzzy_length: int = 5,
        max_ocr_short: int = 1,
        country_policy: str = "lenient",
        at: int = 0,
    ) -> tuple[
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint8],
        npt.NDArray[np.float32],
        npt.NDArray[np.float32],
        npt.NDArray[np.uint8],
    ]: ...
    def alert_rows(self) -> npt.NDArray[np.uint32]: ...
    def rejects(self) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]: ...
    @property
    def source_rows(self) -> int: ...
    @property
    def pattern_count(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def ocr_classes(self) -> list[str]: ...
    @property
    def writer_version(self) -> str: ...
    def prepare(self, max_edits: int) -> None: ...
    def to_bytes(self, attachment: bytes | None = None) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> PlateIndex: ...
    def attachment(self) -> bytes: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

# --- DNA (crates/matcher-py/src/dna.rs) ---

@final
class DnaProfiles:
    @staticmethod
    def from_long(ids: _StrArgs, loci: _StrArgs, alleles: _StrArgs, kinds: _StrArgs | None = None) -> DnaProfiles: ...
    @staticmethod
    def from_arrays(
        ids: _StrArgs, loci: list[str], alleles: npt.NDArray[np.uint16], stain: bool = False
    ) -> DnaProfiles: ...
    def __len__(self) -> int: ...
    def ids(self) -> _StrArrays: ...
    def rejects(self) -> tuple[npt.NDArray[np.uint64], _StrArrays]: ...
    def summary(self) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]: ...
    @property
    def prum_conversions(self) -> int: ...
    def to_long(self) -> tuple[npt.NDArray[np.uint32], _StrArrays, _StrArrays]: ...
    def random_match_probability(
        self, frequencies: AlleleFrequencies, theta: float = 0.01
    ) -> npt.NDArray[np.float64]: ...
    def to_cmf(
        self,
        *,
        source_lab: str = ...,
        destination_ori: str = ...,
        user_id: str = ...,
        submit_datetime: str = ...,
        batch_id: str = ...,
    ) -> str: ...

@final
class AlleleFrequencies:
    @staticmethod
    def from_columns(
        name: str,
        loci: _StrArgs,
        alleles: _StrArgs,
        frequencies: npt.NDArray[np.float64],
        individuals: npt.NDArray[np.int64],
    ) -> tuple[AlleleFrequencies, list[str]]: ...
    @property
    def name(self) -> str: ...
    def loci(self) -> list[str]: ...
    def frequency(self, locus: str, allele: str) -> float | None: ...

@final
class DnaIndex:
    @staticmethod
    def build(profiles: DnaProfiles) -> DnaIndex: ...
    @staticmethod
    def from_arrays(ids: _StrArgs, loci: list[str], alleles: npt.NDArray[np.uint16]) -> DnaIndex: ...
    def __len__(self) -> int: ...
    @property
    def scan_bytes(self) -> int: ...
    def ids(self) -> _StrArrays: ...
    def search(
        self,
        probes: DnaProfiles,
        rules: str = "prum",
        *,
        min_loci: int | None = None,
        max_mismatches: int | None = None,
        loci: list[str] | None = None,
        frequencies: AlleleFrequencies | None = None,
        theta: float = 0.01,
        threads: int | None = None,
    ) -> tuple[
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint8],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
    ]: ...
    def scan_count(self, probes: DnaProfiles, rules: str = "prum", *, threads: int | None = None) -> int: ...
    def familial_search(
        self,
        probes: DnaProfiles,
        relationship: str,
        frequencies: AlleleFrequencies,
        *,
        top_k: int = 20,
        min_ki: float = 1000.0,
        theta: float = 0.01,
        mutation_rate: float = 0.002,
        threads: int | None = None,
    ) -> tuple[
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.float64],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
    ]: ...
    def find_identical(self, probes: DnaProfiles) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]: ...
    def save(self, path: PathLike[str] | str) -> None: ...
    @staticmethod
    def load(path: PathLike[str] | str) -> DnaIndex: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> DnaIndex: ...
    def __reduce__(self) -> tuple[object, tuple[bytes]]: ...
    def profiles(self) -> DnaProfiles: ...

def read_cmf(data: bytes) -> tuple[_StrArrays, _StrArrays, _StrArrays, _StrArrays]: ...
def dna_loci() -> list[tuple[str, int, bool, bool, bool]]: ...
def canonical_locus(name: str) -> str | None: ...
def dna_rules(
    rules: str = "prum",
    *,
    min_loci: int | None = None,
    max_mismatches: int | None = None,
    loci: list[str] | None = None,
) -> tuple[str, int, int, list[str] | None]: ...
def dna_relationship(name: str) -> str: ...

# --- Fingerprint templates (finger.rs) ---------------------------------------------------------------------

@final
class FingerprintTemplate:
    @staticmethod
    def from_bytes(data: bytes, *, view: int = 0, xyt_resolution_ppi: float = 500.0) -> FingerprintTemplate: ...
    @staticmethod
    def from_iso19794_2(data: bytes, *, view: int = 0) -> FingerprintTemplate: ...
    @staticmethod
    def from_ansi378(data: bytes, *, view: int = 0) -> FingerprintTemplate: ...
    @staticmethod
    def from_xyt(
        text: str, resolution_ppi: float = 500.0, *, image_height: int | None = None
    ) -> FingerprintTemplate: ...
    @staticmethod
    def from_minutiae(
        array: npt.ArrayLike,
        resolution_ppi: float = 500.0,
        *,
        finger_position: int = 0,
        width: int | None = None,
        height: int | None = None,
    ) -> FingerprintTemplate: ...
    @staticmethod
    def _from_snapshot(data: bytes) -> FingerprintTemplate: ...
    def to_iso19794_2(self) -> bytes: ...
    def to_ansi378(self) -> bytes: ...
    def to_xyt(self) -> str: ...
    @property
    def minutiae(self) -> npt.NDArray[np.float64]: ...
    @property
    def finger_position(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def resolution_ppi(self) -> tuple[float, float]: ...
    @property
    def view_quality(self) -> int: ...
    @property
    def impression_type(self) -> int: ...
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

def read_template_files(
    paths: list[str], *, xyt_resolution_ppi: float = 500.0
) -> tuple[list[tuple[int, int, str, FingerprintTemplate]], list[tuple[int, str]]]: ...
def synth_fingerprint_columns(
    subjects: int, impressions: int, *, fingers: int = 1, seed: int = 0, params: dict[str, float] | None = None
) -> dict[str, Any]: ...
def synth_fingerprint_iso(
    subjects: int, impressions: int, *, fingers: int = 1, seed: int = 0, params: dict[str, float] | None = None
) -> dict[str, Any]: ...
def synth_fingerprint_templates(
    subjects: int, impressions: int, *, fingers: int = 1, seed: int = 0, params: dict[str, float] | None = None
) -> dict[str, Any]: ...

# --- Fingerprint matching (finger_match.rs) ---------------------------------------------------------------

def compare_fingerprints(a: FingerprintTemplate, b: FingerprintTemplate) -> float: ...
def compare_fingerprint_pairs(
    templates_: list[FingerprintTemplate], left: npt.NDArray[np.uint32], right: npt.NDArray[np.uint32]
) -> npt.NDArray[np.float32]: ...
def read_template_blobs(
    offsets: npt.NDArray[np.int64],
    data: npt.NDArray[np.uint8],
    valid: npt.NDArray[np.bool_] | None,
    *,
    xyt_resolution_ppi: float = 500.0,
) -> tuple[list[tuple[int, int, str, FingerprintTemplate]], list[tuple[int, str]]]: ...

_HitColumns = tuple[
    npt.NDArray[np.uint32],
    tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.bool_]],
    npt.NDArray[np.uint8],
    npt.NDArray[np.float32],
    npt.NDArray[np.uint32],
]

@final
class FingerprintGallery:
    def __new__(cls) -> FingerprintGallery: ...
    def _add_many(
        self,
        offsets: npt.NDArray[np.int64],
        data: npt.NDArray[np.uint8],
        valid: npt.NDArray[np.bool_] | None,
        templates_: list[FingerprintTemplate],
        fingers: npt.NDArray[np.uint8],
    ) -> None: ...
    def _search(
        self,
        probe: FingerprintTemplate,
        *,
        top_k: int = 10,
        threshold: float | None = None,
        exhaustive: bool = True,
        penetration: float = 0.05,
        min_candidates: int = 256,
        prefilter: str = "scan",
    ) -> _HitColumns: ...
    def _search_many(
        self,
        probes: list[FingerprintTemplate],
        *,
        top_k: int = 10,
        threshold: float | None = None,
        exhaustive: bool = True,
        penetration: float = 0.05,
        min_candidates: int = 256,
        prefilter: str = "scan",
    ) -> _HitColumns: ...
    def __len__(self) -> int: ...
    @property
    def subject_count(self) -> int: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> FingerprintGallery: ...
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str) -> FingerprintGallery: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...
