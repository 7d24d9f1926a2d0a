//! Fingerprint matching in `cgi_match._core`: `compare_fingerprints` (1:1) and the frozen `FingerprintGallery`
//! (1:N). Results cross as numpy columns; every comparison runs with the GIL released.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use cgi_match_core::columns::StrColumnBuilder;
use cgi_match_core::finger::{
    read_any, Gallery, GalleryHit, Prefilter, PreparedTemplate, SearchOptions, Template, TemplateFormat,
};
use cgi_match_core::MatchError;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use crate::columns::{into_numpy, StrArrays, StrBuffers};
use crate::error::IntoPyResult;
use crate::finger::{matcher, split_read_results, FileBatch, PyFingerprintTemplate};
use crate::gil;

/// Similarity of two templates in [0, 1] (MCC + LSS-R; see the README's threshold table).
#[pyfunction]
fn compare_fingerprints(
    py: Python<'_>,
    a: PyRef<'_, PyFingerprintTemplate>,
    b: PyRef<'_, PyFingerprintTemplate>,
) -> f32 {
    let (a, b): (&PyFingerprintTemplate, &PyFingerprintTemplate) = (&a, &b);
    gil::detach(py, || matcher().compare(a.prepared(), b.prepared()))
}

/// Scores of many pairs `(templates[left[i]], templates[right[i]])`, each template prepared once (and kept
/// in its object for later calls), pairs compared in parallel with the GIL released (the evaluation's genuine
/// and impostor sets).
#[pyfunction]
fn compare_fingerprint_pairs<'py>(
    py: Python<'py>,
    templates_: Vec<PyRef<'py, PyFingerprintTemplate>>,
    left: PyReadonlyArray1<'py, u32>,
    right: PyReadonlyArray1<'py, u32>,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let all: Vec<&PyFingerprintTemplate> = templates_.iter().map(|t| &**t).collect();
    let (left, right) = (left.as_slice()?, right.as_slice()?);
    if left.len() != right.len() {
        return Err(MatchError::invalid("left and right index arrays differ in length")).py();
    }
    if let Some(bad) = left.iter().chain(right).find(|&&i| i as usize >= all.len()) {
        return Err(MatchError::invalid(format!("index {bad} is past the {} templates", all.len()))).py();
    }
    let m = matcher();
    let prepared: Vec<&PreparedTemplate> = gil::detach(py, || all.par_iter().map(|t| t.prepared()).collect());
    let scores = gil::detach_chunked(py, left.len(), |range| {
        range.into_par_iter().map(|i| m.compare(prepared[left[i] as usize], prepared[right[i] as usize])).collect()
    })?;
    Ok(PyArray1::from_vec(py, scores))
}

/// Search results as columns: (probe index, subject id, finger, score, rank).
type HitColumns<'py> = (
    Bound<'py, PyArray1<u32>>,
    StrArrays<'py>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<u32>>,
);

/// A 1:N gallery of fingerprint templates; adding swaps in a new snapshot, searches run on the snapshot they
/// started with, so a search never sees a half-added batch.
#[pyclass(module = "cgi_match._core", name = "FingerprintGallery", frozen)]
pub struct PyFingerprintGallery {
    inner: RwLock<Arc<Gallery>>,
}

impl PyFingerprintGallery {
    fn snapshot(&self) -> PyResult<Arc<Gallery>> {
        self.inner
            .read()
            .map(|g| Arc::clone(&g))
            .map_err(|_| MatchError::invalid("the gallery was poisoned by an earlier failure"))
            .py()
    }

    fn options(
        top_k: usize,
        threshold: Option<f32>,
        exhaustive: bool,
        penetration: f32,
        min_candidates: usize,
        prefilter: &str,
    ) -> PyResult<SearchOptions> {
        let prefilter = match prefilter {
            "hashing" => Prefilter::Hashing,
            "scan" => Prefilter::CylinderScan { probe_cylinders: 32 },
            other => {
                return Err(MatchError::invalid(format!("prefilter must be 'hashing' or 'scan', not {other:?}"))).py()
            }
        };
        Ok(SearchOptions { top_k, threshold, exhaustive, penetration, min_candidates, prefilter })
    }
}

fn hit_columns<'py>(py: Python<'py>, gallery: &Gallery, results: &[Vec<GalleryHit>]) -> HitColumns<'py> {
    let rows: usize = results.iter().map(Vec::len).sum();
    let mut probe = Vec::with_capacity(rows);
    let mut subjects = StrColumnBuilder::with_capacity(rows, rows * 8);
    let (mut finger, mut score, mut rank) =
        (Vec::with_capacity(rows), Vec::with_capacity(rows), Vec::with_capacity(rows));
    for (p, hits) in results.iter().enumerate() {
        for h in hits {
            probe.push(p as u32);
            subjects.push(gallery.subject_name(h.subject));
            finger.push(h.finger);
            score.push(h.score);
            rank.push(h.rank);
        }
    }
    (
        PyArray1::from_vec(py, probe),
        into_numpy(py, subjects),
        PyArray1::from_vec(py, finger),
        PyArray1::from_vec(py, score),
        PyArray1::from_vec(py, rank),
    )
}

fn templates(list: &[PyRef<'_, PyFingerprintTemplate>]) -> Vec<Arc<Template>> {
    list.iter().map(|t| Arc::clone(t.template())).collect()
}

#[pymethods]
impl PyFingerprintGallery {
    #[new]
    fn new() -> Self {
        PyFingerprintGallery { inner: RwLock::new(Arc::new(Gallery::default())) }
    }

    /// Adds templates: subject ids as Arrow string buffers, one template and one finger code (0 = unknown,
    /// 1–10) per row. Preparation runs in parallel with the GIL released.
    fn _add_many<'py>(
        &self,
        py: Python<'py>,
        offsets: PyReadonlyArray1<'py, i64>,
        data: PyReadonlyArray1<'py, u8>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        templates_: Vec<PyRef<'py, PyFingerprintTemplate>>,
        fingers: PyReadonlyArray1<'py, u8>,
    ) -> PyResult<()> {
        let buffers = StrBuffers::new(offsets, data, valid);
        let column = buffers.column()?;
        let fingers = fingers.as_slice()?;
        if column.len() != templates_.len() || fingers.len() != templates_.len() {
            return Err(MatchError::invalid("subject ids, templates and fingers differ in length")).py();
        }
        let mut items = Vec::with_capacity(templates_.len());
        for (i, t) in templates(&templates_).into_iter().enumerate() {
            let subject = match column.get(i) {
                Some(Ok(s)) => s.to_owned(),
                Some(Err(_)) => return Err(MatchError::invalid(format!("subject id {i} is not UTF-8"))).py(),
                None => return Err(MatchError::invalid(format!("subject id {i} is missing"))).py(),
            };
            items.push((subject, fingers[i], Arc::unwrap_or_clone(t)));
        }
        let mut guard = self.inner.write().map_err(|_| MatchError::invalid("the gallery was poisoned")).py()?;
        let mut next = Gallery::clone(&guard);
        gil::detach(py, || next.add_many(items)).py()?;
        *guard = Arc::new(next);
        Ok(())
    }

    /// Searches one probe: columns (probe index, subject id, finger, score, rank).
    #[pyo3(signature = (probe, *, top_k = 10, threshold = None, exhaustive = true, penetration = 0.05, min_candidates = 256, prefilter = "scan"))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments of the Python method
    fn _search<'py>(
        &self,
        py: Python<'py>,
        probe: PyRef<'py, PyFingerprintTemplate>,
        top_k: usize,
        threshold: Option<f32>,
        exhaustive: bool,
        penetration: f32,
        min_candidates: usize,
        prefilter: &str,
    ) -> PyResult<HitColumns<'py>> {
        let g = self.snapshot()?;
        let probe = Arc::clone(probe.template());
        let options = Self::options(top_k, threshold, exhaustive, penetration, min_candidates, prefilter)?;
        let hits = gil::detach(py, || g.search(&probe, &options)).py()?;
        Ok(hit_columns(py, &g, &[hits]))
    }

    /// Searches many probes in parallel; the probe index column says which probe each row belongs to.
    #[pyo3(signature = (probes, *, top_k = 10, threshold = None, exhaustive = true, penetration = 0.05, min_candidates = 256, prefilter = "scan"))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments of the Python method
    fn _search_many<'py>(
        &self,
        py: Python<'py>,
        probes: Vec<PyRef<'py, PyFingerprintTemplate>>,
        top_k: usize,
        threshold: Option<f32>,
        exhaustive: bool,
        penetration: f32,
        min_candidates: usize,
        prefilter: &str,
    ) -> PyResult<HitColumns<'py>> {
        let g = self.snapshot()?;
        let probes: Vec<Template> = templates(&probes).into_iter().map(Arc::unwrap_or_clone).collect();
        let options = Self::options(top_k, threshold, exhaustive, penetration, min_candidates, prefilter)?;
        // Chunks of probes so Ctrl-C is honoured during a long batch.
        let mut results = Vec::with_capacity(probes.len());
        for chunk in probes.chunks(256) {
            results.extend(gil::detach(py, || g.search_many(chunk, &options)).py()?);
            py.check_signals()?;
        }
        Ok(hit_columns(py, &g, &results))
    }

    /// Number of templates.
    fn __len__(&self) -> PyResult<usize> {
        Ok(self.snapshot()?.len())
    }

    /// Number of distinct subjects.
    #[getter]
    fn subject_count(&self) -> PyResult<usize> {
        Ok(self.snapshot()?.subject_count())
    }

    /// The versioned, checksummed file content.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let g = self.snapshot()?;
        let bytes = gil::detach(py, || g.to_bytes());
        Ok(PyBytes::new(py, &bytes))
    }

    /// Reads what `to_bytes` wrote; raises `IndexFileError` on a corrupted or foreign file.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let g = gil::detach(py, || Gallery::from_bytes(data)).py()?;
        Ok(PyFingerprintGallery { inner: RwLock::new(Arc::new(g)) })
    }

    /// Writes the gallery file (atomically, through a temporary file).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let g = self.snapshot()?;
        gil::detach(py, || g.save(&path)).py()
    }

    /// Reads a gallery file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let g = gil::detach(py, || Gallery::load(&path)).py()?;
        Ok(PyFingerprintGallery { inner: RwLock::new(Arc::new(g)) })
    }

    /// Pickles through the gallery file format.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let restore = py.get_type::<PyFingerprintGallery>().getattr("from_bytes")?;
        Ok((restore, (slf.get().to_bytes(py)?,)))
    }
}

/// Largest template cell read from a table (the same bound as a template file).
const MAX_BLOB_BYTES: usize = 32 << 20;

/// Reads the templates held in a binary table column (Arrow `large_binary` buffers: offsets, bytes, validity),
/// format auto-detected per cell, in parallel with the GIL released. A null or unreadable cell becomes a reject
/// whose reason names the row, field and byte offset; buffers that are not a valid column are an error.
#[pyfunction]
#[pyo3(signature = (offsets, data, valid, *, xyt_resolution_ppi = 500.0))]
fn read_template_blobs(
    py: Python<'_>,
    offsets: PyReadonlyArray1<'_, i64>,
    data: PyReadonlyArray1<'_, u8>,
    valid: Option<PyReadonlyArray1<'_, bool>>,
    xyt_resolution_ppi: f32,
) -> PyResult<FileBatch> {
    let (offsets, data) = (offsets.as_slice()?, data.as_slice()?);
    let valid = valid.as_ref().map(PyReadonlyArray1::as_slice).transpose()?;
    let rows = offsets.len().saturating_sub(1);
    let bad = |m: &str| Err(MatchError::invalid(format!("template column: {m}"))).py();
    if offsets.is_empty() || offsets[0] < 0 || offsets.windows(2).any(|w| w[1] < w[0]) {
        return bad("offsets must start at 0 or more and never decrease");
    }
    if usize::try_from(offsets[rows]).map_or(true, |end| end > data.len()) {
        return bad("offsets point past the data buffer");
    }
    if valid.is_some_and(|v| v.len() != rows) {
        return bad("validity and offsets disagree in length");
    }
    let read_row = |i: usize| -> Result<(TemplateFormat, Vec<Template>), String> {
        if valid.is_some_and(|v| !v[i]) {
            return Err(format!("row {i}: template is missing (null)"));
        }
        // In range: offsets were checked non-negative, non-decreasing and within the data above.
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        if end - start > MAX_BLOB_BYTES {
            return Err(format!("row {i}: {} bytes, larger than any template ({MAX_BLOB_BYTES})", end - start));
        }
        read_any(&data[start..end], xyt_resolution_ppi).map_err(|e| match e {
            // A format error names its input: here the row.
            MatchError::Format(_) => e.with_input(&format!("row {i}")).to_string(),
            other => format!("row {i}: {other}"),
        })
    };
    let results = gil::detach_chunked(py, rows, |range| range.into_par_iter().map(read_row).collect::<Vec<_>>())?;
    Ok(split_read_results(results))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_template_blobs, m)?)?;
    m.add_function(wrap_pyfunction!(compare_fingerprints, m)?)?;
    m.add_function(wrap_pyfunction!(compare_fingerprint_pairs, m)?)?;
    m.add_class::<PyFingerprintGallery>()?;
    Ok(())
}
