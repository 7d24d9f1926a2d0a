//! Quick timing of the DNA scan (development aid): `cargo run --release --example dna_scan_probe`.
#![allow(clippy::unwrap_used)]
use cgi_match_core::dna::allele::Allele;
use cgi_match_core::dna::loci::{LocusId, SLOT_LOCI};
use cgi_match_core::dna::{DnaIndex, MatchRules, Profile, ProfileKind};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut x: u64 = 88_172_645_463_325_252;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let profiles: Vec<Profile> = (0..n)
        .map(|_| {
            let t: Vec<(LocusId, Vec<Allele>)> = (0..SLOT_LOCI)
                .map(|l| {
                    (
                        l as LocusId,
                        vec![
                            Allele::Repeat(80 + (next() % 10) as u16 * 10),
                            Allele::Repeat(80 + (next() % 10) as u16 * 10),
                        ],
                    )
                })
                .collect();
            Profile::new(ProfileKind::Reference, t)
        })
        .collect();
    let ids: Vec<String> = (0..n).map(|i| format!("R{i}")).collect();
    let index = DnaIndex::build(&ids, &profiles).unwrap();
    let rules = MatchRules::preset("prum").unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for probes in [1, 16, 64] {
        let mut dt = f64::MAX;
        let mut c = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            c = one.install(|| index.search(&profiles[..probes], &rules, None).unwrap().len());
            dt = dt.min(t.elapsed().as_secs_f64());
        }
        let mut ds = f64::MAX;
        let mut kept = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            kept = one.install(|| index.scan_count(&profiles[..probes], &rules));
            ds = ds.min(t.elapsed().as_secs_f64());
        }
        println!("  scan only: {kept} kept, {:.1} ms", ds * 1e3);
        println!(
            "{probes} probes: {c} hits, {:.1} ms, {:.2} GB/s per probe-pass",
            dt * 1e3,
            (index.scan_bytes() * probes) as f64 / dt / 1e9
        );
    }
}
