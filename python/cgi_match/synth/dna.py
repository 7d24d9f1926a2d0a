"""Synthetic DNA profiles sampled from real allele frequencies (the NIST 1036 genotypes, vendored in
``cgi_match/data/dna``), with relatives, partial stains, two-person mixtures and the ground truth.

Everything is vectorised with numpy (genotype arrays ``[profile, locus, 2]`` in tenths of a repeat);
long tables are produced by polars, never by a Python loop over profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from cgi_match.dna import nist1036_frequencies, nist1036_genotypes

#: Loci of the generated profiles: the 24 loci of the compact layout (CODIS 20 + SE33, Penta D, Penta E,
#: D6S1043), all typed in the NIST 1036 data.
SYNTH_LOCI: tuple[str, ...] = (
    "D3S1358",
    "vWA",
    "D8S1179",
    "D21S11",
    "D18S51",
    "TH01",
    "FGA",
    "D1S1656",
    "D2S441",
    "D10S1248",
    "D12S391",
    "D22S1045",
    "CSF1PO",
    "TPOX",
    "D5S818",
    "D7S820",
    "D13S317",
    "D16S539",
    "D2S1338",
    "D19S433",
    "SE33",
    "Penta_D",
    "Penta_E",
    "D6S1043",
)

Genotypes = npt.NDArray[np.uint16]


@dataclass(frozen=True)
class AlleleSampler:
    """Per locus the allele designations (tenths) and their frequencies, for vectorised sampling."""

    loci: tuple[str, ...]
    alleles: tuple[npt.NDArray[np.uint16], ...]
    probs: tuple[npt.NDArray[np.float64], ...]

    @classmethod
    def nist1036(cls, population: str | None = "Cauc", loci: tuple[str, ...] = SYNTH_LOCI) -> AlleleSampler:
        """Frequencies counted from the NIST 1036 genotypes of one population (``None``: all)."""
        path = Path(str(resources.files("cgi_match") / "data" / "dna" / "NIST1036_genotypes.tsv"))
        freqs = nist1036_frequencies(nist1036_genotypes(path), population)
        alleles: list[npt.NDArray[np.uint16]] = []
        probs: list[npt.NDArray[np.float64]] = []
        for locus in loci:
            t = freqs.filter(pl.col("locus") == locus)
            tenths = (t["allele"].cast(pl.Float64) * 10).round().cast(pl.UInt16).to_numpy()
            p = t["frequency"].to_numpy().astype(np.float64)
            alleles.append(tenths)
            probs.append(p / p.sum())
        return cls(loci, tuple(alleles), tuple(probs))

    def sample(self, n: int, rng: np.random.Generator) -> Genotypes:
        """``n`` unrelated genotypes under Hardy-Weinberg equilibrium: shape ``(n, loci, 2)``."""
        out = np.empty((n, len(self.loci), 2), dtype=np.uint16)
        for k, (alleles, p) in enumerate(zip(self.alleles, self.probs, strict=True)):
            out[:, k, :] = alleles[rng.choice(len(alleles), size=(n, 2), p=p)]
        return out

    def child_of(self, parent: Genotypes, rng: np.random.Generator, other: Genotypes | None = None) -> Genotypes:
        """A child of ``parent`` (one of its two alleles per locus, Mendelian) and of ``other`` (or of a
        random unrelated person when ``other`` is None)."""
        if other is None:
            other = self.sample(parent.shape[0], rng)
        n, loci = parent.shape[:2]
        pick_a = rng.integers(0, 2, size=(n, loci))
        pick_b = rng.integers(0, 2, size=(n, loci))
        rows = np.arange(n)[:, None]
        cols = np.arange(loci)[None, :]
        child = np.empty_like(parent)
        child[:, :, 0] = parent[rows, cols, pick_a]
        child[:, :, 1] = other[rows, cols, pick_b]
        return child


def drop_out(
    genotypes: Genotypes, rng: np.random.Generator, *, keep_loci: tuple[int, int] = (8, 16), allele_drop: float = 0.1
) -> Genotypes:
    """A partial stain: only ``keep_loci`` (min, max) loci typed, and each heterozygous locus loses one
    allele with probability ``allele_drop`` (it then reads as a homozygote)."""
    g = genotypes.copy()
    n, loci = g.shape[:2]
    keep = np.asarray(rng.integers(keep_loci[0], keep_loci[1] + 1, size=n))
    order = rng.random((n, loci)).argsort(axis=1)
    dropped = order >= keep[:, None]
    g[dropped] = 0
    het = (g[:, :, 0] != g[:, :, 1]) & ~dropped
    lose = het & (rng.random((n, loci)) < allele_drop)
    g[:, :, 1] = np.where(lose, g[:, :, 0], g[:, :, 1])
    return g


def to_long(
    ids: npt.NDArray[Any] | list[str],
    genotypes: Genotypes,
    loci: tuple[str, ...],
    *,
    kind: str,
    extra: Genotypes | None = None,
) -> pl.DataFrame:
    """Genotype arrays → long table ``profile_id, locus, allele, kind`` (alleles of ``extra`` appended, for
    mixtures; untyped cells dropped; a homozygote written once)."""
    parts = [genotypes] if extra is None else [genotypes, extra]
    g = np.concatenate(parts, axis=2)
    n, n_loci, width = g.shape
    id_s = pl.Series("profile_id", ids, dtype=pl.String)
    frame = pl.DataFrame(
        {
            "_p": np.repeat(np.arange(n, dtype=np.uint32), n_loci * width),
            "locus": np.tile(np.repeat(np.array(loci, dtype=object), width), n).astype(str),
            "_t": g.reshape(-1),
        }
    )
    frame = frame.filter(pl.col("_t") > 0).unique(subset=["_p", "locus", "_t"], maintain_order=True)
    whole = (pl.col("_t") // 10).cast(pl.String)
    frac = pl.col("_t") % 10
    allele = pl.when(frac == 0).then(whole).otherwise(whole + "." + frac.cast(pl.String))
    profile_id = id_s.gather(frame["_p"])
    return frame.select(
        profile_id.alias("profile_id"), pl.col("locus"), allele.alias("allele"), pl.lit(kind).alias("kind")
    )


@dataclass(frozen=True)
class SynthDna:
    """A generated database, probes and the ground truth linking them."""

    database: pl.DataFrame
    probes: pl.DataFrame
    truth: pl.DataFrame
    database_genotypes: Genotypes
    loci: tuple[str, ...]


def generate(
    n_profiles: int, *, n_probes: int | None = None, seed: int = 0, population: str | None = "Cauc"
) -> SynthDna:
    """A database of ``n_profiles`` references and probes of six kinds in equal shares: the same person
    (``same``), a partial stain of them with drop-out (``partial``), a two-person mixture of two database
    people (``mixture``), a child of a database person (``parent-child``), a full sibling of a database
    person (``full-sibling``) and a person not in the database (``unrelated``). ``truth`` names, per probe,
    the relation and the database profile(s) it comes from."""
    if n_profiles < 2:
        raise ValueError("n_profiles must be at least 2")
    rng = np.random.default_rng(seed)
    sampler = AlleleSampler.nist1036(population)
    loci = sampler.loci
    n_probes = n_probes if n_probes is not None else max(6, n_profiles // 10)
    per = -(-n_probes // 6)

    # Full siblings: the database holds one child of two random parents, the probe the other child.
    n_sib = min(per, n_profiles // 4)
    fathers, mothers = sampler.sample(n_sib, rng), sampler.sample(n_sib, rng)
    sib_db = sampler.child_of(fathers, rng, mothers)
    sib_probe = sampler.child_of(fathers, rng, mothers)
    db = np.concatenate([sampler.sample(n_profiles - n_sib, rng), sib_db])
    db_ids = np.array([f"REF{i:08d}" for i in range(n_profiles)], dtype=object)
    sib_rows = np.arange(n_profiles - n_sib, n_profiles)

    def pick(k: int) -> npt.NDArray[np.int64]:
        return rng.integers(0, n_profiles - n_sib, size=k)

    same_rows, partial_rows, child_rows = pick(per), pick(per), pick(per)
    mix_a, mix_b = pick(per), pick(per)
    groups: list[tuple[str, Genotypes, npt.NDArray[Any], npt.NDArray[Any] | None, str, Genotypes | None]] = [
        ("same", db[same_rows], same_rows, None, "reference", None),
        ("partial", drop_out(db[partial_rows], rng), partial_rows, None, "stain", None),
        ("mixture", db[mix_a], mix_a, mix_b, "stain", db[mix_b]),
        ("parent-child", sampler.child_of(db[child_rows], rng), child_rows, None, "reference", None),
        ("full-sibling", sib_probe, sib_rows, None, "reference", None),
        ("unrelated", sampler.sample(per, rng), np.full(per, -1), None, "reference", None),
    ]
    probe_frames = []
    truth_frames = []
    start = 0
    for relation, g, src, src2, kind, extra in groups:
        ids = np.array([f"PRB{start + i:08d}" for i in range(len(g))], dtype=object)
        start += len(g)
        probe_frames.append(to_long(ids, g, loci, kind=kind, extra=extra))
        truth_frames.append(
            pl.DataFrame(
                {
                    "probe_id": ids.astype(str),
                    "relation": [relation] * len(g),
                    "source_id": np.where(src >= 0, db_ids[np.maximum(src, 0)], None),
                    "second_source_id": db_ids[src2] if src2 is not None else np.full(len(g), None),
                },
                schema={
                    "probe_id": pl.String,
                    "relation": pl.String,
                    "source_id": pl.String,
                    "second_source_id": pl.String,
                },
            )
        )
    database = to_long(db_ids, db, loci, kind="reference")
    return SynthDna(
        database=database,
        probes=pl.concat(probe_frames),
        truth=pl.concat(truth_frames),
        database_genotypes=db,
        loci=loci,
    )


def write(synth: SynthDna, out: Path) -> dict[str, int]:
    """Writes ``database.parquet``, ``probes.parquet`` and ``truth.parquet`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    synth.database.write_parquet(out / "database.parquet")
    synth.probes.write_parquet(out / "probes.parquet")
    synth.truth.write_parquet(out / "truth.parquet")
    return {
        "database_rows": synth.database.height,
        "profiles": int(synth.database_genotypes.shape[0]),
        "probe_rows": synth.probes.height,
        "probes": synth.truth.height,
    }
