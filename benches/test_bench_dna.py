"""DNA search at scale: the Rust scan (one probe, batched probes, N:M) next to a vectorised numpy
implementation of the same Prüm rule (same hits) and next to a memory-bandwidth probe measured in the same
run. Sizes: ``make bench`` 10M references (numpy peer at 1M), inside ``make test`` a few thousand."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest

from cgi_match import AlleleFrequencies, DnaIndex, DnaProfiles
from cgi_match.synth.dna import SYNTH_LOCI, AlleleSampler
from conftest import gate, scaled

N_REFS = scaled(10_000_000, 4_000)
N_PEER = scaled(1_000_000, 4_000)
NM_REFS = scaled(1_000_000, 2_000)
NM_PROBES = scaled(10_000, 40)
BATCH = 64


def ids(prefix: str, n: int) -> pl.Series:
    return pl.Series(np.char.add(prefix, np.arange(n).astype(str)), dtype=pl.String)


@pytest.fixture(scope="module")
def sampler() -> AlleleSampler:
    return AlleleSampler.nist1036("Cauc")


@pytest.fixture(scope="module")
def genotypes(sampler: AlleleSampler) -> npt.NDArray[np.uint16]:
    return sampler.sample(N_REFS, np.random.default_rng(11))


@pytest.fixture(scope="module")
def index(genotypes: npt.NDArray[np.uint16]) -> DnaIndex:
    return DnaIndex.from_arrays(ids("R", N_REFS), list(SYNTH_LOCI), genotypes)


def probes_from(genotypes: npt.NDArray[np.uint16], k: int, seed: int) -> tuple[DnaProfiles, npt.NDArray[np.uint16]]:
    """``k`` probes: stored profiles, half of them with one allele changed (Prüm near matches)."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, genotypes.shape[0], size=k)
    g = genotypes[rows].copy()
    half = np.arange(k) % 2 == 1
    locus = rng.integers(0, g.shape[1], size=k)
    g[half, locus[half], 0] += 10
    return DnaProfiles.from_arrays(ids("P", k), list(SYNTH_LOCI), g), g


def record(benchmark: Any, name: str, work: float) -> None:
    """Stores ``work / fastest round`` in extra_info (only when timing is on: ``make bench``)."""
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info[name] = work / stats.stats.min


def prum_values(g: npt.NDArray[np.uint16]) -> npt.NDArray[np.uint8]:
    """Prüm comparison values (annex 1.1 microvariant rule), sorted per locus; 0 = not typed."""
    penta = np.array(["Penta" in locus for locus in SYNTH_LOCI])
    whole, tenth = g // 10, g % 10
    up = np.where(penta[None, :, None], tenth >= 3, tenth >= 4)
    v = (whole + up).astype(np.uint8)
    v[g == 0] = 0
    return np.sort(v, axis=2)


def numpy_prum(db: npt.NDArray[np.uint8], probe: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """The Prüm rule vectorised with numpy: rows with ≥ 6 matching loci and ≤ 1 differing allele."""
    a0, a1 = probe[:, 0], probe[:, 1]
    b0, b1 = db[:, :, 0], db[:, :, 1]
    straight = (b0 == a0).astype(np.uint8) + (b1 == a1)
    crossed = (b0 == a1).astype(np.uint8) + (b1 == a0)
    same = np.maximum(straight, crossed)
    typed = (b0 > 0) & (a0 > 0)
    mismatches = np.where(typed, 2 - same, 0).sum(axis=1)
    matched = (typed & (same == 2)).sum(axis=1)
    return np.flatnonzero((matched >= 6) & (mismatches <= 1))


def test_memory_bandwidth_probe(benchmark: Any, index: DnaIndex, bench_scale: str) -> None:
    """numpy sum over a buffer as large as the scanned rows: the machine's read bandwidth in this run."""
    buf = np.ones(index._core.scan_bytes // 8, dtype=np.uint64)
    benchmark.extra_info.update(bytes=buf.nbytes, scale=bench_scale)
    gate(benchmark, "dna.scan_bandwidth", "peer", items=buf.nbytes)
    total = benchmark(buf.sum)
    record(benchmark, "gb_per_s", buf.nbytes / 1e9)
    assert total == len(buf)


@pytest.mark.parametrize("threads", [1, None], ids=["1_thread", "all_threads"])
def test_rust_one_probe(benchmark: Any, index: DnaIndex, genotypes: Any, threads: int | None, bench_scale: str) -> None:
    probe, _ = probes_from(genotypes, 1, seed=5)
    benchmark.extra_info.update(references=N_REFS, scale=bench_scale, threads=threads or "all")
    hits = benchmark(index.search, probe, threads=threads)
    record(benchmark, "gb_per_s", index._core.scan_bytes / 1e9)
    assert hits.height >= 1


@pytest.mark.parametrize("threads", [1, None], ids=["1_thread", "all_threads"])
def test_rust_scan_one_probe(
    benchmark: Any, index: DnaIndex, genotypes: Any, threads: int | None, bench_scale: str
) -> None:
    """The compact-layout scan alone (no pair postings): what any rule and partial probe fall back to."""
    probe, _ = probes_from(genotypes, 1, seed=5)
    benchmark.extra_info.update(references=N_REFS, scale=bench_scale, threads=threads or "all")
    if threads == 1:  # bytes scanned per second as a share of the machine's read bandwidth in this run
        gate(benchmark, "dna.scan_bandwidth", "subject", items=index._core.scan_bytes)
    kept = benchmark(index._core.scan_count, probe._core, "prum", threads=threads)
    record(benchmark, "gb_per_s", index._core.scan_bytes / 1e9)
    assert kept >= 1


def test_rust_scan_batched_probes(benchmark: Any, index: DnaIndex, genotypes: Any, bench_scale: str) -> None:
    """The scan alone with a batch of probes per pass over the rows (one thread)."""
    probes, _ = probes_from(genotypes, BATCH, seed=6)
    benchmark.extra_info.update(references=N_REFS, probes=BATCH, scale=bench_scale, threads=1)
    kept = benchmark.pedantic(index._core.scan_count, args=(probes._core, "prum"), kwargs={"threads": 1}, rounds=3)
    record(benchmark, "probes_per_s", BATCH)
    record(benchmark, "effective_gb_per_s", index._core.scan_bytes * BATCH / 1e9)
    assert kept >= BATCH


@pytest.mark.parametrize("threads", [1, None], ids=["1_thread", "all_threads"])
def test_rust_batched_probes(
    benchmark: Any, index: DnaIndex, genotypes: Any, threads: int | None, bench_scale: str
) -> None:
    probes, _ = probes_from(genotypes, BATCH, seed=6)
    benchmark.extra_info.update(references=N_REFS, probes=BATCH, scale=bench_scale, threads=threads or "all")
    hits = benchmark.pedantic(index.search, args=(probes,), kwargs={"threads": threads}, rounds=3, iterations=1)
    record(benchmark, "probes_per_s", BATCH)
    record(benchmark, "effective_gb_per_s", index._core.scan_bytes * BATCH / 1e9)
    assert hits["probe_id"].n_unique() == BATCH


@pytest.fixture(scope="module")
def peer_data(genotypes: npt.NDArray[np.uint16]) -> tuple[DnaIndex, npt.NDArray[np.uint8], npt.NDArray[np.uint16]]:
    g = genotypes[:N_PEER]
    return DnaIndex.from_arrays(ids("R", N_PEER), list(SYNTH_LOCI), g), prum_values(g), g


def test_numpy_peer_one_probe(benchmark: Any, peer_data: Any, bench_scale: str) -> None:
    index, db, g = peer_data
    probe, pg = probes_from(g, 1, seed=7)
    benchmark.extra_info.update(references=N_PEER, scale=bench_scale)
    gate(benchmark, "dna.search_numpy", "peer", items=N_PEER)
    rows = benchmark(numpy_prum, db, prum_values(pg)[0])
    rust = index.search(probe, threads=1)
    # Same hits as the Rust index.
    assert sorted(index.profile_ids.gather(pl.Series(rows, dtype=pl.UInt32)).to_list()) == sorted(rust["profile_id"])
    assert len(rows) >= 1


def test_rust_one_probe_peer_size(benchmark: Any, peer_data: Any, bench_scale: str) -> None:
    index, _, g = peer_data
    probe, _ = probes_from(g, 1, seed=7)
    benchmark.extra_info.update(references=N_PEER, scale=bench_scale, threads=1)
    gate(benchmark, "dna.search_numpy", "subject", items=N_PEER)
    hits = benchmark(index.search, probe, threads=1)
    assert hits.height >= 1


def test_rust_scan_one_probe_peer_size(benchmark: Any, peer_data: Any, bench_scale: str) -> None:
    index, _, g = peer_data
    probe, _ = probes_from(g, 1, seed=7)
    benchmark.extra_info.update(references=N_PEER, scale=bench_scale, threads=1)
    kept = benchmark(index._core.scan_count, probe._core, "prum", threads=1)
    assert kept >= 1


def test_rust_familial(benchmark: Any, peer_data: Any, bench_scale: str) -> None:
    """Parent-child familial search (θ and mutation model), 4 probes over the peer-size database, 1 thread."""
    index, _, g = peer_data
    probes, _ = probes_from(g, 4, seed=9)
    freqs = AlleleFrequencies.builtin("nist1036-cauc")
    benchmark.extra_info.update(references=N_PEER, probes=4, scale=bench_scale, threads=1)
    kin = benchmark.pedantic(
        index.familial_search,
        args=(probes,),
        kwargs={"relationship": "parent-child", "frequencies": freqs, "min_ki": 1.0, "threads": 1},
        rounds=3,
        iterations=1,
    )
    record(benchmark, "probes_per_s", 4)
    # Each probe is a stored profile (or one allele off it): it ranks itself (or its near copy) first.
    assert kin.filter(pl.col("rank") == 1).height == 4


def test_rust_n_to_m(benchmark: Any, genotypes: npt.NDArray[np.uint16], bench_scale: str) -> None:
    g = genotypes[:NM_REFS]
    index = DnaIndex.from_arrays(ids("R", NM_REFS), list(SYNTH_LOCI), g)
    probes, _ = probes_from(g, NM_PROBES, seed=8)
    benchmark.extra_info.update(references=NM_REFS, probes=NM_PROBES, scale=bench_scale)
    hits = benchmark.pedantic(index.search, args=(probes,), rounds=1, iterations=1)
    record(benchmark, "comparisons_per_s", NM_REFS * NM_PROBES)
    assert hits["probe_id"].n_unique() == NM_PROBES
