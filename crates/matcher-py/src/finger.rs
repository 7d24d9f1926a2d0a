//! Fingerprint templates and the synthetic generator in `cgi_match._core`: the frozen `FingerprintTemplate`
//! class (an `Arc<Template>` the matcher and gallery share without copying), batch reading of template files
//! and synthetic data sets as numpy columns.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use cgi_match_core::finger::synth::{dataset, ImpressionParams, SynthParams, SynthRecord};
use cgi_match_core::finger::{
    ansi378, iso19794_2, read_any, xyt, FingerPosition, Matcher, MinutiaKind, PreparedTemplate, Template,
    TemplateFormat, MAX_MINUTIAE,
};
use cgi_match_core::{MatchError, MatchResult};
use numpy::ndarray::Array2;
use numpy::{PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rayon::prelude::*;

use crate::error::IntoPyResult;
use crate::gil;

/// Largest template file read: 255 ISO views with full extended data stay below 17 MiB.
const MAX_FILE_BYTES: u64 = 32 << 20;

/// One finger view's minutiae template, immutable and shared (`Arc`) with matchers and galleries.
#[pyclass(module = "cgi_match._core", name = "FingerprintTemplate", frozen)]
pub struct PyFingerprintTemplate {
    inner: Arc<Template>,
    /// The cylinders for [`matcher`], computed by the first comparison and kept (about 4.6 kB), so comparing
    /// the same object again costs only the comparison.
    prepared: OnceLock<PreparedTemplate>,
}

/// The default matcher, built once per process (its tables are a few kB).
pub fn matcher() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(Matcher::default)
}

impl PyFingerprintTemplate {
    /// Wraps a core template.
    pub fn new(template: Template) -> Self {
        Self::from_arc(Arc::new(template))
    }

    /// Wraps an already shared core template.
    pub fn from_arc(template: Arc<Template>) -> Self {
        PyFingerprintTemplate { inner: template, prepared: OnceLock::new() }
    }

    /// The core template, for `compare(a, b)` and the gallery.
    pub fn template(&self) -> &Arc<Template> {
        &self.inner
    }

    /// The template prepared for [`matcher`], on first use (call it with the GIL released: it takes ~0.3 ms).
    pub fn prepared(&self) -> &PreparedTemplate {
        self.prepared.get_or_init(|| matcher().prepare(&self.inner))
    }
}

fn pick_view(mut views: Vec<Template>, view: usize) -> PyResult<PyFingerprintTemplate> {
    let n = views.len();
    if view >= n {
        return Err(MatchError::invalid(format!("view {view} asked for; the record holds {n} finger view(s)"))).py();
    }
    Ok(PyFingerprintTemplate::new(views.swap_remove(view)))
}

#[pymethods]
impl PyFingerprintTemplate {
    /// Reads ISO 19794-2, ANSI 378 or `.xyt` bytes, telling them apart by structure.
    #[staticmethod]
    #[pyo3(signature = (data, *, view = 0, xyt_resolution_ppi = 500.0))]
    fn from_bytes(data: &[u8], view: usize, xyt_resolution_ppi: f32) -> PyResult<Self> {
        pick_view(read_any(data, xyt_resolution_ppi).py()?.1, view)
    }

    /// Reads one finger view of an ISO/IEC 19794-2:2005 record.
    #[staticmethod]
    #[pyo3(signature = (data, *, view = 0))]
    fn from_iso19794_2(data: &[u8], view: usize) -> PyResult<Self> {
        pick_view(iso19794_2::read(data).py()?, view)
    }

    /// Reads one finger view of an ANSI INCITS 378-2004 record.
    #[staticmethod]
    #[pyo3(signature = (data, *, view = 0))]
    fn from_ansi378(data: &[u8], view: usize) -> PyResult<Self> {
        pick_view(ansi378::read(data).py()?, view)
    }

    /// Reads NIST `.xyt` text (origin bottom-left, theta pointing away from the ridge) at `resolution_ppi`.
    #[staticmethod]
    #[pyo3(signature = (text, resolution_ppi = 500.0, *, image_height = None))]
    fn from_xyt(text: &str, resolution_ppi: f32, image_height: Option<u16>) -> PyResult<Self> {
        Ok(PyFingerprintTemplate::new(xyt::read(text, resolution_ppi, image_height).py()?))
    }

    /// Builds a template from an (n, 3), (n, 4) or (n, 5) float64 array: x, y (source pixels, top-left
    /// origin), angle (degrees, counter-clockwise, ISO convention), type (0 other, 1 ending, 2 bifurcation),
    /// quality (0–100).
    #[staticmethod]
    #[pyo3(signature = (array, resolution_ppi = 500.0, *, finger_position = 0, width = None, height = None))]
    fn from_minutiae(
        array: &Bound<'_, PyAny>,
        resolution_ppi: f32,
        finger_position: u8,
        width: Option<u16>,
        height: Option<u16>,
    ) -> PyResult<Self> {
        // Any array-like (ints, float32, nested lists) is taken through numpy as a C-contiguous float64 copy.
        let numpy = array.py().import("numpy")?;
        let kwargs = PyDict::new(array.py());
        kwargs.set_item("dtype", "float64")?;
        let converted = numpy.call_method("ascontiguousarray", (array,), Some(&kwargs))?;
        let ndim: usize = converted.getattr("ndim")?.extract()?;
        if ndim != 2 {
            return Err(MatchError::invalid(format!("minutiae must be a 2-D array (n, 3|4|5), not {ndim}-D"))).py();
        }
        let array: PyReadonlyArray2<'_, f64> = converted.extract()?;
        let a = array.as_array();
        let cols = a.ncols();
        if !(3..=5).contains(&cols) {
            return Err(MatchError::invalid(format!("minutiae array has {cols} columns; 3, 4 or 5 are needed"))).py();
        }
        if a.nrows() > MAX_MINUTIAE {
            return Err(MatchError::invalid(format!("{} minutiae; at most {MAX_MINUTIAE}", a.nrows()))).py();
        }
        let mut source = Vec::with_capacity(a.nrows());
        for (i, row) in a.rows().into_iter().enumerate() {
            let kind = match row.get(3).copied() {
                None => MinutiaKind::Other,
                Some(k) if (0.0..=2.0).contains(&k) && k.fract() == 0.0 => MinutiaKind::from_code(k as u8),
                Some(k) => {
                    return Err(MatchError::invalid(format!("minutia {i}: type {k} is not 0, 1 or 2"))).py();
                }
            };
            let quality = match row.get(4).copied() {
                None => 0,
                Some(q) if (0.0..=100.0).contains(&q) && q.fract() == 0.0 => q as u8,
                Some(q) => {
                    return Err(MatchError::invalid(format!("minutia {i}: quality {q} is not a whole 0–100"))).py()
                }
            };
            source.push((row[0] as f32, row[1] as f32, row[2] as f32, kind, quality));
        }
        let mut t = Template::from_source(&source, resolution_ppi, resolution_ppi).py()?;
        t.finger = FingerPosition::new(finger_position).py()?;
        let extent = |col: usize| a.column(col).iter().fold(0.0_f64, |m, &v| m.max(v)).floor() + 1.0;
        t.width = image_side(width, extent(0), "width")?;
        t.height = image_side(height, extent(1), "height")?;
        Ok(PyFingerprintTemplate::new(t))
    }

    /// Restores a pickled template from its exact snapshot.
    #[staticmethod]
    fn _from_snapshot(data: &[u8]) -> PyResult<Self> {
        Ok(PyFingerprintTemplate::new(Template::from_snapshot(data).py()?))
    }

    /// The template as an ISO/IEC 19794-2:2005 record (positions rounded to source pixels).
    fn to_iso19794_2<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &iso19794_2::write(std::slice::from_ref(&*self.inner)).py()?))
    }

    /// The template as an ANSI INCITS 378-2004 record (angles rounded to 2°).
    fn to_ansi378<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &ansi378::write(std::slice::from_ref(&*self.inner)).py()?))
    }

    /// The template as NIST `.xyt` text (types are lost: the format has none).
    fn to_xyt(&self) -> String {
        xyt::write(&self.inner)
    }

    /// (n, 5) float64 array: x, y (internal 500 ppi pixels), angle (degrees), type code, quality.
    #[getter]
    fn minutiae<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        let m = &self.inner.minutiae;
        let mut flat = Vec::with_capacity(m.len() * 5);
        for p in m {
            flat.extend_from_slice(&[
                f64::from(p.x),
                f64::from(p.y),
                f64::from(p.angle.to_degrees()),
                f64::from(p.kind.code()),
                f64::from(p.quality),
            ]);
        }
        // The shape matches the vector's length by construction.
        match Array2::from_shape_vec((m.len(), 5), flat) {
            Ok(a) => PyArray2::from_owned_array(py, a),
            Err(_) => PyArray2::zeros(py, [0, 5], false),
        }
    }

    /// Finger position code (0 unknown, 1 right thumb … 10 left little).
    #[getter]
    fn finger_position(&self) -> u8 {
        self.inner.finger.0
    }

    /// Image width in source pixels.
    #[getter]
    fn width(&self) -> u16 {
        self.inner.width
    }

    /// Image height in source pixels.
    #[getter]
    fn height(&self) -> u16 {
        self.inner.height
    }

    /// Source resolution (x, y) in pixels per inch.
    #[getter]
    fn resolution_ppi(&self) -> (f32, f32) {
        (self.inner.resolution_x_ppi, self.inner.resolution_y_ppi)
    }

    /// Finger view quality 0–100 (0 = not reported).
    #[getter]
    fn view_quality(&self) -> u8 {
        self.inner.view_quality
    }

    /// Impression type code (0 live-scan plain, 1 live-scan rolled, …).
    #[getter]
    fn impression_type(&self) -> u8 {
        self.inner.impression
    }

    fn __len__(&self) -> usize {
        self.inner.minutiae.len()
    }

    fn __repr__(&self) -> String {
        // Counts and header values only: coordinates are biometric payload.
        let t = &self.inner;
        format!(
            "FingerprintTemplate(minutiae={}, finger_position={}, image={}x{}, resolution_ppi={:.0})",
            t.minutiae.len(),
            t.finger.0,
            t.width,
            t.height,
            t.resolution_x_ppi
        )
    }

    fn _repr_html_(&self) -> String {
        let t = &self.inner;
        let count = |k: MinutiaKind| t.minutiae.iter().filter(|m| m.kind == k).count();
        let mut html = String::from("<table><caption>FingerprintTemplate</caption>");
        for (name, value) in [
            ("minutiae", t.minutiae.len().to_string()),
            ("endings", count(MinutiaKind::Ending).to_string()),
            ("bifurcations", count(MinutiaKind::Bifurcation).to_string()),
            ("other", count(MinutiaKind::Other).to_string()),
            ("finger position", t.finger.0.to_string()),
            ("image", format!("{} × {} px", t.width, t.height)),
            ("resolution", format!("{:.0} × {:.0} ppi", t.resolution_x_ppi, t.resolution_y_ppi)),
        ] {
            let _ = write!(html, "<tr><th>{name}</th><td>{value}</td></tr>");
        }
        html.push_str("</table>");
        html
    }

    /// Pickles through the exact snapshot format (not ISO, which would round positions).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let restore = py.get_type::<PyFingerprintTemplate>().getattr("_from_snapshot")?;
        Ok((restore, (PyBytes::new(py, &slf.get().inner.to_snapshot()),)))
    }
}

fn image_side(given: Option<u16>, extent: f64, name: &str) -> PyResult<u16> {
    match given {
        Some(v) if f64::from(v) >= extent => Ok(v),
        Some(v) => {
            Err(MatchError::invalid(format!("image {name} {v} is smaller than the minutiae's extent {extent}"))).py()
        }
        None if extent <= f64::from(u16::MAX) => Ok(extent as u16),
        None => Err(MatchError::invalid(format!("minutiae extend beyond {} pixels", u16::MAX))).py(),
    }
}

/// What reading one file produced: its finger views and format, or the reason it was rejected.
fn read_file(path: &PathBuf, xyt_resolution_ppi: f32) -> MatchResult<(TemplateFormat, Vec<Template>)> {
    let name = path.display().to_string();
    let io = |source| MatchError::Io { path: name.clone(), source };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(MatchError::invalid(format!("{name}: {size} bytes, larger than any template ({MAX_FILE_BYTES})")));
    }
    let data = std::fs::read(path).map_err(io)?;
    read_any(&data, xyt_resolution_ppi).map_err(|e| e.with_input(&name))
}

/// Per-input results of [`read_template_files`] and `read_template_blobs`: (file or row index, view index, format
/// name, template) for each view read, and (file or row index, reason) for each input rejected.
pub(crate) type FileBatch = (Vec<(usize, usize, &'static str, PyFingerprintTemplate)>, Vec<(usize, String)>);

/// Splits per-input read results (files or table rows, in input order) into the templates read, one per view,
/// and the rejected inputs with their reasons: the one shape both the file and the table readers return.
pub(crate) fn split_read_results<E: ToString>(results: Vec<Result<(TemplateFormat, Vec<Template>), E>>) -> FileBatch {
    let mut ok = Vec::new();
    let mut rejects = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok((format, views)) => {
                for (v, t) in views.into_iter().enumerate() {
                    ok.push((i, v, format.name(), PyFingerprintTemplate::new(t)));
                }
            }
            Err(e) => rejects.push((i, e.to_string())),
        }
    }
    (ok, rejects)
}

/// Reads many template files in parallel with the GIL released; a bad file becomes a reject with the error
/// text (naming file, record, field and byte offset), never an exception for the batch.
#[pyfunction]
#[pyo3(signature = (paths, *, xyt_resolution_ppi = 500.0))]
fn read_template_files(py: Python<'_>, paths: Vec<PathBuf>, xyt_resolution_ppi: f32) -> PyResult<FileBatch> {
    let results = gil::detach_chunked(py, paths.len(), |range| {
        paths[range].par_iter().map(|p| read_file(p, xyt_resolution_ppi)).collect::<Vec<_>>()
    })?;
    Ok(split_read_results(results))
}

/// Applies `name=value` overrides to the generator's parameters; unknown names are an error.
fn synth_params(params: Option<&Bound<'_, PyDict>>) -> PyResult<(SynthParams, ImpressionParams)> {
    let mut m = SynthParams::default();
    let mut p = ImpressionParams::default();
    let Some(params) = params else { return Ok((m, p)) };
    for (key, value) in params.iter() {
        let key: String = key.extract()?;
        let v: f64 = value.extract()?;
        if !v.is_finite() {
            return Err(MatchError::invalid(format!("synthetic parameter {key} = {v} is not finite"))).py();
        }
        let side = || -> PyResult<u16> {
            if (16.0..=4096.0).contains(&v) {
                Ok(v as u16)
            } else {
                Err(MatchError::invalid(format!("{key} = {v} is outside 16–4096 pixels"))).py()
            }
        };
        let f = v as f32;
        match key.as_str() {
            "pad_width" => m.width = side()?,
            "pad_height" => m.height = side()?,
            "mean_minutiae" => m.mean_minutiae = f,
            "sd_minutiae" => m.sd_minutiae = f,
            "min_distance" => m.min_distance = f,
            "bifurcation_share" => m.bifurcation_share = f,
            "other_share" => m.other_share = f,
            "width" => p.width = side()?,
            "height" => p.height = side()?,
            "rotation_sd_deg" => p.rotation_sd_deg = f,
            "max_rotation_deg" => p.max_rotation_deg = f,
            "placement_sd" => p.placement_sd = f,
            "contact_sd" => p.contact_sd = f,
            "contact_radius" => p.contact_radius = f,
            "distortion_brake" => p.distortion_brake = f,
            "distortion_rotation_sd_deg" => p.distortion_rotation_sd_deg = f,
            "distortion_translation_sd" => p.distortion_translation_sd = f,
            "contact_axes_min" => p.contact_axes_min = f,
            "contact_axes_max" => p.contact_axes_max = f,
            "partial_probability" => p.partial_probability = f,
            "missing_rate" => p.missing_rate = f,
            "spurious_rate" => p.spurious_rate = f,
            "type_flip_rate" => p.type_flip_rate = f,
            "position_sd" => p.position_sd = f,
            "angle_sd_deg" => p.angle_sd_deg = f,
            _ => return Err(MatchError::invalid(format!("unknown synthetic fingerprint parameter '{key}'"))).py(),
        }
    }
    Ok((m, p))
}

fn generate(
    py: Python<'_>,
    subjects: u32,
    impressions: u16,
    fingers: u8,
    seed: u64,
    params: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<SynthRecord>> {
    if !(1..=10).contains(&fingers) {
        return Err(MatchError::invalid(format!("fingers = {fingers}; 1–10 per subject"))).py();
    }
    let (m, p) = synth_params(params)?;
    Ok(gil::detach(py, || dataset(seed, subjects, fingers, impressions, &m, &p)))
}

fn ground_truth<'py>(py: Python<'py>, records: &[SynthRecord], out: &Bound<'py, PyDict>) -> PyResult<()> {
    out.set_item("subject", PyArray1::from_iter(py, records.iter().map(|r| r.subject)))?;
    out.set_item("finger", PyArray1::from_iter(py, records.iter().map(|r| r.finger)))?;
    out.set_item("impression", PyArray1::from_iter(py, records.iter().map(|r| r.impression)))?;
    Ok(())
}

/// A synthetic data set as numpy columns: ground truth per template (`subject`, `finger`, `impression`),
/// `offsets` (int64, n + 1) into the minutia columns `x`, `y` (500 ppi pixels), `angle` (degrees), `type`,
/// `quality`, and the image `width` and `height`.
#[pyfunction]
#[pyo3(signature = (subjects, impressions, *, fingers = 1, seed = 0, params = None))]
fn synth_fingerprint_columns<'py>(
    py: Python<'py>,
    subjects: u32,
    impressions: u16,
    fingers: u8,
    seed: u64,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let records = generate(py, subjects, impressions, fingers, seed, params)?;
    let total: usize = records.iter().map(|r| r.template.minutiae.len()).sum();
    let mut offsets = Vec::with_capacity(records.len() + 1);
    offsets.push(0_i64);
    let (mut x, mut y, mut angle) = (Vec::with_capacity(total), Vec::with_capacity(total), Vec::with_capacity(total));
    let (mut kind, mut quality) = (Vec::with_capacity(total), Vec::with_capacity(total));
    for r in &records {
        for m in &r.template.minutiae {
            x.push(m.x);
            y.push(m.y);
            angle.push(m.angle.to_degrees());
            kind.push(m.kind.code());
            quality.push(m.quality);
        }
        offsets.push(x.len() as i64);
    }
    let out = PyDict::new(py);
    ground_truth(py, &records, &out)?;
    out.set_item("offsets", PyArray1::from_vec(py, offsets))?;
    out.set_item("x", PyArray1::from_vec(py, x))?;
    out.set_item("y", PyArray1::from_vec(py, y))?;
    out.set_item("angle", PyArray1::from_vec(py, angle))?;
    out.set_item("type", PyArray1::from_vec(py, kind))?;
    out.set_item("quality", PyArray1::from_vec(py, quality))?;
    let (w, h) = records.first().map_or((0, 0), |r| (r.template.width, r.template.height));
    out.set_item("width", w)?;
    out.set_item("height", h)?;
    Ok(out)
}

/// A synthetic data set as ISO 19794-2 records: ground truth columns plus `iso_offsets` (int64, n + 1) into
/// `iso_data` (uint8), one record per template, written in parallel with the GIL released.
#[pyfunction]
#[pyo3(signature = (subjects, impressions, *, fingers = 1, seed = 0, params = None))]
fn synth_fingerprint_iso<'py>(
    py: Python<'py>,
    subjects: u32,
    impressions: u16,
    fingers: u8,
    seed: u64,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let records = generate(py, subjects, impressions, fingers, seed, params)?;
    let encoded: MatchResult<Vec<Vec<u8>>> =
        gil::detach(py, || records.par_iter().map(|r| iso19794_2::write(std::slice::from_ref(&r.template))).collect());
    let encoded = encoded.py()?;
    let mut offsets = Vec::with_capacity(encoded.len() + 1);
    offsets.push(0_i64);
    let mut data = Vec::with_capacity(encoded.iter().map(Vec::len).sum());
    for e in &encoded {
        data.extend_from_slice(e);
        offsets.push(data.len() as i64);
    }
    let out = PyDict::new(py);
    ground_truth(py, &records, &out)?;
    out.set_item("iso_offsets", PyArray1::from_vec(py, offsets))?;
    out.set_item("iso_data", PyArray1::from_vec(py, data))?;
    Ok(out)
}

/// A synthetic data set as `FingerprintTemplate` objects with ground truth columns (`templates` list).
#[pyfunction]
#[pyo3(signature = (subjects, impressions, *, fingers = 1, seed = 0, params = None))]
fn synth_fingerprint_templates<'py>(
    py: Python<'py>,
    subjects: u32,
    impressions: u16,
    fingers: u8,
    seed: u64,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let records = generate(py, subjects, impressions, fingers, seed, params)?;
    let out = PyDict::new(py);
    ground_truth(py, &records, &out)?;
    let templates: Vec<PyFingerprintTemplate> =
        records.into_iter().map(|r| PyFingerprintTemplate::new(r.template)).collect();
    out.set_item("templates", templates)?;
    Ok(out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFingerprintTemplate>()?;
    m.add_function(wrap_pyfunction!(read_template_files, m)?)?;
    m.add_function(wrap_pyfunction!(synth_fingerprint_columns, m)?)?;
    m.add_function(wrap_pyfunction!(synth_fingerprint_iso, m)?)?;
    m.add_function(wrap_pyfunction!(synth_fingerprint_templates, m)?)?;
    Ok(())
}
