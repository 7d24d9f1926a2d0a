"""The ground every issue builds on: one version, the error hierarchy, no panics crossing into Python."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import cgi_match
from cgi_match import _core
from cgi_match.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version_has_one_source() -> None:
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]
    assert cgi_match.__version__ == cargo
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert cargo in result.output


def test_error_hierarchy() -> None:
    assert issubclass(cgi_match.InvalidInputError, ValueError)
    assert issubclass(cgi_match.InvalidInputError, cgi_match.CgiMatchError)
    assert issubclass(cgi_match.FormatError, cgi_match.CgiMatchError)
    assert issubclass(cgi_match.IndexFileError, cgi_match.FormatError)
    assert issubclass(cgi_match.StorageError, OSError)


def test_bad_value_raises_invalid_input_not_panic() -> None:
    with pytest.raises(cgi_match.InvalidInputError, match="control character"):
        cgi_match.normalize_plate("AB\x0012")


def test_hostile_column_buffers_raise_invalid_input_not_panic() -> None:
    data = np.frombuffer(b"ABC", dtype=np.uint8)
    # Offsets pointing past the data buffer: a panic here would be a PanicException (a BaseException).
    offsets = np.array([0, 99], dtype=np.int64)
    with pytest.raises(cgi_match.InvalidInputError, match="past the end"):
        _core.normalize_plate_column(offsets, data, None)
    with pytest.raises(cgi_match.InvalidInputError, match="decrease"):
        _core.normalize_plate_column(np.array([0, 2, 1], dtype=np.int64), data, None)
    with pytest.raises(cgi_match.InvalidInputError, match="validity"):
        _core.normalize_plate_column(np.array([0, 3], dtype=np.int64), data, np.array([True, False]))


def test_invalid_utf8_becomes_a_reject_not_an_error() -> None:
    (_, _, valid), codes = _core.normalize_plate_column(
        np.array([0, 2], dtype=np.int64), np.array([0xFF, 0xFE], dtype=np.uint8), None
    )
    assert not valid[0]
    assert cgi_match.plates.PLATE_REJECT_REASONS[int(codes[0])] == "plate is not valid UTF-8 text"


def test_every_command_has_help() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--help"]).exit_code == 0
    for name in main.commands:  # type: ignore[attr-defined]
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
