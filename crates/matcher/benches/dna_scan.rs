//! The DNA scan at scale: one probe and a batch of probes against N references (one thread and all
//! threads), next to a memory-bandwidth probe (summing a buffer of the same size) measured in the same run.
//! `DNA_BENCH_PROFILES` sets N (default 1,000,000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use cgi_match_core::dna::allele::Allele;
use cgi_match_core::dna::kinship::{kinship_index, KinshipModel, Relationship};
use cgi_match_core::dna::loci::{LocusId, SLOT_LOCI};
use cgi_match_core::dna::{AlleleFrequencies, DnaIndex, MatchRules, Profile, ProfileKind};
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
        let micro = if self.next().is_multiple_of(20) { 3 } else { 0 };
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

/// The exact allele frequencies of `Rng::allele`: base + two uniform 0..6 draws (triangular over 11 values),
/// 1 in 20 as the `.3` microvariant.
fn frequencies() -> AlleleFrequencies {
    let (mut loci, mut alleles, mut freqs, mut n) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for l in 0..SLOT_LOCI {
        let base = 8 + (l as u16 % 7) * 2;
        for k in 0..11_u16 {
            let p = f64::from(if k <= 5 { k + 1 } else { 11 - k }) / 36.0;
            for (micro, share) in [(0, 0.95), (3, 0.05)] {
                loci.push(l as LocusId);
                alleles.push(Allele::Repeat((base + k) * 10 + micro));
                freqs.push(p * share);
                n.push(Some(1000));
            }
        }
    }
    AlleleFrequencies::from_rows("bench", &loci, &alleles, &freqs, &n).unwrap()
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

    // The group id is the benchmark gate's name; `subject:` / `peer:` function ids are its two sides
    // (benches/README.md): the scan's throughput as a share of the memory bandwidth measured in the same run.
    let mut g = c.benchmark_group(format!("dna.scan_{n}"));
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    // Memory bandwidth of this machine for a read of the same size, in the same run.
    let buffer: Vec<u64> = (0..bytes / 8).collect();
    g.bench_function("peer:bandwidth_sum_1_thread", |b| {
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
    g.bench_function("subject:scan_1_probe_1_thread", |b| {
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

    // Familial search, one probe, one thread: the per-probe KI tables over the scan groups, next to the
    // direct computation (decode every stored profile, `kinship_index` in f64) — the brute-force reference.
    let freqs = frequencies();
    let model = KinshipModel::new(Relationship::ParentChild);
    let mut g = c.benchmark_group(format!("dna.familial_{n}"));
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("subject:familial_parent_child_1_probe_1_thread", |b| {
        b.iter(|| one.install(|| black_box(index.familial_search(&probes[..1], model, &freqs, 20, 1.0).unwrap())));
    });
    // The direct computation is ~70× slower: it runs over the first tenth of the rows (throughput per row).
    let tenth = n / 10;
    g.throughput(Throughput::Elements(tenth as u64));
    g.bench_function("peer:direct_kinship_index_1_probe_1_thread", |b| {
        b.iter(|| {
            let best = (0..tenth)
                .filter_map(|r| index.profile(r))
                .map(|p| kinship_index(&probes[0], &p, model, &freqs).0)
                .fold(0.0_f64, f64::max);
            black_box(best)
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
