"""ISO 19794-2 template parsing: the Rust reader behind ``FingerprintTemplate.from_bytes`` vs the pure-Python
``struct`` parser a user would otherwise write (same fields, same checks skipped), and the folder reader."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

import cgi_match
from cgi_match import FingerprintTemplate, read_template_folder
from conftest import scaled

N = scaled(20_000, 200)
_, _TEMPLATES = cgi_match.synth.fingerprints.templates(N, 1, seed=5)
BLOBS = [t.to_iso19794_2() for t in _TEMPLATES]


def python_peer(data: bytes) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Header, first view, minutiae as an (n, 5) array: x, y, angle (degrees), type, quality."""
    (length,) = struct.unpack_from(">I", data, 8)
    if data[:8] != b"FMR\x00 20\x00" or length != len(data):
        raise ValueError("not an ISO 19794-2:2005 record")
    count = data[27]
    out = np.empty((count, 5))
    for i in range(count):
        tx, ry, angle, quality = struct.unpack_from(">HHBB", data, 28 + 6 * i)
        out[i] = (tx & 0x3FFF, ry & 0x3FFF, angle * 360 / 256, tx >> 14, quality)
    return out


def test_parse_iso_rust(benchmark: Any, bench_scale: str) -> None:
    benchmark.extra_info.update(records=N, scale=bench_scale)
    out = benchmark(lambda: [FingerprintTemplate.from_bytes(b) for b in BLOBS])
    assert len(out) == N


def test_parse_iso_python_peer(benchmark: Any, bench_scale: str) -> None:
    benchmark.extra_info.update(records=N, scale=bench_scale)
    out = benchmark(lambda: [python_peer(b) for b in BLOBS])
    assert sum(len(m) for m in out) == sum(len(t) for t in _TEMPLATES)


def test_read_template_folder(benchmark: Any, bench_scale: str, tmp_path: Path) -> None:
    for i, b in enumerate(BLOBS):
        (tmp_path / f"{i + 1}_1.iso").write_bytes(b)
    benchmark.extra_info.update(files=N, scale=bench_scale)
    folder = benchmark(read_template_folder, tmp_path)
    assert len(folder.templates) == N


def test_synth_generate(benchmark: Any, bench_scale: str) -> None:
    subjects = scaled(12_500, 50)
    benchmark.extra_info.update(templates=subjects * 8, scale=bench_scale)
    frame = benchmark.pedantic(
        cgi_match.synth.fingerprints.generate, args=(subjects, 8), kwargs={"seed": 1}, rounds=3, iterations=1
    )
    assert frame.height == subjects * 8
