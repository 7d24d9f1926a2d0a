//! DNA classes and functions of `cgi_match._core`: profiles parsed from Arrow string buffers, the frozen
//! `DnaIndex` (shared by `Arc`, pickled through its file format), allele frequencies, CMF XML.

use std::path::PathBuf;
use std::sync::Arc;

use cgi_match_core::columns::StrColumnBuilder;
use cgi_match_core::dna::allele::{self, Allele};
use cgi_match_core::dna::cmf::{self, CmfHeader};
use cgi_match_core::dna::kinship::{KinshipModel, Relationship};
use cgi_match_core::dna::loci::{self, LocusId, CATALOGUE};
use cgi_match_core::dna::profile::{parse_long, ParsedProfiles, Profile, ProfileKind};
use cgi_match_core::dna::rules::MatchRules;
use cgi_match_core::dna::stats::{self, AlleleFrequencies};
use cgi_match_core::dna::DnaIndex;
use cgi_match_core::MatchError;
use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray3};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::columns::{into_numpy, StrArrays, StrBuffers};
use crate::error::IntoPyResult;
use crate::gil;

/// One Arrow string column as it arrives from `cgi_match._columns.str_buffers`.
type StrArgs<'py> = (PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, u8>, Option<PyReadonlyArray1<'py, bool>>);

fn buffers(args: StrArgs<'_>) -> StrBuffers<'_> {
    StrBuffers::new(args.0, args.1, args.2)
}

fn owned_column<'a>(values: impl Iterator<Item = &'a str>) -> StrColumnBuilder {
    let mut b = StrColumnBuilder::default();
    b.offsets.push(0);
    for v in values {
        b.push(Some(v));
    }
    b
}

/// Profiles parsed from a long table, with the rows that were rejected.
#[pyclass(module = "cgi_match._core", name = "DnaProfiles", frozen)]
pub struct PyDnaProfiles {
    inner: Arc<ParsedProfiles>,
}

#[pymethods]
impl PyDnaProfiles {
    /// Parses `profile_id, locus, allele[, kind]` string columns (GIL released).
    #[staticmethod]
    #[pyo3(signature = (ids, loci, alleles, kinds = None))]
    fn from_long(
        py: Python<'_>,
        ids: StrArgs<'_>,
        loci: StrArgs<'_>,
        alleles: StrArgs<'_>,
        kinds: Option<StrArgs<'_>>,
    ) -> PyResult<PyDnaProfiles> {
        let (ib, lb, ab) = (buffers(ids), buffers(loci), buffers(alleles));
        let kb = kinds.map(buffers);
        let (ic, lc, ac) = (ib.column()?, lb.column()?, ab.column()?);
        let kc = match &kb {
            Some(k) => Some(k.column()?),
            None => None,
        };
        let parsed = gil::detach(py, || parse_long(&ic, &lc, &ac, kc.as_ref())).py()?;
        Ok(PyDnaProfiles { inner: Arc::new(parsed) })
    }

    /// Builds profiles from a genotype array `alleles[profile, locus, 2]` in tenths of a repeat (0 =
    /// not typed), the fast path for large generated or wide numeric tables.
    #[staticmethod]
    #[pyo3(signature = (ids, loci, alleles, stain = false))]
    fn from_arrays(
        py: Python<'_>,
        ids: StrArgs<'_>,
        loci: Vec<String>,
        alleles: PyReadonlyArray3<'_, u16>,
        stain: bool,
    ) -> PyResult<PyDnaProfiles> {
        let ib = buffers(ids);
        let ic = ib.column()?;
        let shape = alleles.as_array().shape().to_vec();
        let locus_ids: Vec<LocusId> = loci
            .iter()
            .map(|n| loci::lookup(n).ok_or_else(|| MatchError::invalid(format!("unknown locus '{n}'"))))
            .collect::<Result<_, _>>()
            .py()?;
        if shape.len() != 3 || shape[0] != ic.len() || shape[1] != locus_ids.len() || shape[2] != 2 {
            return Err(MatchError::invalid(format!(
                "alleles must have shape (profiles={}, loci={}, 2), got {shape:?}",
                ic.len(),
                locus_ids.len()
            )))
            .py();
        }
        if locus_ids.contains(&loci::AMELOGENIN) {
            return Err(MatchError::invalid("Amelogenin cannot be given as repeat numbers")).py();
        }
        let view = alleles.as_array();
        let kind = if stain { ProfileKind::Stain } else { ProfileKind::Reference };
        let mut ids_out = Vec::with_capacity(ic.len());
        for i in 0..ic.len() {
            match ic.get(i) {
                Some(Ok(s)) => ids_out.push(s.to_owned()),
                _ => return Err(MatchError::invalid(format!("profile id {i} is missing or not UTF-8"))).py(),
            }
        }
        let parsed = gil::detach(py, || {
            let mut profiles = Vec::with_capacity(ids_out.len());
            for i in 0..ids_out.len() {
                let typings = locus_ids.iter().enumerate().filter_map(|(k, &locus)| {
                    let (a, b) = (view[[i, k, 0]], view[[i, k, 1]]);
                    let list: Vec<Allele> = [a, b].into_iter().filter(|&t| t > 0).map(Allele::Repeat).collect();
                    (!list.is_empty()).then_some((locus, list))
                });
                profiles.push(Profile::new(kind, typings));
            }
            ParsedProfiles { ids: ids_out, profiles, rejects: Vec::new(), prum_conversions: 0 }
        });
        Ok(PyDnaProfiles { inner: Arc::new(parsed) })
    }

    fn __len__(&self) -> usize {
        self.inner.ids.len()
    }

    /// Profile ids as Arrow string buffers.
    fn ids<'py>(&self, py: Python<'py>) -> StrArrays<'py> {
        into_numpy(py, owned_column(self.inner.ids.iter().map(String::as_str)))
    }

    /// Rejected rows: (row numbers, reasons as Arrow string buffers).
    fn rejects<'py>(&self, py: Python<'py>) -> (Bound<'py, PyArray1<u64>>, StrArrays<'py>) {
        let rows: Vec<u64> = self.inner.rejects.iter().map(|r| r.row as u64).collect();
        let reasons = owned_column(self.inner.rejects.iter().map(|r| r.reason.as_str()));
        (PyArray1::from_vec(py, rows), into_numpy(py, reasons))
    }

    /// Per profile: number of STR loci, mixture flag, stain flag.
    #[allow(clippy::type_complexity)]
    fn summary<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<bool>>, Bound<'py, PyArray1<bool>>) {
        let p = &self.inner.profiles;
        (
            PyArray1::from_vec(py, p.iter().map(|x| x.str_loci() as u32).collect()),
            PyArray1::from_vec(py, p.iter().map(Profile::is_mixture).collect()),
            PyArray1::from_vec(py, p.iter().map(|x| x.kind == ProfileKind::Stain).collect()),
        )
    }

    /// Loci converted by the Prüm third-allele rule.
    #[getter]
    fn prum_conversions(&self) -> usize {
        self.inner.prum_conversions
    }

    /// The profiles as a long table: (row of profile, locus names, alleles) as Arrow buffers.
    fn to_long<'py>(&self, py: Python<'py>) -> (Bound<'py, PyArray1<u32>>, StrArrays<'py>, StrArrays<'py>) {
        let mut rows = Vec::new();
        let mut loci_col = StrColumnBuilder::default();
        loci_col.offsets.push(0);
        let mut alleles = StrColumnBuilder::default();
        alleles.offsets.push(0);
        for (i, p) in self.inner.profiles.iter().enumerate() {
            for t in &p.loci {
                for a in &t.alleles {
                    rows.push(i as u32);
                    loci_col.push(Some(loci::name(t.locus)));
                    alleles.push(Some(&a.to_string()));
                }
            }
        }
        (PyArray1::from_vec(py, rows), into_numpy(py, loci_col), into_numpy(py, alleles))
    }

    /// Random match probability of each profile (NaN where no locus can be evaluated).
    #[pyo3(signature = (frequencies, theta = 0.01))]
    fn random_match_probability<'py>(
        &self,
        py: Python<'py>,
        frequencies: &PyAlleleFrequencies,
        theta: f64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        stats::check_theta(theta).py()?;
        let f = &frequencies.inner;
        let out: Vec<f64> = gil::detach(py, || {
            self.inner
                .profiles
                .iter()
                .map(|p| stats::random_match_probability(p, f, theta, |_| true).unwrap_or(f64::NAN))
                .collect()
        });
        Ok(PyArray1::from_vec(py, out))
    }

    /// The profiles as a CODIS CMF XML document.
    #[pyo3(signature = (*, source_lab = String::new(), destination_ori = String::new(), user_id = String::new(), submit_datetime = String::new(), batch_id = String::new()))]
    fn to_cmf(
        &self,
        source_lab: String,
        destination_ori: String,
        user_id: String,
        submit_datetime: String,
        batch_id: String,
    ) -> PyResult<String> {
        let header = CmfHeader { source_lab, destination_ori, user_id, submit_datetime, batch_id };
        cmf::write_cmf(&header, &self.inner.ids, &self.inner.profiles).py()
    }
}

/// Allele frequency table for match statistics and kinship.
#[pyclass(module = "cgi_match._core", name = "AlleleFrequencies", frozen)]
pub struct PyAlleleFrequencies {
    inner: Arc<AlleleFrequencies>,
}

#[pymethods]
impl PyAlleleFrequencies {
    /// Builds a table from long columns `locus, allele, frequency[, individuals]` (individuals < 0 = not
    /// known). Rows with a locus outside the catalogue (Y-STRs, indels) are skipped and their loci listed.
    #[staticmethod]
    fn from_columns(
        name: &str,
        loci: StrArgs<'_>,
        alleles: StrArgs<'_>,
        frequencies: PyReadonlyArray1<'_, f64>,
        individuals: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<(PyAlleleFrequencies, Vec<String>)> {
        let (lb, ab) = (buffers(loci), buffers(alleles));
        let (lc, ac) = (lb.column()?, ab.column()?);
        let freqs = frequencies.as_slice().map_err(|_| MatchError::invalid("frequencies must be contiguous")).py()?;
        let ns = individuals.as_slice().map_err(|_| MatchError::invalid("individuals must be contiguous")).py()?;
        if ac.len() != lc.len() || freqs.len() != lc.len() || ns.len() != lc.len() {
            return Err(MatchError::invalid("frequency columns differ in length")).py();
        }
        let (mut l_out, mut a_out, mut f_out, mut n_out) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut skipped: Vec<String> = Vec::new();
        for i in 0..lc.len() {
            let Some(Ok(lname)) = lc.get(i) else {
                return Err(MatchError::invalid(format!("frequency row {i}: missing locus"))).py();
            };
            let Some(locus) = loci::lookup(lname).filter(|&l| l != loci::AMELOGENIN) else {
                if !skipped.iter().any(|s| s == lname) {
                    skipped.push(lname.to_owned());
                }
                continue;
            };
            let Some(Ok(atext)) = ac.get(i) else {
                return Err(MatchError::invalid(format!("frequency row {i}: missing allele"))).py();
            };
            let a = allele::parse(atext, locus)
                .map_err(|e| MatchError::invalid(format!("frequency row {i}: {}", e.reason())))
                .py()?;
            if a.is_wildcard() {
                // `0`, `1`, `99` convert to the wildcard; a frequency table lists no such allele.
                continue;
            }
            l_out.push(locus);
            a_out.push(a);
            f_out.push(freqs[i]);
            n_out.push(u32::try_from(ns[i]).ok());
        }
        let table = AlleleFrequencies::from_rows(name, &l_out, &a_out, &f_out, &n_out).py()?;
        Ok((PyAlleleFrequencies { inner: Arc::new(table) }, skipped))
    }

    /// Name of the table.
    #[getter]
    fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// Canonical names of the loci covered.
    fn loci(&self) -> Vec<&'static str> {
        self.inner.loci().into_iter().map(loci::name).collect()
    }

    /// Frequency used for an allele (with the 5/2N floor), `None` when the locus is not covered.
    fn frequency(&self, locus: &str, allele: &str) -> PyResult<Option<f64>> {
        let l = loci::lookup(locus).ok_or_else(|| MatchError::invalid(format!("unknown locus '{locus}'"))).py()?;
        let a = allele::parse(allele, l).map_err(|e| MatchError::invalid(e.reason())).py()?;
        Ok(self.inner.frequency(l, a))
    }
}

/// An immutable index of DNA profiles; pickles through its binary file format.
#[pyclass(module = "cgi_match._core", name = "DnaIndex", frozen)]
pub struct PyDnaIndex {
    inner: Arc<DnaIndex>,
}

type HitArrays<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

fn rules_from(
    rules: &str,
    min_loci: Option<u32>,
    max_mismatches: Option<u32>,
    loci: Option<Vec<String>>,
) -> PyResult<MatchRules> {
    let mut r = MatchRules::preset(rules).py()?;
    if let Some(m) = min_loci {
        r.min_loci = m;
    }
    if let Some(m) = max_mismatches {
        r.max_mismatches = m;
    }
    match loci {
        Some(list) => {
            let names: Vec<&str> = list.iter().map(String::as_str).collect();
            r.with_loci(&names).py()
        }
        None => r.validate().py(),
    }
}

fn with_threads<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    match threads {
        None => Ok(work()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|e| MatchError::invalid(format!("thread pool: {e}")))
                .py()?;
            Ok(pool.install(work))
        }
    }
}

#[pymethods]
impl PyDnaIndex {
    /// Builds the index from parsed profiles (GIL released).
    #[staticmethod]
    fn build(py: Python<'_>, profiles: &PyDnaProfiles) -> PyResult<PyDnaIndex> {
        let p = &profiles.inner;
        let index = gil::detach(py, || DnaIndex::build(&p.ids, &p.profiles)).py()?;
        Ok(PyDnaIndex { inner: Arc::new(index) })
    }

    /// Builds the index straight from a genotype array `alleles[profile, locus, 2]` (tenths of a repeat,
    /// 0 = not typed) without holding a profile object per row: the path for tens of millions of profiles.
    #[staticmethod]
    fn from_arrays(
        py: Python<'_>,
        ids: StrArgs<'_>,
        loci: Vec<String>,
        alleles: PyReadonlyArray3<'_, u16>,
    ) -> PyResult<PyDnaIndex> {
        let ib = buffers(ids);
        let ic = ib.column()?;
        let locus_ids: Vec<LocusId> = loci
            .iter()
            .map(|n| loci::lookup(n).filter(|&l| l != loci::AMELOGENIN))
            .map(|l| l.ok_or_else(|| MatchError::invalid("unknown locus (or Amelogenin) in genotype array")))
            .collect::<Result<_, _>>()
            .py()?;
        let view = alleles.as_array();
        let shape = view.shape().to_vec();
        if shape.len() != 3 || shape[0] != ic.len() || shape[1] != locus_ids.len() || shape[2] != 2 {
            return Err(MatchError::invalid(format!(
                "alleles must have shape ({}, {}, 2), got {shape:?}",
                ic.len(),
                locus_ids.len()
            )))
            .py();
        }
        let mut id_col = StrColumnBuilder::with_capacity(ic.len(), 0);
        for i in 0..ic.len() {
            match ic.get(i) {
                Some(Ok(s)) => id_col.push(Some(s)),
                _ => return Err(MatchError::invalid(format!("profile id {i} is missing or not UTF-8"))).py(),
            }
        }
        let index = gil::detach(py, || {
            DnaIndex::build_with(id_col, |i| {
                let typings = locus_ids.iter().enumerate().filter_map(|(k, &locus)| {
                    let list: Vec<Allele> =
                        [view[[i, k, 0]], view[[i, k, 1]]].into_iter().filter(|&t| t > 0).map(Allele::Repeat).collect();
                    (!list.is_empty()).then_some((locus, list))
                });
                Profile::new(ProfileKind::Reference, typings)
            })
        })
        .py()?;
        Ok(PyDnaIndex { inner: Arc::new(index) })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Bytes of the compact rows the scan reads.
    #[getter]
    fn scan_bytes(&self) -> usize {
        self.inner.scan_bytes()
    }

    /// Profile ids in row order, as Arrow string buffers.
    fn ids<'py>(&self, py: Python<'py>) -> StrArrays<'py> {
        into_numpy(py, self.inner.ids().clone())
    }

    /// Rule-based search; returns columns (probe, row, class code 0 full / 1 partial / 2 near,
    /// loci_compared, loci_matched, mismatched_alleles, rmp, lr) with NaN for missing statistics.
    #[pyo3(signature = (probes, rules = "prum", *, min_loci = None, max_mismatches = None, loci = None, frequencies = None, theta = 0.01, threads = None))]
    #[allow(clippy::too_many_arguments)]
    fn search<'py>(
        &self,
        py: Python<'py>,
        probes: &PyDnaProfiles,
        rules: &str,
        min_loci: Option<u32>,
        max_mismatches: Option<u32>,
        loci: Option<Vec<String>>,
        frequencies: Option<&PyAlleleFrequencies>,
        theta: f64,
        threads: Option<usize>,
    ) -> PyResult<HitArrays<'py>> {
        let rules = rules_from(rules, min_loci, max_mismatches, loci)?;
        stats::check_theta(theta).py()?;
        let freqs = frequencies.map(|f| (f.inner.as_ref(), theta));
        let index = &self.inner;
        let profiles = &probes.inner.profiles;
        let hits = gil::detach_chunked(py, profiles.len(), |range| {
            let start = range.start as u32;
            let part = &profiles[range];
            let found = with_threads(threads, || index.search(part, &rules, freqs));
            match found {
                Ok(Ok(mut h)) => {
                    for hit in &mut h {
                        hit.probe += start;
                    }
                    h
                }
                // Parameters were validated above, so the core cannot refuse them here.
                _ => Vec::new(),
            }
        })?;
        let n = hits.len();
        let mut cols = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for h in hits {
            cols.0.push(h.probe);
            cols.1.push(h.row);
            cols.2.push(h.class as u8);
            cols.3.push(h.comparison.loci_compared);
            cols.4.push(h.comparison.loci_matched);
            cols.5.push(h.comparison.mismatched_alleles);
            cols.6.push(h.rmp.unwrap_or(f64::NAN));
            cols.7.push(h.lr.unwrap_or(f64::NAN));
        }
        Ok((
            PyArray1::from_vec(py, cols.0),
            PyArray1::from_vec(py, cols.1),
            PyArray1::from_vec(py, cols.2),
            PyArray1::from_vec(py, cols.3),
            PyArray1::from_vec(py, cols.4),
            PyArray1::from_vec(py, cols.5),
            PyArray1::from_vec(py, cols.6),
            PyArray1::from_vec(py, cols.7),
        ))
    }

    /// Number of rows the scan keeps as candidates (benchmarks: the memory-bound part alone).
    #[pyo3(signature = (probes, rules = "prum", *, threads = None))]
    fn scan_count(
        &self,
        py: Python<'_>,
        probes: &PyDnaProfiles,
        rules: &str,
        threads: Option<usize>,
    ) -> PyResult<usize> {
        let rules = rules_from(rules, None, None, None)?;
        let index = &self.inner;
        let profiles = &probes.inner.profiles;
        gil::detach(py, || with_threads(threads, || index.scan_count(profiles, &rules)))
    }

    /// Familial search with θ and the parent–child mutation rate; returns columns (probe, row,
    /// kinship_index, loci_used, rank).
    #[pyo3(signature = (probes, relationship, frequencies, *, top_k = 20, min_ki = 1000.0, theta = 0.01, mutation_rate = 0.002, threads = None))]
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn familial_search<'py>(
        &self,
        py: Python<'py>,
        probes: &PyDnaProfiles,
        relationship: &str,
        frequencies: &PyAlleleFrequencies,
        top_k: usize,
        min_ki: f64,
        theta: f64,
        mutation_rate: f64,
        threads: Option<usize>,
    ) -> PyResult<(
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
    )> {
        let relationship = Relationship::parse(relationship).py()?;
        let model = KinshipModel { relationship, theta, mutation_rate }.validate().py()?;
        let (index, f, profiles) = (&self.inner, &frequencies.inner, &probes.inner.profiles);
        let hits =
            gil::detach(py, || with_threads(threads, || index.familial_search(profiles, model, f, top_k, min_ki)))?
                .py()?;
        Ok((
            PyArray1::from_vec(py, hits.iter().map(|h| h.probe).collect()),
            PyArray1::from_vec(py, hits.iter().map(|h| h.row).collect()),
            PyArray1::from_vec(py, hits.iter().map(|h| h.kinship_index).collect()),
            PyArray1::from_vec(py, hits.iter().map(|h| h.loci_used).collect()),
            PyArray1::from_vec(py, hits.iter().map(|h| h.rank).collect()),
        ))
    }

    /// Stored profiles with exactly the probe's STR genotype (hash look-up): (probe, row) columns.
    #[allow(clippy::type_complexity)]
    fn find_identical<'py>(
        &self,
        py: Python<'py>,
        probes: &PyDnaProfiles,
    ) -> PyResult<(Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<u32>>)> {
        let (index, profiles) = (&self.inner, &probes.inner.profiles);
        let pairs = gil::detach(py, || index.find_identical(profiles)).py()?;
        Ok((
            PyArray1::from_vec(py, pairs.iter().map(|p| p.0).collect()),
            PyArray1::from_vec(py, pairs.iter().map(|p| p.1).collect()),
        ))
    }

    /// Writes the index file (header with magic, format version, crate version, checksum).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let index = &self.inner;
        gil::detach(py, || index.save(&path)).py()
    }

    /// Reads an index file; a truncated, corrupted or foreign file raises `IndexFileError`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyDnaIndex> {
        let index = gil::detach(py, || DnaIndex::load(&path)).py()?;
        Ok(PyDnaIndex { inner: Arc::new(index) })
    }

    /// The index file's bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let index = &self.inner;
        let bytes = gil::detach(py, || index.to_bytes());
        PyBytes::new(py, &bytes)
    }

    /// Reads an index from bytes written by `to_bytes`.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PyDnaIndex> {
        let index = gil::detach(py, || DnaIndex::from_bytes(data)).py()?;
        Ok(PyDnaIndex { inner: Arc::new(index) })
    }

    /// Pickling goes through the index file format.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let ctor = slf.get_type().getattr("from_bytes")?;
        let bytes = slf.get().to_bytes(py);
        Ok((ctor, PyTuple::new(py, [bytes])?))
    }

    /// The stored profiles as parsed profiles (for export, e.g. to CMF).
    fn profiles(&self, py: Python<'_>) -> PyDnaProfiles {
        let index = &self.inner;
        let parsed = gil::detach(py, || {
            let n = index.len();
            ParsedProfiles {
                ids: (0..n).map(|i| index.id(i).to_owned()).collect(),
                profiles: (0..n).filter_map(|i| index.profile(i)).collect(),
                rejects: Vec::new(),
                prum_conversions: 0,
            }
        });
        PyDnaProfiles { inner: Arc::new(parsed) }
    }
}

/// Reads a CODIS CMF XML document: (specimen ids, categories, loci, alleles) as Arrow string buffers and
/// the profile kind per row (`reference`, `stain` or empty) likewise.
#[pyfunction]
fn read_cmf<'py>(
    py: Python<'py>,
    data: &[u8],
) -> PyResult<(StrArrays<'py>, StrArrays<'py>, StrArrays<'py>, StrArrays<'py>)> {
    let rows = gil::detach(py, || cmf::read_cmf(data)).py()?;
    let kinds = rows.iter().map(|r| match cmf::kind_of_category(&r.category) {
        Some(ProfileKind::Reference) => "reference",
        Some(ProfileKind::Stain) => "stain",
        None => "",
    });
    let kinds = owned_column(kinds);
    Ok((
        into_numpy(py, owned_column(rows.iter().map(|r| r.specimen_id.as_str()))),
        into_numpy(py, kinds),
        into_numpy(py, owned_column(rows.iter().map(|r| r.locus.as_str()))),
        into_numpy(py, owned_column(rows.iter().map(|r| r.allele.as_str()))),
    ))
}

/// The loci catalogue: (name, repeat length, ESS, CODIS core, compact slot).
#[pyfunction]
fn dna_loci() -> Vec<(&'static str, u8, bool, bool, bool)> {
    CATALOGUE.iter().enumerate().map(|(i, l)| (l.name, l.repeat, l.ess, l.codis, i < loci::SLOT_LOCI)).collect()
}

/// Canonical name of a locus spelling, `None` when unknown.
#[pyfunction]
fn canonical_locus(name: &str) -> Option<&'static str> {
    loci::lookup(name).map(loci::name)
}

/// Canonical name of a relationship spelling (`parent-child`, `full-sibling`); raises on others.
#[pyfunction]
fn dna_relationship(name: &str) -> PyResult<&'static str> {
    Relationship::parse(name).map(Relationship::name).py()
}

/// Checks a rule set and returns it as (stringency, min_loci, max_mismatches, loci or None).
#[pyfunction]
#[pyo3(signature = (rules = "prum", *, min_loci = None, max_mismatches = None, loci = None))]
fn dna_rules(
    rules: &str,
    min_loci: Option<u32>,
    max_mismatches: Option<u32>,
    loci: Option<Vec<String>>,
) -> PyResult<(&'static str, u32, u32, Option<Vec<&'static str>>)> {
    let r = rules_from(rules, min_loci, max_mismatches, loci)?;
    let names = r.loci.as_ref().map(|l| l.iter().map(|&x| loci::name(x)).collect());
    Ok((r.stringency.name(), r.min_loci, r.max_mismatches, names))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDnaProfiles>()?;
    m.add_class::<PyAlleleFrequencies>()?;
    m.add_class::<PyDnaIndex>()?;
    m.add_function(wrap_pyfunction!(read_cmf, m)?)?;
    m.add_function(wrap_pyfunction!(dna_loci, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_locus, m)?)?;
    m.add_function(wrap_pyfunction!(dna_rules, m)?)?;
    m.add_function(wrap_pyfunction!(dna_relationship, m)?)?;
    Ok(())
}
