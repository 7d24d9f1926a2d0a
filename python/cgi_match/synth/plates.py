"""Synthetic plate alerts and ANPR reads with ground truth, vectorised with numpy (1M reads in about a second).

Plates follow the current national formats:

========  ===================================================================================================
country   format (L letter, D digit; separators as printed)
========  ===================================================================================================
BE        ``D-LLL-DDD`` (series 1 and 2 since 2010), e.g. 1-ABC-123
NL        sidecodes 6-11: ``DD-LL-LL``, ``DD-LLL-D``, ``D-LLL-DD``, ``LL-DDD-L``, ``L-DDD-LL``,
          ``LLL-DD-L``; consonants only (BDFGHJKLNPRSTVXZ)
FR        SIV ``LL-DDD-LL`` since 2009, without I, O, U
DE        district (1-3 letters, real codes incl. umlauts MÜ, TÜ, LÖ, FÜ, GÖ, SÜW, KÜN, HÖX, DÜW), 1-2
          letters (30/70%), 1-4 digits (5/15/35/45%, an assumption), at most 8 characters, e.g. MÜ AB 123
LU        ``LL DDDD``
GB        ``LLDD LLL`` (area code, age identifier, random letters; no I, Q, Z in the letters)
BG        Cyrillic region (1-2 of А В Е К М Н О Р С Т У Х), ``DDDD``, two Cyrillic letters, e.g. СВ 1234 РН
GR        three Greek capitals (Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ), ``DDDD``, e.g. ΙΚΥ-1234
========  ===================================================================================================

Noise model of reads derived from an alert (each read gets exactly one of the first four, then the last two
independently):

* ``none`` (50%): the plate as printed;
* ``lookalike`` (30%): one character replaced by another member of its default OCR class (B→8, O→0, …);
* ``drop`` (10%): one character lost (screw, dirt, sticker);
* ``extra`` (10%): one extra character inserted at a random place (a bolt read as 1 or I, …);
* separators (50% of reads): every separator replaced by one of none, space, hyphen or dot;
* case (10% of reads): lower case.

Unrelated reads are fresh plates from the same formats (they may by chance equal an alert: such reads are
true hits, the ground truth says ``source_alert_id`` null). Alerts carry a country as ISO alpha-2 or vehicle
code (or none, 10%), optional validity (3% expired before the reads were taken); reads carry the camera's
country guess (70%) and ``seen_at`` within the day before ``reference``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from cgi_match.plates import DEFAULT_OCR_CLASSES

U32 = npt.NDArray[np.uint32]

COUNTRIES = ("BE", "NL", "FR", "DE", "LU", "GB", "BG", "GR")
#: Share of alerts and unrelated reads per country (roughly the vehicle fleets of a Benelux-centred feed).
COUNTRY_WEIGHTS = (0.14, 0.16, 0.18, 0.24, 0.04, 0.14, 0.05, 0.05)
#: How the country is written on alerts: the alpha-2 code or the vehicle code on the oval sticker.
VEHICLE_CODE = {"BE": "B", "NL": "NL", "FR": "F", "DE": "D", "LU": "L", "GB": "GB", "BG": "BG", "GR": "GR"}

NOISE_KINDS = ("none", "lookalike", "drop", "extra")
NOISE_WEIGHTS = (0.5, 0.3, 0.1, 0.1)
SEPARATOR_SHARE = 0.5
LOWER_SHARE = 0.1

_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_SEPARATORS = ("", " ", "-", ".")
_DE_DISTRICTS = [
    "B",
    "M",
    "HH",
    "K",
    "F",
    "S",
    "D",
    "DO",
    "E",
    "HB",
    "H",
    "L",
    "N",
    "DD",
    "KA",
    "MA",
    "WI",
    "BN",
    "AC",
    "BI",
    "GE",
    "MÜ",
    "TÜ",
    "LÖ",
    "FÜ",
    "GÖ",
    "SÜW",
    "KÜN",
    "HÖX",
    "DÜW",
    "FFB",
    "GAP",
    "LIP",
    "RE",
    "BO",
    "OS",
    "OF",
    "WÜ",
    "ER",
    "KI",
    "HL",
]
_BG_REGIONS = [
    "А",
    "В",
    "Е",
    "К",
    "М",
    "Н",
    "Р",
    "С",
    "Т",
    "Х",
    "СА",
    "СВ",
    "СН",
    "РВ",
    "ВТ",
    "ЕВ",
    "ЕН",
    "ВН",
    "ВР",
    "ОВ",
    "КН",
    "ЕА",
    "РА",
    "РК",
    "ТХ",
]
_BG_LETTERS = "АВЕКМНОРСТУХ"
_GR_LETTERS = "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"

# Slot kinds in the plate matrices.
_EMPTY, _CHAR, _SEP = 0, 1, 2
_WIDTH = 12


def _pick(rng: np.random.Generator, alphabet: str | list[str], n: int) -> U32:
    codes = np.array([ord(c) for c in alphabet], dtype=np.uint32)
    return codes[rng.integers(0, len(codes), size=n)]


class _Builder:
    """Plates of one format as a (rows, _WIDTH) matrix of code points with a parallel slot-kind matrix."""

    def __init__(self, n: int) -> None:
        self.chars = np.zeros((n, _WIDTH), dtype=np.uint32)
        self.kinds = np.zeros((n, _WIDTH), dtype=np.uint8)
        self.col = np.zeros(n, dtype=np.int64)
        self.rows = np.arange(n)

    def put(self, codes: U32, kind: int, where: npt.NDArray[np.bool_] | None = None) -> None:
        mask = np.ones(len(self.rows), dtype=bool) if where is None else where
        r, c = self.rows[mask], self.col[mask]
        self.chars[r, c] = codes[mask]
        self.kinds[r, c] = kind
        self.col[mask] += 1

    def chars_of(self, rng: np.random.Generator, alphabet: str, count: int) -> None:
        for _ in range(count):
            self.put(_pick(rng, alphabet, len(self.rows)), _CHAR)

    def sep(self, sep: str) -> None:
        self.put(np.full(len(self.rows), ord(sep), dtype=np.uint32), _SEP)


def _template(rng: np.random.Generator, n: int, template: str, letters: str, sep: str) -> _Builder:
    b = _Builder(n)
    for t in template:
        if t == "L":
            b.chars_of(rng, letters, 1)
        elif t == "D":
            b.chars_of(rng, _DIGITS, 1)
        else:
            b.sep(sep)
    return b


def _be(rng: np.random.Generator, n: int) -> _Builder:
    b = _Builder(n)
    b.chars_of(rng, "12", 1)
    b.sep("-")
    b.chars_of(rng, _LATIN, 3)
    b.sep("-")
    b.chars_of(rng, _DIGITS, 3)
    return b


def _nl(rng: np.random.Generator, n: int) -> _Builder:
    sidecodes = ("DD-LL-LL", "DD-LLL-D", "D-LLL-DD", "LL-DDD-L", "L-DDD-LL", "LLL-DD-L")
    which = rng.integers(0, len(sidecodes), size=n)
    out = _Builder(n)
    for k, code in enumerate(sidecodes):
        rows = np.flatnonzero(which == k)
        part = _template(rng, rows.size, code, "BDFGHJKLNPRSTVXZ", "-")
        out.chars[rows], out.kinds[rows] = part.chars, part.kinds
    return out


def _fr(rng: np.random.Generator, n: int) -> _Builder:
    return _template(rng, n, "LL-DDD-LL", "ABCDEFGHJKLMNPQRSTVWXYZ", "-")


def _de(rng: np.random.Generator, n: int) -> _Builder:
    b = _Builder(n)
    table = np.array(_DE_DISTRICTS, dtype="<U3").view(np.uint32).reshape(-1, 3)
    which = rng.integers(0, len(_DE_DISTRICTS), size=n)
    dlen = (table != 0).sum(axis=1)[which]
    for k in range(3):
        b.put(table[which, k], _CHAR, dlen > k)
    b.sep(" ")
    # Most German plates carry two letters and three or four digits; short ones are rarer (KBA statistics
    # give no exact split; these weights are an assumption, stated in the module docstring).
    n_letters = rng.choice([1, 2], size=n, p=[0.3, 0.7])
    n_digits = np.minimum(rng.choice([1, 2, 3, 4], size=n, p=[0.05, 0.15, 0.35, 0.45]), 8 - dlen - n_letters)
    for k in range(2):
        b.put(_pick(rng, _LATIN, n), _CHAR, n_letters > k)
    b.sep(" ")
    for k in range(4):
        b.put(_pick(rng, "123456789" if k == 0 else _DIGITS, n), _CHAR, n_digits > k)
    return b


def _lu(rng: np.random.Generator, n: int) -> _Builder:
    return _template(rng, n, "LL DDDD", _LATIN, " ")


def _gb(rng: np.random.Generator, n: int) -> _Builder:
    return _template(rng, n, "LLDD LLL", "ABCDEFGHJKLMNOPRSTUVWXY", " ")


def _bg(rng: np.random.Generator, n: int) -> _Builder:
    b = _Builder(n)
    table = np.array(_BG_REGIONS, dtype="<U2").view(np.uint32).reshape(-1, 2)
    which = rng.integers(0, len(_BG_REGIONS), size=n)
    rlen = (table != 0).sum(axis=1)[which]
    for k in range(2):
        b.put(table[which, k], _CHAR, rlen > k)
    b.sep(" ")
    b.chars_of(rng, _DIGITS, 4)
    b.sep(" ")
    b.chars_of(rng, _BG_LETTERS, 2)
    return b


def _gr(rng: np.random.Generator, n: int) -> _Builder:
    return _template(rng, n, "LLL-DDDD", _GR_LETTERS, "-")


_FORMATS = {"BE": _be, "NL": _nl, "FR": _fr, "DE": _de, "LU": _lu, "GB": _gb, "BG": _bg, "GR": _gr}


def _plates(rng: np.random.Generator, n: int) -> tuple[U32, npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """``n`` plates of random countries: code points, slot kinds and the country index of each row."""
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_WEIGHTS)
    chars = np.zeros((n, _WIDTH), dtype=np.uint32)
    kinds = np.zeros((n, _WIDTH), dtype=np.uint8)
    for k, name in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == k)
        b = _FORMATS[name](rng, rows.size)
        chars[rows], kinds[rows] = b.chars, b.kinds
    return chars, kinds, country


def _compact(chars: U32, kinds: npt.NDArray[np.uint8]) -> tuple[U32, npt.NDArray[np.uint8]]:
    """Moves empty slots to the end of each row, keeping the order of the others."""
    order = np.argsort(kinds == _EMPTY, axis=1, kind="stable")
    return np.take_along_axis(chars, order, axis=1), np.take_along_axis(kinds, order, axis=1)


def _strings(chars: U32) -> npt.NDArray[np.str_]:
    """Rows of code points (zero-padded at the end) as a numpy unicode array, without a Python loop."""
    c = np.ascontiguousarray(chars, dtype=np.uint32)
    return c.view(f"<U{c.shape[1]}").ravel()


def _class_tables() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[U32]]:
    """Code point → Latin look-alike (Cyrillic and Greek read by shape), Latin code point → index of its
    default OCR class (-1 for none), and each class's members in code-point order."""
    latin = np.arange(0x500, dtype=np.int64)
    for src, dst in zip("АВЕКМНОРСТУХ" + _GR_LETTERS, "ABEKMHOPCTYX" + "ABEZHIKMNOPTYX", strict=True):
        latin[ord(src)] = ord(dst)
    table = np.full(0x500, -1, dtype=np.int64)
    members: list[U32] = []
    for k, cls in enumerate(DEFAULT_OCR_CLASSES):
        members.append(np.array(sorted(ord(c) for c in cls), dtype=np.uint32))
        for c in cls:
            table[ord(c)] = k
    return latin, table, members


def _random_slot(rng: np.random.Generator, eligible: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """One eligible column per row, uniformly (rows need at least one eligible slot)."""
    score = rng.random(eligible.shape) * eligible
    return np.asarray(np.argmax(score, axis=1), dtype=np.int64)


def _lookalike(rng: np.random.Generator, chars: U32, kinds: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64]) -> None:
    """Replaces one character per row by a different member of its OCR class (as a Latin character)."""
    latin, table, members = _class_tables()
    sub = chars[rows].astype(np.int64)
    as_latin = np.where(sub < latin.size, latin[np.minimum(sub, latin.size - 1)], sub)
    cls = np.where(as_latin < table.size, table[np.minimum(as_latin, table.size - 1)], -1)
    eligible = (cls >= 0) & (kinds[rows] == _CHAR)
    has = eligible.any(axis=1)
    rows, as_latin, cls, eligible = rows[has], as_latin[has], cls[has], eligible[has]
    col = _random_slot(rng, eligible)
    at = np.arange(rows.size)
    current, target_cls = as_latin[at, col], cls[at, col]
    new = np.zeros(rows.size, dtype=np.uint32)
    for k, m in enumerate(members):
        hit = np.flatnonzero(target_cls == k)
        # Any other member: step 1 … size-1 places from the current one around the class.
        pos = np.searchsorted(m, current[hit])
        new[hit] = m[(pos + rng.integers(1, m.size, size=hit.size)) % m.size]
    chars[rows, col] = new


def _drop(rng: np.random.Generator, chars: U32, kinds: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64]) -> None:
    col = _random_slot(rng, kinds[rows] == _CHAR)
    chars[rows, col] = 0
    kinds[rows, col] = _EMPTY


def _extra(
    rng: np.random.Generator, chars: U32, kinds: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64]
) -> tuple[U32, npt.NDArray[np.uint8]]:
    """Inserts one character per row; the matrices grow by one column."""
    n, w = chars.shape
    wide_c = np.concatenate([chars, np.zeros((n, 1), dtype=np.uint32)], axis=1)
    wide_k = np.concatenate([kinds, np.zeros((n, 1), dtype=np.uint8)], axis=1)
    length = (kinds[rows] != _EMPTY).sum(axis=1)
    pos = (rng.random(rows.size) * (length + 1)).astype(np.int64)
    cols = np.arange(w + 1)[None, :]
    src = cols - (cols > pos[:, None])
    new_c = np.take_along_axis(wide_c[rows], src, axis=1)
    new_k = np.take_along_axis(wide_k[rows], src, axis=1)
    new_c[np.arange(rows.size), pos] = _pick(rng, _LATIN + _DIGITS, rows.size)
    new_k[np.arange(rows.size), pos] = _CHAR
    wide_c[rows], wide_k[rows] = new_c, new_k
    return wide_c, wide_k


def _separators(
    rng: np.random.Generator, chars: U32, kinds: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64]
) -> None:
    choice = np.array([ord(s) if s else 0 for s in _SEPARATORS], dtype=np.uint32)[
        rng.integers(0, len(_SEPARATORS), size=rows.size)
    ]
    sub_c, sub_k = chars[rows], kinds[rows]
    is_sep = sub_k == _SEP
    new = np.broadcast_to(choice[:, None], sub_c.shape)
    sub_c[is_sep] = new[is_sep]
    sub_k[is_sep & (new == 0)] = _EMPTY
    chars[rows], kinds[rows] = sub_c, sub_k


def _lower(chars: U32, rows: npt.NDArray[np.int64]) -> None:
    sub = chars[rows]
    upper = ((sub >= 0x41) & (sub <= 0x5A)) | ((sub >= 0x391) & (sub <= 0x3A9)) | ((sub >= 0x410) & (sub <= 0x42F))
    sub[upper] += 0x20
    chars[rows] = sub


@dataclass
class PlateDataset:
    """Alerts, reads and the ground truth linking them."""

    alerts: pl.DataFrame
    reads: pl.DataFrame
    truth: pl.DataFrame


def generate(
    n_alerts: int,
    n_reads: int,
    *,
    related_share: float = 0.1,
    seed: int = 0,
    reference: dt.datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
) -> PlateDataset:
    """Alerts, reads (``related_share`` of them derived from alerts through the noise model) and ground truth.

    Deterministic for a given seed. ``truth`` has one row per read: ``read_id``, ``source_alert_id`` (null
    for an unrelated read) and ``noise`` (one of :data:`NOISE_KINDS`, or ``unrelated``).
    """
    if n_alerts < 0 or n_reads < 0 or not 0.0 <= related_share <= 1.0:
        raise ValueError("counts must be non-negative and related_share within [0, 1]")
    rng = np.random.default_rng(seed)
    ref_us = int(reference.timestamp() * 1_000_000)
    day_us = 86_400 * 1_000_000

    a_chars, a_kinds, a_country = _plates(rng, n_alerts)
    alert_ids = (
        pl.select(pl.format("SIS-{}", pl.int_range(n_alerts).cast(pl.String).str.zfill(9)))
        .to_series()
        .alias("alert_id")
        .cast(pl.String)
    )
    vehicle = rng.random(n_alerts) < 0.5
    codes = np.array(COUNTRIES)[a_country]
    vcodes = np.array([VEHICLE_CODE[c] for c in COUNTRIES])[a_country]
    alert_country = np.where(vehicle, vcodes, codes).astype(object)
    alert_country[rng.random(n_alerts) < 0.1] = None
    valid_from = np.where(rng.random(n_alerts) < 0.3, ref_us - rng.integers(1, 1000, size=n_alerts) * day_us, 0)
    expired = rng.random(n_alerts) < 0.03
    valid_to = np.where(expired, ref_us - rng.integers(2, 400, size=n_alerts) * day_us, 0)
    valid_from = np.where(expired, np.minimum(valid_from, valid_to - day_us), valid_from)
    alerts = pl.DataFrame(
        {
            "alert_id": alert_ids,
            "plate": pl.Series(_strings(a_chars)),
            "country": pl.Series(alert_country.tolist(), dtype=pl.String),
            "valid_from": pl.Series(valid_from).cast(pl.Datetime("us", "UTC")),
            "valid_to": pl.Series(valid_to).cast(pl.Datetime("us", "UTC")),
            "alert_type": pl.Series(rng.choice(["stolen vehicle", "wanted person", "surveillance"], size=n_alerts)),
        }
    ).with_columns(
        pl.when(pl.col("valid_from").dt.epoch("us") == 0)
        .then(None)
        .otherwise(pl.col("valid_from"))
        .alias("valid_from"),
        pl.when(pl.col("valid_to").dt.epoch("us") == 0).then(None).otherwise(pl.col("valid_to")).alias("valid_to"),
    )

    related = (rng.random(n_reads) < related_share) & (n_alerts > 0)
    source = np.where(related, rng.integers(0, max(n_alerts, 1), size=n_reads), -1)
    u_chars, u_kinds, u_country = _plates(rng, n_reads)
    r_chars, r_kinds = u_chars, u_kinds
    rel = np.flatnonzero(related)
    r_chars[rel], r_kinds[rel] = a_chars[source[rel]], a_kinds[source[rel]]
    r_country = np.where(related, a_country[np.maximum(source, 0)] if n_alerts else u_country, u_country)

    noise = np.full(n_reads, "unrelated", dtype=object)
    kind = rng.choice(len(NOISE_KINDS), size=n_reads, p=NOISE_WEIGHTS)
    for k, name in enumerate(NOISE_KINDS):
        noise[related & (kind == k)] = name
    _lookalike(rng, r_chars, r_kinds, np.flatnonzero(related & (kind == 1)))
    _drop(rng, r_chars, r_kinds, np.flatnonzero(related & (kind == 2)))
    r_chars, r_kinds = _extra(rng, r_chars, r_kinds, np.flatnonzero(related & (kind == 3)))
    _separators(rng, r_chars, r_kinds, np.flatnonzero(rng.random(n_reads) < SEPARATOR_SHARE))
    _lower(r_chars, np.flatnonzero(rng.random(n_reads) < LOWER_SHARE))
    r_chars, r_kinds = _compact(r_chars, r_kinds)

    read_country = np.array(COUNTRIES, dtype=object)[r_country]
    read_country[rng.random(n_reads) >= 0.7] = None
    read_ids = pl.Series("read_id", np.arange(n_reads, dtype=np.int64))
    reads = pl.DataFrame(
        {
            "read_id": read_ids,
            "plate": pl.Series(_strings(r_chars)),
            "country": pl.Series(read_country.tolist(), dtype=pl.String),
            "seen_at": pl.Series(ref_us - rng.integers(0, day_us, size=n_reads)).cast(pl.Datetime("us", "UTC")),
        }
    )
    source_ids = alert_ids.gather(pl.Series(np.maximum(source, 0), dtype=pl.UInt32)) if n_alerts else None
    source_col = pl.Series("source_alert_id", [None] * n_reads, dtype=pl.String)
    if source_ids is not None:
        source_col = pl.select(
            pl.when(pl.Series(related)).then(source_ids).otherwise(None).alias("source_alert_id")
        ).to_series()
    truth = pl.DataFrame([read_ids, source_col, pl.Series("noise", noise.astype(str), dtype=pl.String)])
    return PlateDataset(alerts=alerts, reads=reads, truth=truth)


def lookalike_reads(alerts: pl.DataFrame, n: int, *, seed: int = 0) -> pl.DataFrame:
    """Reads that each differ from a random alert by exactly one look-alike substitution (for recall figures):
    ``read_id``, ``plate``, ``source_alert_id``. The alert's printed separators are kept."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, alerts.height, size=n)
    plates = alerts["plate"].gather(pl.Series(pick, dtype=pl.UInt32)).to_numpy().astype(f"<U{_WIDTH}")
    chars = plates.view(np.uint32).reshape(n, _WIDTH).copy()
    kinds = np.where(chars == 0, _EMPTY, np.where(np.isin(chars, [32, 45, 46]), _SEP, _CHAR)).astype(np.uint8)
    _lookalike(rng, chars, kinds, np.arange(n))
    return pl.DataFrame(
        {
            "read_id": np.arange(n, dtype=np.int64),
            "plate": pl.Series(_strings(chars)),
            "source_alert_id": alerts["alert_id"].gather(pl.Series(pick, dtype=pl.UInt32)),
        }
    )
