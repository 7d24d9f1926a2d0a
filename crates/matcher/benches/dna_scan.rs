//! The DNA scan at scale: one probe and a batch of probes against N references (one thread and all
//! threads), next to a memory-bandwidth probe (summing a buffer of the same size) measured in the same run.
//! `DNA_BENCH_PROFILES` sets N (default 1,000,000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use cgi_match_core::dna::allele::Allele;
use cgi_match_core::dna::loci::{LocusId, SLOT_LOCI};
use cgi_match_core::dna::{DnaIndex, MatchRules, Profile, ProfileKind};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A small xorshift generator: deterministic profiles without extra dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A repeat number with a roughly bell-shaped spread of about 10 common alleles per locus.
    fn allele(&mut self, locus: usize) -> Allele {
        let base = 8 + (locus as u16 % 7) * 2;
        let spread = (self.next() % 6 + self.next() % 6) as u16;
        let micro = if self.next() % 20 == 0 { 3 } else { 0 };
        Allele::Repeat((base + spread) * 10 + micro)
    }
}

fn profiles(n: usize, seed: u64) -> Vec<Profile> {
    let mut rng = Rng(seed | 1);
    (0..n)
        .map(|_| {
            let typings: Vec<(LocusId, Vec<Allele>)> =
                (0..SLOT_LOCI).map(|l| (l as LocusId, vec![rng.allele(l), rng.allele(l)])).collect();
            Profile::new(ProfileKind::Reference, typings)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("DNA_BENCH_PROFILES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let refs = profiles(n, 42);
    let ids: Vec<String> = (0..n).map(|i| format!("R{i:09}")).collect();
    let index = DnaIndex::build(&ids, &refs).unwrap();
    drop(refs);
    let probes = profiles(64, 7);
    let prum = MatchRules::preset("prum").unwrap();
    let bytes = index.scan_bytes() as u64;
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();

    let mut g = c.benchmark_group(format!("dna_scan_{n}"));
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    // Memory bandwidth of this machine for a read of the same size, in the same run.
    let buffer: Vec<u64> = (0..bytes / 8).collect();
    g.bench_function("bandwidth_sum_1_thread", |b| {
        // Eight independent accumulators so the sum vectorises and reads at memory speed.
        b.iter(|| {
            let lanes = buffer.chunks_exact(8).fold([0_u64; 8], |mut acc, c| {
                for (a, x) in acc.iter_mut().zip(c) {
                    *a = a.wrapping_add(*x);
                }
                acc
            });
            black_box(lanes.iter().fold(0_u64, |a, &x| a.wrapping_add(x)))
        });
    });
    // The compact-layout scan alone (every rule and partial probe can fall back to it).
    g.bench_function("scan_1_probe_1_thread", |b| {
        b.iter(|| one.install(|| black_box(index.scan_count(&probes[..1], &prum))));
    });
    // Prüm search: pair postings of the key loci, then the scan test and exact comparison on candidates.
    g.bench_function("prum_search_1_probe_1_thread", |b| {
        b.iter(|| one.install(|| black_box(index.search(&probes[..1], &prum, None).unwrap())));
    });
    g.throughput(Throughput::Elements(64));
    g.bench_function("scan_64_probes_1_thread", |b| {
        b.iter(|| one.install(|| black_box(index.scan_count(&probes, &prum))));
    });
    g.bench_function("prum_search_64_probes_1_thread", |b| {
        b.iter(|| one.install(|| black_box(index.search(&probes, &prum, None).unwrap())));
    });
    let moderate = MatchRules::preset("codis-moderate").unwrap();
    g.bench_function("codis_moderate_search_64_probes_all_threads", |b| {
        b.iter(|| black_box(index.search(&probes, &moderate, None).unwrap()));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
