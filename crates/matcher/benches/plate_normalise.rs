//! Throughput of plate normalisation over an Arrow-layout column (criterion), gated against an in-run peer.
//!
//! The group id is the gate name and the function ids carry the roles (benches/README.md): the subject is the
//! real normaliser; the peer is the simplest normaliser anyone would write for ASCII-only reads (upper case,
//! keep letters and digits) streamed into the same output column. Their ratio is the price of Unicode
//! correctness, and it survives a machine that is twice as slow today as yesterday.
#![allow(clippy::expect_used, clippy::unwrap_used)] // benchmark set-up, not input handling

use cgi_match_core::columns::{StrColumn, StrColumnBuilder};
use cgi_match_core::plate::normalise_plate_column;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn synthetic(n: usize) -> StrColumnBuilder {
    let mut b = StrColumnBuilder::with_capacity(n, n * 9);
    let letters = b"ABCDEFGHJKLMNPRSTVWXYZ";
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..n {
        let mut s = String::with_capacity(9);
        for k in 0..7 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if k == 3 {
                s.push('-');
            }
            if k < 3 {
                s.push(letters[(state % letters.len() as u64) as usize] as char);
            } else {
                s.push(char::from(b'0' + (state % 10) as u8));
            }
        }
        b.push(Some(&s));
    }
    b
}

/// The peer: ASCII-only normalisation streamed into the same output column, one pass over the bytes with no
/// per-row allocation: close to what the memory system allows for this output. A first version allocated a
/// `String` per row on the thread pool like the subject; its time moved by 2.7x between runs on the shared
/// machine (allocator and page-fault cost), which made it a poor yardstick (BENCHMARKS.md "Gate noise").
fn ascii_baseline(col: &StrColumn<'_>) -> StrColumnBuilder {
    let mut out = StrColumnBuilder::with_capacity(col.len(), col.len() * 8);
    let mut key = String::with_capacity(16);
    for i in 0..col.len() {
        key.clear();
        if let Some(Ok(text)) = col.get(i) {
            key.extend(text.bytes().filter(u8::is_ascii_alphanumeric).map(|b| char::from(b.to_ascii_uppercase())));
        }
        out.push((!key.is_empty()).then_some(key.as_str()));
    }
    out
}

fn bench(c: &mut Criterion) {
    let n = 200_000;
    let data = synthetic(n);
    let col = StrColumn::new(&data.offsets, &data.data, None).expect("valid column");
    let mut g = c.benchmark_group("plates.normalise_core");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("subject:column_200k", |b| b.iter(|| normalise_plate_column(&col, false)));
    g.bench_function("peer:ascii_baseline_200k", |b| b.iter(|| ascii_baseline(&col)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
