//! Plate functions and the `PlateIndex` class of `cgi_match._core`.

use std::sync::Arc;

use cgi_match_core::plate::{
    normalise_plate, normalise_plate_column, AlertColumns, CountryPolicy, MatchKind, MatchOptions, MatchOutput,
    OcrClasses, PlateIndex, PlateReject, ReadColumns, TimeColumn, DEFAULT_OCR_CLASSES,
};
use cgi_match_core::MatchError;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple, PyType};

use crate::columns::{into_numpy, StrArg, StrArrays, StrBuffers, StrSlices};
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

/// Match kind code → the name on the hit.
#[pyfunction]
fn plate_match_kinds() -> Vec<(u8, &'static str)> {
    MatchKind::ALL.iter().map(|k| (*k as u8, k.name())).collect()
}

/// The default OCR-equivalence classes.
#[pyfunction]
fn default_ocr_classes() -> Vec<&'static str> {
    DEFAULT_OCR_CLASSES.to_vec()
}

/// A string column as the three numpy buffers `(offsets, data, valid)`.
type StrArgs<'py> = (PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, u8>, Option<PyReadonlyArray1<'py, bool>>);
/// A timestamp column (epoch µs) as `(values, valid)`.
type TimeArgs<'py> = (PyReadonlyArray1<'py, i64>, Option<PyReadonlyArray1<'py, bool>>);

fn str_buffers(args: StrArgs<'_>) -> StrBuffers<'_> {
    StrBuffers::new(args.0, args.1, args.2)
}

/// Borrowed numpy views of a timestamp column.
struct TimeBuffers<'py> {
    values: PyReadonlyArray1<'py, i64>,
    valid: Option<PyReadonlyArray1<'py, bool>>,
}

impl TimeBuffers<'_> {
    fn column(&self) -> PyResult<TimeColumn<'_>> {
        let values = self.values.as_slice().map_err(|_| MatchError::invalid("timestamps must be contiguous")).py()?;
        let valid = match &self.valid {
            Some(v) => Some(v.as_slice().map_err(|_| MatchError::invalid("validity must be contiguous")).py()?),
            None => None,
        };
        TimeColumn::new(values, valid).py()
    }
}

fn time_buffers(args: Option<TimeArgs<'_>>) -> Option<TimeBuffers<'_>> {
    args.map(|(values, valid)| TimeBuffers { values, valid })
}

/// Hits as numpy columns `(read, alert, kind, distance, score)` plus the reject code of every read.
type HitArrays<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<u8>>,
);

/// Immutable index of plate alerts, shared by `Arc`; pickles through the versioned index file format.
#[pyclass(module = "cgi_match._core", name = "PlateIndex", frozen)]
pub struct PyPlateIndex {
    inner: Arc<PlateIndex>,
    /// Crate version that wrote the file this index was loaded from (this build's version if built here).
    writer: String,
}

#[pymethods]
impl PyPlateIndex {
    /// Builds the index from Arrow buffers of the alert columns, with the GIL released.
    #[new]
    #[pyo3(signature = (alert_id, plate, country = None, valid_from = None, valid_to = None, *, ocr_classes = None))]
    fn new(
        py: Python<'_>,
        alert_id: StrArgs<'_>,
        plate: StrArgs<'_>,
        country: Option<StrArgs<'_>>,
        valid_from: Option<TimeArgs<'_>>,
        valid_to: Option<TimeArgs<'_>>,
        ocr_classes: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let classes = match ocr_classes {
            Some(c) => OcrClasses::new(&c).py()?,
            None => OcrClasses::default(),
        };
        let (ids, plates) = (str_buffers(alert_id), str_buffers(plate));
        let countries = country.map(str_buffers);
        let (from, to) = (time_buffers(valid_from), time_buffers(valid_to));
        let cols = AlertColumns {
            alert_id: ids.column()?,
            plate: plates.column()?,
            country: countries.as_ref().map(StrBuffers::column).transpose()?,
            valid_from: from.as_ref().map(TimeBuffers::column).transpose()?,
            valid_to: to.as_ref().map(TimeBuffers::column).transpose()?,
        };
        let index = gil::detach(py, || PlateIndex::build(&cols, classes, Vec::new())).py()?;
        Ok(PyPlateIndex { inner: Arc::new(index), writer: cgi_match_core::VERSION.to_owned() })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Matches reads given as Arrow buffers; returns hit columns and one reject code per read (0 = kept).
    /// Runs in chunks with the GIL released, answering Ctrl-C between chunks.
    #[pyo3(signature = (plate, country = None, seen_at = None, *, max_ocr = 2, max_edits = 0,
                        min_fuzzy_length = 5, max_ocr_short = 1, country_policy = "lenient", at = 0))]
    #[allow(clippy::too_many_arguments)]
    fn match_reads<'py>(
        &self,
        py: Python<'py>,
        plate: StrArg<'py>,
        country: Option<StrArg<'py>>,
        seen_at: Option<TimeArgs<'py>>,
        max_ocr: u32,
        max_edits: u32,
        min_fuzzy_length: usize,
        max_ocr_short: u32,
        country_policy: &str,
        at: i64,
    ) -> PyResult<HitArrays<'py>> {
        let policy = CountryPolicy::parse(country_policy).py()?;
        let opts = MatchOptions::new(max_ocr, max_edits, min_fuzzy_length, max_ocr_short, policy, at).py()?;
        let plates = plate.slices()?;
        let countries = country.as_ref().map(StrArg::slices).transpose()?;
        let seen = time_buffers(seen_at);
        let reads = ReadColumns {
            plate: plates.column()?,
            country: countries.as_ref().map(StrSlices::column).transpose()?,
            seen_at: seen.as_ref().map(TimeBuffers::column).transpose()?,
        };
        let rows = reads.rows().py()?;
        let index = &self.inner;
        // Build the edit table (if needed) before the first chunk so Ctrl-C granularity stays even.
        gil::detach(py, || index.prepare(opts.max_edits));
        let mut out = MatchOutput::default();
        let mut start = 0;
        while start < rows {
            let end = rows.min(start.saturating_add(gil::CHUNK_ROWS * 4));
            let part = gil::detach(py, || index.match_reads(&reads, start..end, &opts)).py()?;
            out.append(part);
            py.check_signals()?;
            start = end;
        }
        let h = out.hits;
        Ok((
            PyArray1::from_vec(py, h.read),
            PyArray1::from_vec(py, h.alert),
            PyArray1::from_vec(py, h.kind),
            PyArray1::from_vec(py, h.distance),
            PyArray1::from_vec(py, h.score),
            PyArray1::from_vec(py, out.reject),
        ))
    }

    /// Input row of every alert, in dense (alert id) order: hit `alert` numbers index this array.
    fn alert_rows<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        PyArray1::from_slice(py, self.inner.alert_rows())
    }

    /// Refused alert rows and their reject codes, in row order.
    fn rejects<'py>(&self, py: Python<'py>) -> (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<u8>>) {
        let (rows, codes): (Vec<u32>, Vec<u8>) = self.inner.rejects().iter().copied().unzip();
        (PyArray1::from_vec(py, rows), PyArray1::from_vec(py, codes))
    }

    /// Rows of the alert table the index was built from (kept + rejected).
    #[getter]
    fn source_rows(&self) -> u64 {
        self.inner.source_rows()
    }

    /// Number of wildcard alerts.
    #[getter]
    fn pattern_count(&self) -> usize {
        self.inner.pattern_count()
    }

    /// Heap bytes held by the index (candidate tables built so far included).
    #[getter]
    fn nbytes(&self) -> usize {
        self.inner.heap_bytes()
    }

    /// The OCR-equivalence classes the index folds with.
    #[getter]
    fn ocr_classes(&self) -> Vec<String> {
        self.inner.classes().classes().to_vec()
    }

    /// Crate version that wrote the index (this build's when built in this process).
    #[getter]
    fn writer_version(&self) -> &str {
        &self.writer
    }

    /// Builds the edit-candidate table for `max_edits` now (otherwise the first matching call does).
    fn prepare(&self, py: Python<'_>, max_edits: u32) {
        let index = &self.inner;
        gil::detach(py, || index.prepare(max_edits));
    }

    /// The index in its versioned binary format, with `attachment` stored in it (e.g. pass-through columns).
    #[pyo3(signature = (attachment = None))]
    fn to_bytes<'py>(&self, py: Python<'py>, attachment: Option<&[u8]>) -> Bound<'py, PyBytes> {
        let index = &self.inner;
        let bytes = gil::detach(py, || match attachment {
            Some(a) => index.to_bytes_with_attachment(a),
            None => index.to_bytes(),
        });
        PyBytes::new(py, &bytes)
    }

    /// Reads an index written by `to_bytes`; raises `IndexFileError` on a corrupted or foreign file.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let (index, writer) = gil::detach(py, || PlateIndex::from_bytes(data)).py()?;
        Ok(PyPlateIndex { inner: Arc::new(index), writer })
    }

    /// The attachment stored in the file this index was loaded from (empty when built here).
    fn attachment<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.attachment())
    }

    /// Pickles through the index file format.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let bytes = slf.get().to_bytes(py, None);
        let cls: Bound<'py, PyType> = slf.get_type();
        let ctor = cls.getattr("from_bytes")?;
        PyTuple::new(py, [ctor, PyTuple::new(py, [bytes])?.into_any()])
    }

    fn __repr__(&self) -> String {
        format!(
            "PlateIndex(alerts={}, rejected={}, wildcard={}, ocr_classes={})",
            self.inner.len(),
            self.inner.rejects().len(),
            self.inner.pattern_count(),
            self.inner.classes().classes().len()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(normalize_plate, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_plate_column, m)?)?;
    m.add_function(wrap_pyfunction!(plate_reject_reasons, m)?)?;
    m.add_function(wrap_pyfunction!(plate_match_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(default_ocr_classes, m)?)?;
    m.add_class::<PyPlateIndex>()?;
    Ok(())
}
