//! numpy buffers → borrowed core columns. Strings arrive as the three Arrow buffers (int64 offsets,
//! UTF-8 bytes, bool validity) prepared by `cgi_match/_columns.py`, never as a list of `str`.

use cgi_match_core::columns::{StrColumn, StrColumnBuilder};
use cgi_match_core::MatchError;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::error::IntoPyResult;

/// Borrowed numpy views of one Arrow string column, as received from Python.
pub struct StrBuffers<'py> {
    offsets: PyReadonlyArray1<'py, i64>,
    data: PyReadonlyArray1<'py, u8>,
    valid: Option<PyReadonlyArray1<'py, bool>>,
}

impl<'py> StrBuffers<'py> {
    /// Keeps the readonly borrows alive while the column is in use.
    pub fn new(
        offsets: PyReadonlyArray1<'py, i64>,
        data: PyReadonlyArray1<'py, u8>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
    ) -> Self {
        StrBuffers { offsets, data, valid }
    }

    /// The checked core view; fails with `InvalidInputError` on non-contiguous or inconsistent buffers.
    pub fn column(&self) -> PyResult<StrColumn<'_>> {
        let offsets = self.offsets.as_slice().map_err(|_| MatchError::invalid("offsets must be contiguous")).py()?;
        let data = self.data.as_slice().map_err(|_| MatchError::invalid("string data must be contiguous")).py()?;
        let valid = match &self.valid {
            Some(v) => Some(v.as_slice().map_err(|_| MatchError::invalid("validity must be contiguous")).py()?),
            None => None,
        };
        StrColumn::new(offsets, data, valid).py()
    }
}

/// The numpy arrays `(offsets, data, valid)` of an owned column, for `_columns.str_array` to wrap.
pub type StrArrays<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<u8>>, Bound<'py, PyArray1<bool>>);

/// Hands an owned column to Python as numpy arrays without copying the vectors again.
pub fn into_numpy(py: Python<'_>, col: StrColumnBuilder) -> StrArrays<'_> {
    (PyArray1::from_vec(py, col.offsets), PyArray1::from_vec(py, col.data), PyArray1::from_vec(py, col.valid))
}
