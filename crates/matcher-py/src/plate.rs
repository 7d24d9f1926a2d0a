//! Plate functions of `cgi_match._core`.

use cgi_match_core::plate::{normalise_plate, normalise_plate_column, PlateReject};
use cgi_match_core::MatchError;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::columns::{into_numpy, StrArrays, StrBuffers};
use crate::error::IntoPyResult;
use crate::gil;

/// One plate to its matching key; raises `InvalidInputError` with the reason when it is not a plate.
#[pyfunction]
#[pyo3(signature = (text, *, keep_wildcards = false))]
fn normalize_plate(text: &str, keep_wildcards: bool) -> PyResult<String> {
    normalise_plate(text, keep_wildcards).map_err(|why| MatchError::invalid(why.reason())).py()
}

/// A whole Arrow string column to keys plus a reject code per row (0 = kept), GIL released.
#[pyfunction]
#[pyo3(signature = (offsets, data, valid, *, keep_wildcards = false))]
fn normalize_plate_column<'py>(
    py: Python<'py>,
    offsets: PyReadonlyArray1<'py, i64>,
    data: PyReadonlyArray1<'py, u8>,
    valid: Option<PyReadonlyArray1<'py, bool>>,
    keep_wildcards: bool,
) -> PyResult<(StrArrays<'py>, Bound<'py, PyArray1<u8>>)> {
    let buffers = StrBuffers::new(offsets, data, valid);
    let column = buffers.column()?;
    let out = gil::detach(py, || normalise_plate_column(&column, keep_wildcards));
    Ok((into_numpy(py, out.keys), PyArray1::from_vec(py, out.reject)))
}

/// Reject code → the sentence written to `rejects.parquet`.
#[pyfunction]
fn plate_reject_reasons() -> Vec<(u8, &'static str)> {
    PlateReject::ALL.iter().map(|r| (r.code(), r.reason())).collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(normalize_plate, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_plate_column, m)?)?;
    m.add_function(wrap_pyfunction!(plate_reject_reasons, m)?)?;
    Ok(())
}
