//! Plate index (criterion): build time for 1M alerts, and read throughput of the core for exact, default
//! (exact + ocr) and ocr + edit-1 matching, without the Python layer.
//!
//! Gate `plates.index_exact` (benches/README.md): exact matching of 200k reads by the index against the
//! peer a Rust user would otherwise write, a `std::collections::HashMap` from normalised alert key to alert
//! numbers, probed with each read's normalised key. Both sides normalise every read and return the same
//! (read, alert) pairs (asserted below); both run on the calling thread under the gate's
//! `RAYON_NUM_THREADS=1`.
#![allow(clippy::expect_used, clippy::unwrap_used)] // benchmark set-up, not input handling

use std::collections::HashMap;

use cgi_match_core::columns::{StrColumn, StrColumnBuilder};
use cgi_match_core::plate::{
    normalise_plate, AlertColumns, CountryPolicy, MatchOptions, OcrClasses, PlateIndex, ReadColumns,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64: deterministic, no dependency.
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick(&mut self, alphabet: &[u8]) -> char {
        char::from(alphabet[(self.next() % alphabet.len() as u64) as usize])
    }
}

/// French SIV (AA-123-AA) and Belgian (1-ABC-123) plates, half each.
fn plate(rng: &mut Rng) -> String {
    const L: &[u8] = b"ABCDEFGHJKLMNPQRSTVWXYZ";
    const D: &[u8] = b"0123456789";
    let mut s = String::with_capacity(10);
    if rng.next().is_multiple_of(2) {
        for t in "LL-DDD-LL".bytes() {
            s.push(match t {
                b'L' => rng.pick(L),
                b'D' => rng.pick(D),
                _ => '-',
            });
        }
    } else {
        for t in "D-LLL-DDD".bytes() {
            s.push(match t {
                b'L' => rng.pick(L),
                b'D' => rng.pick(D),
                _ => '-',
            });
        }
    }
    s
}

fn column(values: &[String]) -> StrColumnBuilder {
    let mut b = StrColumnBuilder::with_capacity(values.len(), values.len() * 10);
    for v in values {
        b.push(Some(v));
    }
    b
}

fn bench(c: &mut Criterion) {
    let n_alerts = 1_000_000;
    let n_reads = 200_000;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let alerts: Vec<String> = (0..n_alerts).map(|_| plate(&mut rng)).collect();
    let ids: Vec<String> = (0..n_alerts).map(|i| format!("A{i:09}")).collect();
    // Reads: one in ten is an alert with a look-alike swap, the rest unrelated plates.
    let reads: Vec<String> = (0..n_reads)
        .map(|i| if i % 10 == 0 { alerts[i * 3].replace('B', "8").replace('0', "O") } else { plate(&mut rng) })
        .collect();
    let (alert_text, read_text) = (alerts.clone(), reads.clone());
    let (ids, alerts, reads) = (column(&ids), column(&alerts), column(&reads));
    let cols = AlertColumns {
        alert_id: StrColumn::new(&ids.offsets, &ids.data, None).unwrap(),
        plate: StrColumn::new(&alerts.offsets, &alerts.data, None).unwrap(),
        country: None,
        valid_from: None,
        valid_to: None,
    };
    let mut g = c.benchmark_group("plate_index");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n_alerts as u64));
    g.bench_function("build_1M_alerts", |b| b.iter(|| PlateIndex::build(&cols, OcrClasses::default(), Vec::new())));
    let index = PlateIndex::build(&cols, OcrClasses::default(), Vec::new()).unwrap();
    index.prepare(1);
    let read_cols =
        ReadColumns { plate: StrColumn::new(&reads.offsets, &reads.data, None).unwrap(), country: None, seen_at: None };
    g.throughput(Throughput::Elements(n_reads as u64));
    for (name, ocr, edits) in [("exact", 0, 0), ("default_ocr2", 2, 0), ("ocr2_edit1", 2, 1)] {
        let opts = MatchOptions::new(ocr, edits, 5, 1, CountryPolicy::Lenient, 0).unwrap();
        g.bench_function(format!("match_200k_reads_{name}"), |b| {
            b.iter(|| index.match_reads(&read_cols, 0..n_reads, &opts).unwrap());
        });
    }
    g.finish();

    // Gate: exact matching, index vs a HashMap of normalised keys (built before timing, like the index).
    let exact = MatchOptions::new(0, 0, 5, 0, CountryPolicy::Lenient, 0).unwrap();
    let mut table: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, a) in alert_text.iter().enumerate() {
        if let Ok(key) = normalise_plate(a, false) {
            table.entry(key).or_default().push(u32::try_from(i).unwrap());
        }
    }
    let hashmap_join = || {
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        for (r, text) in read_text.iter().enumerate() {
            if let Some(found) = normalise_plate(text, false).ok().and_then(|k| table.get(&k)) {
                pairs.extend(found.iter().map(|&a| (r as u64, a)));
            }
        }
        pairs
    };
    let ours = index.match_reads(&read_cols, 0..n_reads, &exact).unwrap();
    let mut ours: Vec<(u64, u32)> =
        ours.hits.read.iter().zip(&ours.hits.alert).map(|(&r, &a)| (r, index.alert_row(a as usize).unwrap())).collect();
    let mut theirs = hashmap_join();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs, "the index and the HashMap peer must find the same exact pairs");
    let mut g = c.benchmark_group("plates.index_exact");
    g.throughput(Throughput::Elements(n_reads as u64));
    g.bench_function("subject:index_200k_reads", |b| b.iter(|| index.match_reads(&read_cols, 0..n_reads, &exact)));
    g.bench_function("peer:std_hashmap_200k_reads", |b| b.iter(hashmap_join));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
