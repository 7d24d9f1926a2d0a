//! 1:1 fingerprint comparisons per second on prepared templates (criterion, one thread).
//!
//! Uses the real development set (`../shared/data/fingerprints/fvc2002_db2_b`) when present: every genuine and
//! cross-finger pair, the FVC protocol's mix; otherwise synthetic impressions from the generator (10 fingers ×
//! 8). Also prints the memory of a prepared template on both sets.
#![allow(clippy::expect_used, clippy::unwrap_used)] // benchmark set-up, not input handling

use std::path::PathBuf;

use cgi_match_core::finger::synth::{dataset, ImpressionParams, SynthParams};
use cgi_match_core::finger::{iso19794_2, Matcher, PreparedTemplate};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn devset(m: &Matcher) -> Option<(Vec<PreparedTemplate>, f64)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fingerprints/fvc2002_db2_b");
    let mut out = Vec::new();
    let mut minutiae = 0;
    for f in 101..=110 {
        for i in 1..=8 {
            let bytes = std::fs::read(dir.join(format!("{f}_{i}.iso"))).ok()?;
            let template = iso19794_2::read(&bytes).ok()?.swap_remove(0);
            minutiae += template.minutiae.len();
            out.push(m.prepare(&template));
        }
    }
    Some((out, minutiae as f64 / 80.0))
}

/// Synthetic impressions from the generator (10 fingers × 8 impressions), the held-back set's settings.
fn synthetic(m: &Matcher) -> Vec<PreparedTemplate> {
    dataset(11, 10, 1, 8, &SynthParams::default(), &ImpressionParams::default())
        .iter()
        .map(|r| m.prepare(&r.template))
        .collect()
}

/// Prints the memory a prepared template takes (mean bytes, mean minutiae and kept cylinders per template).
fn report_memory(name: &str, t: &[PreparedTemplate], minutiae: f64) {
    let n = t.len().max(1) as f64;
    let bytes = t.iter().map(PreparedTemplate::memory_bytes).sum::<usize>() as f64 / n;
    let cylinders = t.iter().map(PreparedTemplate::len).sum::<usize>() as f64 / n;
    eprintln!(
        "{name}: prepared template {bytes:.0} bytes on average ({minutiae:.1} minutiae, {cylinders:.1} cylinders)"
    );
}

fn bench(c: &mut Criterion) {
    let m = Matcher::default();
    let synth = synthetic(&m);
    let synth_minutiae = dataset(11, 10, 1, 8, &SynthParams::default(), &ImpressionParams::default())
        .iter()
        .map(|r| r.template.minutiae.len())
        .sum::<usize>() as f64
        / 80.0;
    report_memory("synthetic", &synth, synth_minutiae);
    let (name, t) = match devset(&m) {
        Some((t, minutiae)) => {
            report_memory("devset", &t, minutiae);
            ("devset", t)
        }
        None => ("synthetic", synth),
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
