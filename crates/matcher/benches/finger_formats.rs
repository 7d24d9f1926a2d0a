//! Template parsing and writing throughput (records per second) on synthetic templates, and the synthetic
//! generator's rate (criterion). Records hold one finger view of ~35 minutiae, like plain impressions.
#![allow(clippy::expect_used, clippy::unwrap_used)] // benchmark set-up, not input handling

use cgi_match_core::finger::synth::{dataset, ImpressionParams, SynthParams};
use cgi_match_core::finger::{ansi378, iso19794_2, read_any, xyt, Template};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn templates(n: u32) -> Vec<Template> {
    dataset(7, n, 1, 1, &SynthParams::default(), &ImpressionParams::default()).into_iter().map(|r| r.template).collect()
}

fn bench(c: &mut Criterion) {
    let n = 10_000_u32;
    let ts = templates(n);
    let iso: Vec<Vec<u8>> = ts.iter().map(|t| iso19794_2::write(std::slice::from_ref(t)).unwrap()).collect();
    let ansi: Vec<Vec<u8>> = ts.iter().map(|t| ansi378::write(std::slice::from_ref(t)).unwrap()).collect();
    let text: Vec<String> = ts.iter().map(xyt::write).collect();

    let mut g = c.benchmark_group("finger_formats");
    g.throughput(Throughput::Elements(u64::from(n)));
    g.bench_function("iso19794_2_read_10k", |b| {
        b.iter(|| iso.iter().map(|r| iso19794_2::read(r).unwrap().len()).sum::<usize>());
    });
    g.bench_function("ansi378_read_10k", |b| {
        b.iter(|| ansi.iter().map(|r| ansi378::read(r).unwrap().len()).sum::<usize>());
    });
    g.bench_function("xyt_read_10k", |b| {
        b.iter(|| text.iter().map(|r| xyt::read(r, 500.0, None).unwrap().minutiae.len()).sum::<usize>());
    });
    g.bench_function("detect_and_read_iso_10k", |b| {
        b.iter(|| iso.iter().map(|r| read_any(r, 500.0).unwrap().1.len()).sum::<usize>());
    });
    g.bench_function("iso19794_2_write_10k", |b| {
        b.iter(|| ts.iter().map(|t| iso19794_2::write(std::slice::from_ref(t)).unwrap().len()).sum::<usize>());
    });
    g.finish();

    let mut s = c.benchmark_group("finger_synth");
    s.sample_size(10);
    s.throughput(Throughput::Elements(100_000));
    s.bench_function("dataset_100k_templates", |b| {
        b.iter(|| dataset(1, 12_500, 1, 8, &SynthParams::default(), &ImpressionParams::default()).len());
    });
    s.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
