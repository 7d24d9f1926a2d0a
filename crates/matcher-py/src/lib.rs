//! Thin PyO3 binding of `cgi-match-core`, built as `cgi_match._core`: converts inputs, calls the core with
//! the GIL released and converts results. No matching logic lives here.

use pyo3::prelude::*;

pub mod columns;
mod dna;
pub mod error;
pub mod finger;
mod finger_match;
pub mod gil;
mod plate;

/// The extension module; its public names are listed in `python/cgi_match/_core.pyi`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", cgi_match_core::VERSION)?;
    plate::register(m)?;
    dna::register(m)?;
    finger::register(m)?;
    finger_match::register(m)?;
    Ok(())
}
