//! Throughput of plate normalisation over an Arrow-layout column (criterion), gated against an in-run peer.
//!
//! The group id is the gate name and the function ids carry the roles (benches/README.md): the subject is the
//! real normaliser; the peer is the simplest normaliser anyone would write for ASCII-only reads (upper case,
//! keep letters and digits) with the same parallel shape and output column. Their ratio is the price of
//! Unicode correctness, and it survives a machine that is twice as slow today as yesterday.
#![allow(clippy::expect_used, clippy::unwrap_used)] // benchmark set-up, not input handling

use cgi_match_core::columns::{StrColumn, StrColumnBuilder};
use cgi_match_core::plate::normalise_plate_column;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;

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

/// The peer: ASCII-only normalisation into the same output column, parallel in the same way.
fn ascii_baseline(col: &StrColumn<'_>) -> StrColumnBuilder {
    let keys: Vec<Option<String>> = (0..col.len())
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| match col.get(i) {
            Some(Ok(text)) => {
                let key: String = text
                    .bytes()
                    .filter(u8::is_ascii_alphanumeric)
                    .map(|b| char::from(b.to_ascii_uppercase()))
                    .collect();
                (!key.is_empty()).then_some(key)
            }
            _ => None,
        })
        .collect();
    let mut out = StrColumnBuilder::with_capacity(keys.len(), keys.len() * 8);
    for k in &keys {
        out.push(k.as_deref());
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
