"""The append-only, hash-chained audit log: who ran which job, why, on what, and what it disclosed.

One JSON object per line. Each record carries ``seq`` (0, 1, 2, …), ``prev_hash`` (the previous record's
``hash``; 64 zeros for the first) and ``hash`` = sha256 of the record's canonical JSON without ``hash``.
Altering, removing, inserting or reordering any record breaks the chain at that record, which
:func:`verify` reports. Removing records *at the end* leaves a valid shorter chain: anchor the head hash
(printed by ``cgi-match audit verify``) somewhere else to detect that too.

The log never holds plate text, templates or alleles: only file paths, checksums, counts and parameters
(EU Law Enforcement Directive 2016/680 art. 25 logging; CJIS Security Policy 5.4 audit records).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64

#: Fields every record has; the writer refuses a record without them.
REQUIRED_FIELDS = ("operator", "justification", "case_ref", "job_id", "command", "outcome")


def canonical(record: dict[str, Any]) -> bytes:
    """The bytes the hash covers: compact JSON with sorted keys, UTF-8."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def record_hash(record: dict[str, Any]) -> str:
    """sha256 of a record without its own ``hash`` field."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def default_log_path() -> Path:
    """``$CGI_MATCH_AUDIT_LOG``, else ``$XDG_STATE_HOME/cgi-match/audit.jsonl`` (``~/.local/state/…``)."""
    env = os.environ.get("CGI_MATCH_AUDIT_LOG")
    if env:
        return Path(env)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "cgi-match" / "audit.jsonl"


def _last_record(f: Any) -> dict[str, Any] | None:
    f.seek(0, os.SEEK_END)
    size = f.tell()
    if size == 0:
        return None
    # Read backwards until a full last line is in hand; records are small (paths and checksums).
    block = 4096
    data = b""
    pos = size
    while pos > 0:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or pos == 0:
            parsed: dict[str, Any] = json.loads(lines[-1])
            return parsed
    return None


def append(path: str | os.PathLike[str], record: dict[str, Any]) -> dict[str, Any]:
    """Appends one record (adding ``seq``, ``time_utc``, ``prev_hash``, ``hash``) under an exclusive lock."""
    missing = [k for k in REQUIRED_FIELDS if not record.get(k)]
    if missing:
        raise ValueError(f"audit record lacks {', '.join(missing)}")
    log = Path(path)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            last = _last_record(f)
            full = dict(record)
            full["seq"] = 0 if last is None else int(last["seq"]) + 1
            full["prev_hash"] = GENESIS if last is None else str(last["hash"])
            full.setdefault("time_utc", datetime.now(UTC).isoformat(timespec="microseconds"))
            full["hash"] = record_hash(full)
            f.seek(0, os.SEEK_END)
            f.write(canonical(full) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    return full


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify`: ``ok``, how many records, and the first broken one with why."""

    ok: bool
    records: int
    head_hash: str
    first_bad_line: int | None = None
    problem: str | None = None


def verify(path: str | os.PathLike[str]) -> VerifyReport:
    """Walks the chain and reports the first altered, removed, inserted or reordered record (1-based line)."""
    prev = GENESIS
    n = 0
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            line = raw.rstrip(b"\n")
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                return VerifyReport(False, n, prev, line_no, "line is not a JSON record (altered or corrupted)")
            if not isinstance(rec, dict) or "hash" not in rec:
                return VerifyReport(False, n, prev, line_no, "record has no hash (inserted or altered)")
            if record_hash(rec) != rec["hash"]:
                return VerifyReport(False, n, prev, line_no, "record content does not match its hash (altered)")
            if rec.get("prev_hash") != prev:
                return VerifyReport(
                    False, n, prev, line_no, "record does not follow the previous one (removed, inserted or reordered)"
                )
            if rec.get("seq") != n:
                return VerifyReport(False, n, prev, line_no, f"sequence number {rec.get('seq')} where {n} was due")
            prev = rec["hash"]
            n += 1
    return VerifyReport(True, n, prev)
