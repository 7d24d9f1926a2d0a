//! 1:1 fingerprint comparisons per second on prepared templates (criterion, one thread).
//!
//! Uses the real development set (`../shared/data/fingerprints/fvc2002_db2_b`) when present: every genuine and
//! cross-finger pair, the FVC protocol's mix; otherwise random minutiae sets of the same size (≈ 40).
#![allow(clippy::expect_used, clippy::unwrap_used)] // benchmark set-up, not input handling

use std::path::PathBuf;

use cgi_match_core::finger::{iso19794_2, Matcher, MinutiaKind, PreparedTemplate, Template};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn devset(m: &Matcher) -> Option<Vec<PreparedTemplate>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fingerprints/fvc2002_db2_b");
    let mut out = Vec::new();
    for f in 101..=110 {
        for i in 1..=8 {
            let bytes = std::fs::read(dir.join(format!("{f}_{i}.iso"))).ok()?;
            out.push(m.prepare(&iso19794_2::read(&bytes).ok()?[0]));
        }
    }
    Some(out)
}

fn random(m: &Matcher, n: usize) -> Vec<PreparedTemplate> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1_u64 << 53) as f32
    };
    (0..n)
        .map(|_| {
            let src: Vec<_> = (0..40)
                .map(|_| (20.0 + 260.0 * next(), 20.0 + 360.0 * next(), 360.0 * next(), MinutiaKind::Ending, 60))
                .collect();
            m.prepare(&Template::from_source(&src, 500.0, 500.0).unwrap())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let m = Matcher::default();
    let (name, t) = match devset(&m) {
        Some(t) => ("devset", t),
        None => ("random", random(&m, 80)),
    };
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    for a in 0..t.len() {
        for b in (a + 1)..t.len() {
            if a / 8 == b / 8 {
                genuine.push((a, b));
            } else {
                impostor.push((a, b));
            }
        }
    }
    let mut g = c.benchmark_group("finger_match");
    for (kind, pairs) in [("genuine", &genuine), ("impostor", &impostor)] {
        g.throughput(Throughput::Elements(pairs.len() as u64));
        g.bench_function(format!("{name}_{kind}_{}", pairs.len()), |bch| {
            bch.iter(|| pairs.iter().map(|&(a, b)| m.compare(&t[a], &t[b])).sum::<f32>());
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
