"""Type stubs of the Rust extension ``cgi_match._core`` (hand-kept; ``mypy.stubtest`` checks them)."""

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
        plate: _StrArgs,
        country: _StrArgs | None = None,
        seen_at: _TimeArgs | None = None,
        *,
        max_ocr: int = 2,
        max_edits: int = 0,
        min_fuzzy_length: int = 5,
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
