//! 1:1 fingerprint comparisons per second on prepared templates (criterion, one thread).
//!
//! Uses the real development set (`../shared/data/fingerprints/fvc2002_db2_b`) when present: every genuine and
//! cross-finger pair, the FVC protocol's mix; otherwise synthetic impressions from the generator (10 fingers ×
//! 8). Also prints the memory of a prepared template on both sets.
//!
//! Gate `finger.compare_core` (benches/README.md): the same impostor pairs compared by the matcher (prepared
//! templates, as a gallery holds them) and by [`global_alignment_score`], the naive global-alignment matcher a
//! user would otherwise write (the "floor" of the dev set's ANCHORS.md, the algorithm of the numpy peer in
//! `benches/test_bench_fingerprints.py`, here in Rust so that the ratio compares algorithms, not languages).
#![allow(clippy::expect_used, clippy::unwrap_used)] // benchmark set-up, not input handling

use std::collections::HashMap;
use std::path::PathBuf;

use cgi_match_core::finger::synth::{dataset, protocol_pairs, ImpressionParams, SynthParams};
use cgi_match_core::finger::{iso19794_2, Matcher, Minutia, PreparedTemplate, Template};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn devset(m: &Matcher) -> Option<(Vec<Template>, Vec<PreparedTemplate>, f64)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fingerprints/fvc2002_db2_b");
    let mut raw = Vec::new();
    let mut out = Vec::new();
    let mut minutiae = 0;
    for f in 101..=110 {
        for i in 1..=8 {
            let bytes = std::fs::read(dir.join(format!("{f}_{i}.iso"))).ok()?;
            let template = iso19794_2::read(&bytes).ok()?.swap_remove(0);
            minutiae += template.minutiae.len();
            out.push(m.prepare(&template));
            raw.push(template);
        }
    }
    Some((raw, out, minutiae as f64 / 80.0))
}

/// Synthetic impressions from the generator (10 fingers × 8 impressions), the held-back set's settings.
fn synthetic() -> Vec<Template> {
    dataset(11, 10, 1, 8, &SynthParams::default(), &ImpressionParams::default())
        .into_iter()
        .map(|r| r.template)
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

/// Hough voting over rotation (10° bins) then translation (8 px bins), greedy pairing within 12 px and 25°,
/// score = paired² / (na · nb): the numpy peer of the pytest benchmarks, step for step.
fn global_alignment_score(a: &[Minutia], b: &[Minutia]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let deg = |m: &Minutia| m.angle.to_degrees();
    let mut bins = [0_u32; 36];
    for p in a {
        for q in b {
            bins[((deg(q) - deg(p)).rem_euclid(360.0) / 10.0) as usize % 36] += 1;
        }
    }
    let best = (0..36).fold(0, |best, i| if bins[i] > bins[best] { i } else { best });
    let rotation = (best * 10 + 5) as f32;
    let (sin, cos) = rotation.to_radians().sin_cos();
    let turned: Vec<(f32, f32, f32)> =
        a.iter().map(|p| (p.x * cos + p.y * sin, -p.x * sin + p.y * cos, (deg(p) + rotation) % 360.0)).collect();
    let close = |i: usize, q: &Minutia| ((deg(q) - turned[i].2 + 180.0).rem_euclid(360.0) - 180.0).abs() <= 25.0;
    let mut votes: HashMap<(i32, i32), u32> = HashMap::new();
    for (i, p) in turned.iter().enumerate() {
        for q in b.iter().filter(|q| close(i, q)) {
            *votes.entry((((q.x - p.0) / 8.0).floor() as i32, ((q.y - p.1) / 8.0).floor() as i32)).or_default() += 1;
        }
    }
    let Some((&(kx, ky), _)) = votes.iter().max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0))) else {
        return 0.0;
    };
    let (tx, ty) = ((kx * 8 + 4) as f32, (ky * 8 + 4) as f32);
    let dist = |i: usize, q: &Minutia| (q.x - turned[i].0 - tx).hypot(q.y - turned[i].1 - ty);
    let mut order: Vec<(f32, usize)> =
        (0..a.len()).map(|i| (b.iter().map(|q| dist(i, q)).fold(f32::INFINITY, f32::min), i)).collect();
    order.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut used = vec![false; b.len()];
    let mut paired = 0_u32;
    for (_, i) in order {
        let mut near: Vec<(f32, usize)> = b
            .iter()
            .enumerate()
            .filter(|(_, q)| close(i, q) && dist(i, q) <= 12.0)
            .map(|(j, q)| (dist(i, q), j))
            .collect();
        near.sort_by(|x, y| x.0.total_cmp(&y.0));
        if let Some(&(_, j)) = near.iter().find(|&&(_, j)| !used[j]) {
            used[j] = true;
            paired += 1;
        }
    }
    (paired * paired) as f32 / (a.len() * b.len()) as f32
}

fn bench(c: &mut Criterion) {
    let m = Matcher::default();
    let synth_raw = synthetic();
    let synth: Vec<PreparedTemplate> = synth_raw.iter().map(|r| m.prepare(r)).collect();
    let synth_minutiae = synth_raw.iter().map(|r| r.minutiae.len()).sum::<usize>() as f64 / 80.0;
    report_memory("synthetic", &synth, synth_minutiae);
    let (name, raw, t) = match devset(&m) {
        Some((raw, t, minutiae)) => {
            report_memory("devset", &t, minutiae);
            ("devset", raw, t)
        }
        None => ("synthetic", synth_raw, synth),
    };
    let (genuine, impostor) = protocol_pairs(t.len(), 8);
    let mut g = c.benchmark_group("finger_match");
    for (kind, pairs) in [("genuine", &genuine), ("impostor", &impostor)] {
        g.throughput(Throughput::Elements(pairs.len() as u64));
        g.bench_function(format!("{name}_{kind}_{}", pairs.len()), |bch| {
            bch.iter(|| pairs.iter().map(|&(a, b)| m.compare(&t[a], &t[b])).sum::<f32>());
        });
    }
    g.finish();

    let mut g = c.benchmark_group("finger.compare_core");
    g.throughput(Throughput::Elements(impostor.len() as u64));
    g.bench_function(format!("subject:mcc_{name}_impostor"), |bch| {
        bch.iter(|| impostor.iter().map(|&(a, b)| m.compare(&t[a], &t[b])).sum::<f32>());
    });
    g.bench_function(format!("peer:global_alignment_{name}_impostor"), |bch| {
        bch.iter(|| {
            impostor.iter().map(|&(a, b)| global_alignment_score(&raw[a].minutiae, &raw[b].minutiae)).sum::<f32>()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
