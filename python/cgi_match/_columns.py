"""Arrow string columns ↔ the three numpy buffers the Rust core reads, without a Python object per row."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

StrBuffers = tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.bool_] | None]


def to_arrow_strings(values: Any) -> pa.LargeStringArray:
    """Any string-like column (polars Series, pyarrow array or chunked array, sequence) as one large_string array."""
    if isinstance(values, pl.Series):
        values = values.cast(pl.String).to_arrow()
    elif not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values, type=pa.large_string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], type=pa.large_string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    return values.cast(pa.large_string())


def str_buffers(values: Any) -> StrBuffers:
    """The (offsets, data, validity) buffers of a string column, zero-copy where Arrow allows it."""
    arr = to_arrow_strings(values)
    n = len(arr)
    _, offsets_buf, data_buf = arr.buffers()
    if offsets_buf is None:
        offsets = np.zeros(n + 1, dtype=np.int64)
    else:
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    valid = None if arr.null_count == 0 else arr.is_valid().to_numpy(zero_copy_only=False)
    return offsets, data, valid


StrViewBuffers = tuple[npt.NDArray[np.uint8], list[npt.NDArray[np.uint8]], npt.NDArray[np.bool_] | None]


def str_view_buffers(values: Any) -> StrViewBuffers | StrBuffers:
    """A string column for the hot matching calls, as the ``string_view`` buffers polars already holds.

    Returns ``(views, data buffers, validity)`` for a polars column (16 bytes per row; strings of up to 12 bytes,
    i.e. every plate and country code, sit inside the view) without converting it, which :func:`str_buffers`
    does (its ``large_string`` copy cost 5-9 ms per million plates, measured). Other inputs get
    :func:`str_buffers`; the core accepts both.
    """
    if not isinstance(values, pl.Series):
        return str_buffers(values)
    arr = values.cast(pl.String).to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=pa.string_view())
    if not pa.types.is_string_view(arr.type):
        return str_buffers(arr)
    n = len(arr)
    buffers = arr.buffers()
    views_buf = buffers[1]
    views = np.zeros(0, dtype=np.uint8) if views_buf is None else np.frombuffer(views_buf, dtype=np.uint8)
    views = views[16 * arr.offset : 16 * (arr.offset + n)]
    data = [np.frombuffer(b, dtype=np.uint8) if b is not None else np.zeros(0, dtype=np.uint8) for b in buffers[2:]]
    valid = None if arr.null_count == 0 else arr.is_valid().to_numpy(zero_copy_only=False)
    return views, data, valid


def str_array(
    offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8], valid: npt.NDArray[np.bool_]
) -> pa.LargeStringArray:
    """Wraps buffers returned by the core as an Arrow array (no copy of the string bytes)."""
    n = len(offsets) - 1
    validity = None if valid.all() else pa.array(valid).buffers()[1]
    null_count = int(n - int(valid.sum()))
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data), validity, null_count=null_count
    )
