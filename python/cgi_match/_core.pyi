"""Type stubs of the Rust extension ``cgi_match._core`` (hand-kept; ``mypy.stubtest`` checks them)."""

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
