//! Throughput of plate normalisation over an Arrow-layout column (criterion).
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

fn bench(c: &mut Criterion) {
    let n = 200_000;
    let data = synthetic(n);
    let col = StrColumn::new(&data.offsets, &data.data, None).expect("valid column");
    let mut g = c.benchmark_group("plate_normalise");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("column_200k", |b| b.iter(|| normalise_plate_column(&col, false)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
