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

/// A string column as Python passes it to the hot matching calls: the three `large_string` buffers
/// `(offsets, data, valid)`, or the `string_view` buffers `(views, [data buffers], valid)` that polars holds
/// natively (no conversion of the column on the Python side; `_columns.str_view_buffers`).
#[derive(FromPyObject)]
pub enum StrArg<'py> {
    /// `(int64 offsets, uint8 data, bool validity or None)`.
    Offsets(PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, u8>, Option<PyReadonlyArray1<'py, bool>>),
    /// `(uint8 views, 16 bytes per row; list of uint8 data buffers; bool validity or None)`.
    Views(PyReadonlyArray1<'py, u8>, Vec<PyReadonlyArray1<'py, u8>>, Option<PyReadonlyArray1<'py, bool>>),
}

/// The contiguous slices of a [`StrArg`], borrowed for as long as the argument lives.
pub struct StrSlices<'a> {
    first: &'a [u8],
    offsets: Option<&'a [i64]>,
    buffers: Vec<&'a [u8]>,
    valid: Option<&'a [bool]>,
}

impl StrArg<'_> {
    /// Borrows the buffers as slices; fails with `InvalidInputError` on non-contiguous arrays.
    pub fn slices(&self) -> PyResult<StrSlices<'_>> {
        fn contiguous<'b, T: numpy::Element>(a: &'b PyReadonlyArray1<'_, T>, what: &str) -> PyResult<&'b [T]> {
            a.as_slice().map_err(|_| MatchError::invalid(format!("{what} must be contiguous"))).py()
        }
        fn valid<'b>(v: Option<&'b PyReadonlyArray1<'_, bool>>) -> PyResult<Option<&'b [bool]>> {
            v.map(|v| contiguous(v, "validity")).transpose()
        }
        match self {
            StrArg::Offsets(offsets, data, v) => Ok(StrSlices {
                first: contiguous(data, "string data")?,
                offsets: Some(contiguous(offsets, "offsets")?),
                buffers: Vec::new(),
                valid: valid(v.as_ref())?,
            }),
            StrArg::Views(views, buffers, v) => Ok(StrSlices {
                first: contiguous(views, "string views")?,
                offsets: None,
                buffers: buffers.iter().map(|b| contiguous(b, "string data buffers")).collect::<PyResult<_>>()?,
                valid: valid(v.as_ref())?,
            }),
        }
    }
}

impl StrSlices<'_> {
    /// The checked core view; fails with `InvalidInputError` on inconsistent buffers.
    pub fn column(&self) -> PyResult<StrColumn<'_>> {
        match self.offsets {
            Some(offsets) => StrColumn::new(offsets, self.first, self.valid),
            None => StrColumn::from_views(self.first, &self.buffers, self.valid),
        }
        .py()
    }
}

/// The numpy arrays `(offsets, data, valid)` of an owned column, for `_columns.str_array` to wrap.
pub type StrArrays<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<u8>>, Bound<'py, PyArray1<bool>>);

/// Hands an owned column to Python as numpy arrays without copying the vectors again.
pub fn into_numpy(py: Python<'_>, col: StrColumnBuilder) -> StrArrays<'_> {
    (PyArray1::from_vec(py, col.offsets), PyArray1::from_vec(py, col.data), PyArray1::from_vec(py, col.valid))
}
