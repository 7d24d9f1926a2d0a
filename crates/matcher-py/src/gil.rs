//! Whenever a block of the public API may run long, wrap it in these helpers: they release the GIL so other
//! Python threads run, and let Ctrl-C through between chunks. Extract every input from Python objects
//! *before* calling them; the closures see only plain Rust data.

use std::ops::Range;

use pyo3::prelude::*;

/// Rows handed to the core per GIL release in [`detach_chunked`]; large enough to amortise the
/// release/re-acquire and the rayon fan-out, small enough for Ctrl-C to answer within a fraction of a second.
pub const CHUNK_ROWS: usize = 1 << 18;

/// Runs `work` over `0..rows` in chunks of [`CHUNK_ROWS`] with the GIL released, checking for signals
/// (Ctrl-C) between chunks, and concatenates the chunk results in order.
pub fn detach_chunked<T, F>(py: Python<'_>, rows: usize, work: F) -> PyResult<Vec<T>>
where
    T: Send,
    F: Fn(Range<usize>) -> Vec<T> + Sync,
{
    let mut out = Vec::with_capacity(rows);
    let mut start = 0;
    while start < rows {
        let end = rows.min(start.saturating_add(CHUNK_ROWS));
        let part = py.detach(|| work(start..end));
        out.extend(part);
        py.check_signals()?;
        start = end;
    }
    Ok(out)
}

/// Runs one indivisible piece of core work with the GIL released.
pub fn detach<T, F>(py: Python<'_>, work: F) -> T
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    py.detach(work)
}
