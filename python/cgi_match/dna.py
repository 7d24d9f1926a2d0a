"""DNA STR profiles: parsing (long, wide GeneMapper, CODIS CMF XML), the Rust index with Prüm and CODIS
rule searches, match statistics (NRC II) and familial search.

Tables go to Rust as Arrow string buffers and hits come back as numpy columns; Python never loops over
profiles or probes.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from cgi_match import _core
from cgi_match._columns import str_array, str_buffers
from cgi_match.errors import InvalidInputError

#: ``match_class`` codes of the core, in rank order.
MATCH_CLASSES: tuple[str, ...] = ("full", "partial", "near")

#: The rule presets accepted by :meth:`DnaIndex.search`.
RULE_PRESETS: tuple[str, ...] = ("prum", "codis-high", "codis-moderate", "codis-low")

#: Built-in allele frequency tables (see ``cgi_match/data/dna/README.md`` for their provenance).
BUILTIN_FREQUENCIES: tuple[str, ...] = (
    "nist1036-aa",
    "nist1036-cauc",
    "nist1036-hisp",
    "nist1036-asian",
    "nist1036-all",
    "fbi-cauc-2024",
    "europadb-2023",
)

_GENEMAPPER_ALLELE = re.compile(r"^allele\s*\d+$", re.IGNORECASE)


def _string_frame(df: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return df.with_columns(pl.col(c).cast(pl.String) for c in columns)


def from_genemapper(table: pl.DataFrame) -> pl.DataFrame:
    """A wide GeneMapper export (``Sample Name, Marker, Allele 1..n``) as the long table
    ``profile_id, locus, allele`` (empty allele cells dropped; the order of the cells is kept)."""
    allele_cols = [c for c in table.columns if _GENEMAPPER_ALLELE.match(c.strip())]
    names = {c.strip().lower(): c for c in table.columns}
    if "sample name" not in names or "marker" not in names or not allele_cols:
        raise InvalidInputError("a GeneMapper table needs 'Sample Name', 'Marker' and 'Allele 1..n' columns")
    allele_cols.sort(key=lambda c: int(re.sub(r"\D", "", c)))
    wide = _string_frame(table, [names["sample name"], names["marker"], *allele_cols]).with_row_index("_row")
    long = wide.unpivot(
        index=["_row", names["sample name"], names["marker"]],
        on=allele_cols,
        variable_name="_cell",
        value_name="allele",
    )
    long = long.with_columns(pl.col("_cell").str.extract(r"(\d+)").cast(pl.Int32).alias("_cell"))
    long = long.filter(pl.col("allele").is_not_null() & (pl.col("allele").str.strip_chars() != ""))
    return long.sort("_row", "_cell").select(
        pl.col(names["sample name"]).alias("profile_id"), pl.col(names["marker"]).alias("locus"), "allele"
    )


def read_cmf(path: str | Path) -> pl.DataFrame:
    """A CODIS CMF XML file as the long table ``profile_id, locus, allele, kind`` (kind from
    ``SPECIMENCATEGORY``: ``stain`` for forensic unknowns, ``reference`` for offenders/arrestees)."""
    data = Path(path).read_bytes()
    ids, kinds, loci, alleles = _core.read_cmf(data)
    cols = {"profile_id": ids, "locus": loci, "allele": alleles, "kind": kinds}
    frame = pl.DataFrame({name: pl.Series(name, str_array(*bufs), dtype=pl.String) for name, bufs in cols.items()})
    return frame.with_columns(pl.when(pl.col("kind") == "").then(None).otherwise(pl.col("kind")).alias("kind"))


def read_profiles(source: Any) -> pl.DataFrame:
    """Any supported profile source as a long polars table with ``profile_id, locus, allele`` (and
    ``kind`` when given): a polars DataFrame, a pyarrow Table, or a path to Parquet, CSV/TSV or CMF XML.
    Wide GeneMapper tables are recognised by their ``Sample Name``/``Marker`` columns."""
    if isinstance(source, str | Path):
        path = Path(source)
        suffix = path.suffix.lower()
        if suffix == ".xml":
            return read_cmf(path)
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix in {".csv", ".tsv", ".txt"}:
            sep = "\t" if suffix in {".tsv", ".txt"} else ","
            frame = pl.read_csv(path, separator=sep, infer_schema=False)
        else:
            raise InvalidInputError(f"{path}: unknown profile file type '{suffix}' (parquet, csv, tsv or xml)")
    elif isinstance(source, pl.DataFrame):
        frame = source
    elif isinstance(source, pa.Table):
        frame = pl.from_arrow(source)  # type: ignore[assignment]
    else:
        raise InvalidInputError(f"profiles must be a polars DataFrame, a pyarrow Table or a path, not {type(source)}")
    lower = {c.strip().lower(): c for c in frame.columns}
    if "sample name" in lower and "marker" in lower:
        return from_genemapper(frame)
    missing = [c for c in ("profile_id", "locus", "allele") if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"profile table lacks column(s) {missing}; needs profile_id, locus, allele[, kind]")
    cols = ["profile_id", "locus", "allele"] + (["kind"] if "kind" in frame.columns else [])
    return _string_frame(frame.select(cols), cols)


class DnaProfiles:
    """Profiles parsed in Rust from a long table, with the table's rows that were rejected and why."""

    def __init__(self, source: Any, *, input_name: str = "profiles") -> None:
        table = read_profiles(source)
        kinds = str_buffers(table["kind"]) if "kind" in table.columns else None
        self._core = _core.DnaProfiles.from_long(
            str_buffers(table["profile_id"]), str_buffers(table["locus"]), str_buffers(table["allele"]), kinds
        )
        self.input_name = input_name
        self.rows = table.height
        rows, reasons = self._core.rejects()
        row_s = pl.Series("row", rows, dtype=pl.Int64)
        self.rejects = pl.DataFrame(
            {
                "row": row_s,
                "profile_id": table["profile_id"].gather(row_s.cast(pl.UInt32)) if len(row_s) else [],
                "reason": pl.Series("reason", str_array(*reasons), dtype=pl.String),
            },
            schema={"row": pl.Int64, "profile_id": pl.String, "reason": pl.String},
        )

    @classmethod
    def _wrap(cls, core: _core.DnaProfiles, input_name: str = "profiles") -> DnaProfiles:
        self = cls.__new__(cls)
        self._core = core
        self.input_name = input_name
        self.rows = 0
        self.rejects = pl.DataFrame(schema={"row": pl.Int64, "profile_id": pl.String, "reason": pl.String})
        return self

    @classmethod
    def from_arrays(
        cls, ids: Any, loci: list[str], alleles: np.ndarray[Any, Any], *, stain: bool = False
    ) -> DnaProfiles:
        """Profiles from a genotype array ``alleles[profile, locus, 2]`` of repeat numbers (floats such as
        ``9.3`` or tenths as uint16; 0 = not typed) — the fast path for millions of generated profiles."""
        arr = np.asarray(alleles)
        tenths = arr if arr.dtype == np.uint16 else np.rint(arr.astype(np.float64) * 10).astype(np.uint16)
        core = _core.DnaProfiles.from_arrays(str_buffers(ids), list(loci), np.ascontiguousarray(tenths), stain=stain)
        return cls._wrap(core)

    def __len__(self) -> int:
        return len(self._core)

    @property
    def ids(self) -> pl.Series:
        """Profile ids in order."""
        return pl.Series("profile_id", str_array(*self._core.ids()), dtype=pl.String)

    def summary(self) -> pl.DataFrame:
        """One row per profile: ``profile_id, str_loci, mixture, stain``."""
        n_loci, mixture, stain = self._core.summary()
        return pl.DataFrame({"profile_id": self.ids, "str_loci": n_loci, "mixture": mixture, "stain": stain})

    def to_long(self) -> pl.DataFrame:
        """The parsed profiles as ``profile_id, locus, allele`` with canonical locus names."""
        rows, loci, alleles = self._core.to_long()
        return pl.DataFrame(
            {
                "profile_id": self.ids.gather(pl.Series(rows, dtype=pl.UInt32)),
                "locus": pl.Series("locus", str_array(*loci), dtype=pl.String),
                "allele": pl.Series("allele", str_array(*alleles), dtype=pl.String),
            }
        )

    def to_cmf(self, path: str | Path, **header: str) -> None:
        """Writes the profiles as a CODIS CMF XML file (header fields: source_lab, destination_ori,
        user_id, submit_datetime, batch_id)."""
        Path(path).write_text(self._core.to_cmf(**header), encoding="utf-8")


def _profiles(source: Any, input_name: str = "probes") -> DnaProfiles:
    return source if isinstance(source, DnaProfiles) else DnaProfiles(source, input_name=input_name)


class AlleleFrequencies:
    """Allele frequencies per locus (with the sample size N when known, for the 5/2N floor)."""

    def __init__(self, core: _core.AlleleFrequencies, skipped_loci: list[str] | None = None) -> None:
        self._core = core
        #: Loci of the source that are not autosomal STRs of the catalogue (Y-STRs, indels) and were skipped.
        self.skipped_loci = skipped_loci or []

    @property
    def name(self) -> str:
        """Name of the table."""
        return self._core.name

    def loci(self) -> list[str]:
        """Canonical names of the loci covered."""
        return self._core.loci()

    def frequency(self, locus: str, allele: str) -> float | None:
        """The frequency used for an allele (raised to the floor); ``None`` for a locus not covered."""
        return self._core.frequency(locus, allele)

    @classmethod
    def from_table(cls, table: pl.DataFrame, *, name: str = "custom") -> AlleleFrequencies:
        """From a long table ``locus, allele, frequency[, n]`` (n = individuals typed)."""
        for col in ("locus", "allele", "frequency"):
            if col not in table.columns:
                raise InvalidInputError(f"frequency table lacks column '{col}'")
        n = table["n"].cast(pl.Int64).fill_null(-1) if "n" in table.columns else pl.repeat(-1, table.height, eager=True)
        core, skipped = _core.AlleleFrequencies.from_columns(
            name,
            str_buffers(table["locus"].cast(pl.String)),
            str_buffers(table["allele"].cast(pl.String)),
            table["frequency"].cast(pl.Float64).to_numpy(),
            n.cast(pl.Int64).to_numpy(),
        )
        return cls(core, skipped)

    @classmethod
    def from_csv(cls, path: str | Path, *, name: str | None = None) -> AlleleFrequencies:
        """From a CSV file: either long (``locus, allele, frequency[, n]``) or the wide layout of the FBI
        tables (``Allele`` column, one column per locus, an optional ``N`` row)."""
        path = Path(path)
        raw = pl.read_csv(path, infer_schema=False)
        if {"locus", "allele", "frequency"} <= set(raw.columns):
            return cls.from_table(raw, name=name or path.stem)
        return cls.from_table(_wide_frequencies(raw), name=name or path.stem)

    @classmethod
    def builtin(cls, name: str) -> AlleleFrequencies:
        """A built-in table: ``nist1036-aa|cauc|hisp|asian|all``, ``fbi-cauc-2024``, ``europadb-2023``."""
        key = name.strip().lower()
        if key not in BUILTIN_FREQUENCIES:
            raise InvalidInputError(f"unknown frequency table '{name}'; built in: {', '.join(BUILTIN_FREQUENCIES)}")
        data = resources.files("cgi_match") / "data" / "dna"
        if key.startswith("nist1036-"):
            pop = {"aa": "AA", "cauc": "Cauc", "hisp": "Hisp", "asian": "Asian", "all": None}[key.split("-", 1)[1]]
            table = nist1036_frequencies(nist1036_genotypes(Path(str(data / "NIST1036_genotypes.tsv"))), pop)
        elif key == "fbi-cauc-2024":
            raw = pl.read_csv(Path(str(data / "FBI_extended_Cauc_022024.csv")), infer_schema=False)
            table = _wide_frequencies(raw)
        else:
            table = _europadb(Path(str(data / "norSTR_EuropaDB_v2023.txt")))
        return cls.from_table(table, name=key)


def _wide_frequencies(raw: pl.DataFrame) -> pl.DataFrame:
    """FBI layout → long ``locus, allele, frequency, n`` (zero frequencies and Amelogenin rows dropped)."""
    allele_col = next((c for c in raw.columns if c.strip().lower() == "allele"), None)
    if allele_col is None:
        raise InvalidInputError("wide frequency table needs an 'Allele' column")
    loci = [c for c in raw.columns if c != allele_col and c.strip().upper() not in {"AMEL", "AMELOGENIN"}]
    is_n = pl.col(allele_col).str.strip_chars() == "N"
    n_row = raw.filter(is_n)
    body = raw.filter(~is_n & ~pl.col(allele_col).str.contains(","))
    long = body.unpivot(index=allele_col, on=loci, variable_name="locus", value_name="frequency").rename(
        {allele_col: "allele"}
    )
    long = long.with_columns(pl.col("frequency").cast(pl.Float64, strict=False)).filter(pl.col("frequency") > 0)
    if n_row.height:
        ns = n_row.unpivot(index=allele_col, on=loci, variable_name="locus", value_name="n").select(
            "locus", pl.col("n").cast(pl.Float64, strict=False).cast(pl.Int64)
        )
        long = long.join(ns, on="locus", how="left").with_columns(
            pl.when(pl.col("n") > 0).then(pl.col("n")).otherwise(None).alias("n")
        )
    return long.select("locus", "allele", "frequency", *(["n"] if "n" in long.columns else []))


def _europadb(path: Path) -> pl.DataFrame:
    """norSTR block format (``LOCUS`` line, then ``allele<TAB>frequency`` lines) → long table."""
    loci: list[str] = []
    alleles: list[str] = []
    freqs: list[float] = []
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if "\t" not in line:
            current = line.strip()
            continue
        if current is None:
            raise InvalidInputError(f"{path}: allele line before any locus name")
        allele, freq = line.split("\t", 1)
        loci.append(current)
        alleles.append(allele.strip())
        freqs.append(float(freq))
    return pl.DataFrame({"locus": loci, "allele": alleles, "frequency": freqs})


def nist1036_genotypes(path: str | Path) -> pl.DataFrame:
    """The NIST 1036 genotype file as a long table ``sample, pop, locus, allele`` (two rows per locus)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    loci = [h for h in header[2:] if h.strip()]
    raw = pl.read_csv(path, separator="\t", infer_schema=False, has_header=False, skip_rows=1)
    cols = ["sample", "pop"] + [f"{locus}#{k}" for locus in loci for k in (1, 2)]
    raw = raw.select(raw.columns[: len(cols)])
    raw.columns = cols
    long = raw.unpivot(index=["sample", "pop"], variable_name="cell", value_name="allele")
    return long.with_columns(pl.col("cell").str.split("#").list.first().alias("locus")).select(
        "sample", "pop", "locus", "allele"
    )


def nist1036_frequencies(genotypes: pl.DataFrame, pop: str | None) -> pl.DataFrame:
    """Allele frequencies (count / 2N) and N per locus from the NIST genotypes of one population (or all)."""
    g = genotypes if pop is None else genotypes.filter(pl.col("pop") == pop)
    g = g.filter(pl.col("allele").is_not_null() & (pl.col("allele").str.strip_chars() != ""))
    n = g.group_by("locus").agg((pl.len() // 2).alias("n"))
    counts = g.group_by("locus", "allele").agg(pl.len().alias("count"))
    return (
        counts.join(n, on="locus")
        .with_columns((pl.col("count") / (2 * pl.col("n"))).alias("frequency"))
        .select("locus", "allele", "frequency", "n")
        .sort("locus", "allele")
    )


def _frequencies(frequencies: AlleleFrequencies | str | None) -> AlleleFrequencies | None:
    if frequencies is None or isinstance(frequencies, AlleleFrequencies):
        return frequencies
    return AlleleFrequencies.builtin(frequencies)


class DnaIndex:
    """An immutable index of DNA profiles in Rust (compact 64-byte rows, genotype hash), searched with the
    Prüm and CODIS rules and by kinship. Picklable (through its binary file format)."""

    def __init__(self, profiles: Any) -> None:
        parsed = _profiles(profiles, input_name="database")
        self._core = _core.DnaIndex.build(parsed._core)
        #: Rows of the input that went into no profile, with the reason.
        self.rejects: pl.DataFrame = parsed.rejects
        self._ids: pl.Series | None = None

    @classmethod
    def _from_core(cls, core: _core.DnaIndex) -> DnaIndex:
        self = cls.__new__(cls)
        self._core = core
        self.rejects = pl.DataFrame(schema={"row": pl.Int64, "profile_id": pl.String, "reason": pl.String})
        self._ids = None
        return self

    @classmethod
    def from_arrays(cls, ids: Any, loci: list[str], alleles: np.ndarray[Any, Any]) -> DnaIndex:
        """An index straight from a genotype array ``alleles[profile, locus, 2]`` of repeat numbers (floats
        such as ``9.3``, or tenths as uint16; 0 = not typed), for tens of millions of references."""
        arr = np.asarray(alleles)
        tenths = arr if arr.dtype == np.uint16 else np.rint(arr.astype(np.float64) * 10).astype(np.uint16)
        return cls._from_core(_core.DnaIndex.from_arrays(str_buffers(ids), list(loci), np.ascontiguousarray(tenths)))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (DnaIndex._from_core, (self._core,))

    def __len__(self) -> int:
        return len(self._core)

    @property
    def profile_ids(self) -> pl.Series:
        """Profile ids in row order."""
        if self._ids is None:
            self._ids = pl.Series("profile_id", str_array(*self._core.ids()), dtype=pl.String)
        return self._ids

    def save(self, path: str | Path) -> None:
        """Writes the index file (magic, format version, crate version, checksum, then the rows)."""
        self._core.save(Path(path))

    @classmethod
    def load(cls, path: str | Path) -> DnaIndex:
        """Reads an index file; a corrupted or foreign file raises ``IndexFileError``."""
        return cls._from_core(_core.DnaIndex.load(Path(path)))

    def profiles(self) -> DnaProfiles:
        """The stored profiles (e.g. for :meth:`DnaProfiles.to_cmf`)."""
        return DnaProfiles._wrap(self._core.profiles(), "database")

    def search(
        self,
        probes: Any,
        *,
        rules: str = "prum",
        min_loci: int | None = None,
        max_mismatches: int | None = None,
        loci: list[str] | None = None,
        frequencies: AlleleFrequencies | str | None = None,
        theta: float = 0.01,
        threads: int | None = None,
    ) -> pl.DataFrame:
        """Every hit of every probe under ``rules`` (``prum``, ``codis-high``, ``codis-moderate``,
        ``codis-low``; ``min_loci``, ``max_mismatches`` and ``loci`` override the preset).

        Columns: ``probe_id, profile_id, match_class, loci_compared, loci_matched, mismatched_alleles, rmp,
        lr, expected_adventitious_matches``; in probe order, then class, matched loci descending,
        mismatches, profile id. ``rmp`` (over the matched loci, NRC II 4.10 with ``theta``) and ``lr``
        (1/RMP, full matches) are null without ``frequencies``; ``expected_adventitious_matches`` is
        RMP times the number of profiles in the index (NRC II 5.3).
        """
        parsed = _profiles(probes)
        freqs = _frequencies(frequencies)
        cols = self._core.search(
            parsed._core,
            rules,
            min_loci=min_loci,
            max_mismatches=max_mismatches,
            loci=loci,
            frequencies=freqs._core if freqs else None,
            theta=theta,
            threads=threads,
        )
        probe, row, klass, compared, matched, mismatched, rmp, lr = cols
        rmp_s = pl.Series(rmp, dtype=pl.Float64).fill_nan(None)
        return pl.DataFrame(
            {
                "probe_id": parsed.ids.gather(pl.Series(probe, dtype=pl.UInt32)),
                "profile_id": self.profile_ids.gather(pl.Series(row, dtype=pl.UInt32)),
                "match_class": pl.Series(klass, dtype=pl.UInt8).replace_strict(
                    dict(enumerate(MATCH_CLASSES)), return_dtype=pl.String
                ),
                "loci_compared": compared,
                "loci_matched": matched,
                "mismatched_alleles": mismatched,
                "rmp": rmp_s,
                "lr": pl.Series(lr, dtype=pl.Float64).fill_nan(None),
                # NRC II 5.3: unrelated profiles expected to match by chance in a database of this size.
                "expected_adventitious_matches": rmp_s * len(self),
            }
        )

    def find_identical(self, probes: Any) -> pl.DataFrame:
        """Stored profiles with exactly the probe's STR genotype, through the genotype hash (no scan)."""
        parsed = _profiles(probes)
        probe, row = self._core.find_identical(parsed._core)
        return pl.DataFrame(
            {
                "probe_id": parsed.ids.gather(pl.Series(probe, dtype=pl.UInt32)),
                "profile_id": self.profile_ids.gather(pl.Series(row, dtype=pl.UInt32)),
            }
        )

    def familial_search(
        self,
        probes: Any,
        *,
        relationship: str = "parent-child",
        frequencies: AlleleFrequencies | str,
        top_k: int = 20,
        min_ki: float = 1000.0,
        theta: float = 0.01,
        mutation_rate: float = 0.002,
        threads: int | None = None,
    ) -> pl.DataFrame:
        """The ``top_k`` candidates per probe by kinship index (``parent-child`` or ``full-sibling``), at
        least ``min_ki``. Columns ``probe_id, profile_id, relationship, kinship_index, loci_used, rank``.

        ``theta`` is the Balding-Nichols population-structure correction (NRC II 4.10, as in ``search``);
        ``mutation_rate`` is the single-step mutation rate per meiosis used for parent-child, so a parent
        and child who differ by one repeat at a locus get a small index instead of 0 (default 0.002; the
        source is in ``crates/matcher/src/dna/kinship.rs``). ``threads`` limits the worker threads (as in
        ``search``)."""
        parsed = _profiles(probes)
        freqs = _frequencies(frequencies)
        if freqs is None:
            raise InvalidInputError("familial search needs allele frequencies")
        probe, row, ki, used, rank = self._core.familial_search(
            parsed._core,
            relationship,
            freqs._core,
            top_k=top_k,
            min_ki=min_ki,
            theta=theta,
            mutation_rate=mutation_rate,
            threads=threads,
        )
        name = _core.dna_relationship(relationship)
        return pl.DataFrame(
            {
                "probe_id": parsed.ids.gather(pl.Series(probe, dtype=pl.UInt32)),
                "profile_id": self.profile_ids.gather(pl.Series(row, dtype=pl.UInt32)),
                "relationship": pl.repeat(name, len(probe), eager=True, dtype=pl.String),
                "kinship_index": ki,
                "loci_used": used,
                "rank": rank,
            }
        )


def random_match_probabilities(
    profiles: Any, frequencies: AlleleFrequencies | str, theta: float = 0.01
) -> pl.DataFrame:
    """RMP of every profile (``profile_id, rmp``; null where no locus can be evaluated), NRC II 4.10."""
    parsed = _profiles(profiles, input_name="profiles")
    freqs = _frequencies(frequencies)
    assert freqs is not None
    rmp = parsed._core.random_match_probability(freqs._core, theta)
    return pl.DataFrame({"profile_id": parsed.ids, "rmp": pl.Series(rmp, dtype=pl.Float64).fill_nan(None)})


def random_match_probability(profile: Any, frequencies: AlleleFrequencies | str, theta: float = 0.01) -> float:
    """RMP of one single-source profile: the product over loci of the NRC II genotype probabilities
    (recommendation 4.10, Balding-Nichols with ``theta``; ``theta=0`` gives 4.1), alleles floored at 5/2N."""
    table = random_match_probabilities(profile, frequencies, theta)
    if table.height != 1:
        raise InvalidInputError(f"expected one profile, got {table.height}; use random_match_probabilities")
    value = table["rmp"][0]
    if value is None:
        raise InvalidInputError("no locus of the profile is covered by the frequency table")
    return float(value)
