//! The 1:N fingerprint gallery: templates of many subjects (up to ten fingers each), searched with a probe
//! template for a top-k candidate list.
//!
//! **Pre-filter.** A search over a million templates cannot afford a million full comparisons, so a
//! pre-filtered search (`exhaustive: false`) runs in two stages: stage 1 scores every template cheaply and
//! only the best-scoring ones (the penetration) get a full comparison (stage 2). Two stage 1s are available
//! ([`Prefilter`]): `Hashing`, where every gallery cylinder is indexed by locality-sensitive
//! hashing by bit sampling as in Cappelli, Ferrara & Maltoni, "Fingerprint indexing based on Minutia
//! Cylinder-Code" (IEEE TPAMI 33(5), 2011) and the probe's cylinders vote for the templates they collide with;
//! and `CylinderScan` (the default), an exact similarity scan of the probe's cylinders against every gallery
//! cylinder (no hashing, so many more mates kept, at a higher cost per template; see [`CylinderScan`]). The
//! hashing tables are built by the first search that uses them. The pre-filtered
//! result is exactly the exhaustive search restricted to the candidates. Exhaustive search stays the default
//! (`exhaustive: true`) and is what the pre-filters' recall is measured against.
//!
//! **Fusion across fingers.** A probe is one finger of unknown position, so a subject's score is the best
//! score of any of its fingers (max rule); the hit names the finger that gave it. Hits are ordered by score
//! descending, then subject id, so results do not depend on thread count or insertion batches.
//!
//! **File.** [`Gallery::to_bytes`] writes a versioned file: magic, format version, crate version, payload
//! length, CRC-32 of the payload; the payload keeps subjects and minutiae, and loading rebuilds cylinders and
//! hash tables (deterministic), so the format does not change when the matcher's internals do.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::matcher::{Matcher, PreparedTemplate};
use super::prefilter::{top_candidates, CylinderIndex, CylinderScan, VoteScratch, SCAN_MAX_PROBE_CYLINDERS};
pub use super::prefilter::{LshParams, Prefilter};
use super::template::{FingerPosition, Minutia, MinutiaKind, Template, MAX_MINUTIAE};
use crate::error::{MatchError, MatchResult};

/// Magic bytes at the start of a saved gallery.
pub const MAGIC: &[u8; 8] = b"CGIFGAL\0";
/// Version of the saved format; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 2;
/// Largest number of subjects or templates a file may declare (sanity limit against corrupt counts).
const MAX_COUNT: u64 = 1 << 32;

thread_local! {
    /// Per-thread vote table of the pre-filter (templates × rotation sectors), reused across probes.
    static PREFILTER_SCRATCH: std::cell::RefCell<VoteScratch> = std::cell::RefCell::new(VoteScratch::default());
}

/// How a search runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOptions {
    /// Number of subjects to return.
    pub top_k: usize,
    /// Drop hits scoring below this.
    pub threshold: Option<f32>,
    /// Compare with every template instead of the pre-filtered candidates.
    pub exhaustive: bool,
    /// Share of the gallery's templates that get a full comparison.
    pub penetration: f32,
    /// Never fewer candidates than this (small galleries are then searched exhaustively).
    pub min_candidates: usize,
    /// The stage 1 that picks the candidates when not exhaustive.
    pub prefilter: Prefilter,
}

impl Default for SearchOptions {
    fn default() -> Self {
        // Exhaustive by default: exact, and what the pre-filters' recall is measured against; a caller with a
        // large gallery opts in with `exhaustive: false` (BENCHMARKS.md, "Fingerprint matching").
        SearchOptions {
            top_k: 10,
            threshold: None,
            exhaustive: true,
            penetration: 0.05,
            min_candidates: 256,
            // The exact cylinder scan of the 32 fullest probe cylinders: it keeps 99.6 % of the exhaustive
            // search's correct rank-1 hits at 5 % penetration (99.2 % at 2 %) on held-back synthetic galleries,
            // where the hashing votes keep about 75–80 %, and since its vector kernel it costs ~0.9 µs per
            // template and thread (BENCHMARKS.md).
            prefilter: Prefilter::CylinderScan { probe_cylinders: SCAN_MAX_PROBE_CYLINDERS as u8 },
        }
    }
}

/// One candidate of a search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GalleryHit {
    /// Dense subject id (see [`Gallery::subject_name`]).
    pub subject: u32,
    /// Finger position of the gallery template that gave the score (0 = unknown).
    pub finger: u8,
    /// Index of that template in the gallery.
    pub entry: u32,
    /// Matcher score in [0, 1].
    pub score: f32,
    /// 1-based rank in the candidate list.
    pub rank: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    subject: u32,
    finger: u8,
}

/// A searchable collection of fingerprint templates of many subjects; `Send + Sync`, share it with `Arc`.
#[derive(Debug, Clone)]
pub struct Gallery {
    matcher: Arc<Matcher>,
    subjects: Vec<String>,
    subject_index: HashMap<String, u32>,
    entries: Vec<Entry>,
    templates: Vec<Template>,
    prepared: Vec<PreparedTemplate>,
    lsh_params: LshParams,
    /// The hashing pre-filter's tables, built by the first search that uses them: a gallery searched by the
    /// cylinder scan or exhaustively never pays their build time or memory (about 4 kB per template).
    lsh: OnceLock<CylinderIndex>,
}

impl Default for Gallery {
    fn default() -> Self {
        Gallery::new(LshParams::default()).unwrap_or_else(|_| unreachable!("the default parameters are valid"))
    }
}

impl Gallery {
    /// An empty gallery with the default matcher and the given hashing parameters (checked).
    pub fn new(lsh: LshParams) -> MatchResult<Self> {
        lsh.check()?;
        Ok(Gallery {
            matcher: Arc::new(Matcher::default()),
            subjects: Vec::new(),
            subject_index: HashMap::new(),
            entries: Vec::new(),
            templates: Vec::new(),
            prepared: Vec::new(),
            lsh_params: lsh,
            lsh: OnceLock::new(),
        })
    }

    /// Number of templates.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no template has been added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of distinct subjects.
    pub fn subject_count(&self) -> usize {
        self.subjects.len()
    }

    /// The subject id given to [`Gallery::add`] for a dense id of a hit.
    pub fn subject_name(&self, subject: u32) -> Option<&str> {
        self.subjects.get(subject as usize).map(String::as_str)
    }

    /// The matcher the gallery compares with (use it to prepare probes).
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Adds one template of a subject; `finger` is the ISO finger position (0 unknown, 1–10).
    pub fn add(&mut self, subject: &str, finger: u8, template: Template) -> MatchResult<u32> {
        self.add_many(vec![(subject.to_owned(), finger, template)]).map(|first| first.unwrap_or(0))
    }

    /// Adds many templates, preparing them in parallel; returns the index of the first one added.
    pub fn add_many(&mut self, items: Vec<(String, u8, Template)>) -> MatchResult<Option<u32>> {
        for (subject, finger, template) in &items {
            if *finger > 10 {
                return Err(MatchError::invalid(format!("finger position {finger} is not 0 (unknown) or 1–10")));
            }
            if subject.is_empty() {
                return Err(MatchError::invalid("subject id is empty"));
            }
            if template.minutiae.len() > MAX_MINUTIAE {
                return Err(MatchError::invalid("template has more minutiae than the formats allow"));
            }
        }
        if (self.entries.len() + items.len()) as u64 >= MAX_COUNT {
            return Err(MatchError::invalid("a gallery holds at most 2^32 − 1 templates"));
        }
        let prepared: Vec<PreparedTemplate> = items.par_iter().map(|(_, _, t)| self.matcher.prepare(t)).collect();
        if let Some(index) = self.lsh.get_mut() {
            index.extend(&prepared)?;
        }
        let first = (!items.is_empty()).then_some(self.entries.len() as u32);
        for ((subject, finger, template), p) in items.into_iter().zip(prepared) {
            let next = self.subjects.len() as u32;
            let sid = *self.subject_index.entry(subject.clone()).or_insert(next);
            if sid == next {
                self.subjects.push(subject);
            }
            self.entries.push(Entry { subject: sid, finger });
            self.templates.push(template);
            self.prepared.push(p);
        }
        Ok(first)
    }

    /// Searches one probe (runs the full comparisons in parallel).
    pub fn search(&self, probe: &Template, options: &SearchOptions) -> MatchResult<Vec<GalleryHit>> {
        self.search_prepared(&self.matcher.prepare(probe), options, true)
    }

    /// Searches many probes in parallel; result `i` belongs to probe `i`.
    pub fn search_many(&self, probes: &[Template], options: &SearchOptions) -> MatchResult<Vec<Vec<GalleryHit>>> {
        check(options)?;
        if self.uses_hashing(options) {
            // Built once here, not by each probe's thread.
            self.hash_index()?;
        }
        probes.par_iter().map(|p| self.search_prepared(&self.matcher.prepare(p), options, false)).collect()
    }

    /// The pre-filter's score of every template for this probe (higher = more likely a mate), by template index.
    /// Builds the hashing tables on first use; an error when the gallery has more templates than they address.
    pub fn prefilter_scores(&self, probe: &PreparedTemplate) -> MatchResult<Vec<f32>> {
        let index = self.hash_index()?;
        Ok(PREFILTER_SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => index.scores(probe, &mut scratch),
            // Only if re-entered on one thread; stay correct, just allocate.
            Err(_) => index.scores(probe, &mut VoteScratch::default()),
        }))
    }

    /// The hashing pre-filter's tables over every template, built on the first call (deterministic: the same
    /// tables whichever thread builds them).
    pub fn hash_index(&self) -> MatchResult<&CylinderIndex> {
        if let Some(index) = self.lsh.get() {
            return Ok(index);
        }
        let mut index = CylinderIndex::new(self.lsh_params, &self.matcher)?;
        index.extend(&self.prepared)?;
        Ok(self.lsh.get_or_init(|| index))
    }

    fn uses_hashing(&self, options: &SearchOptions) -> bool {
        !options.exhaustive && options.prefilter == Prefilter::Hashing && self.candidate_count(options) < self.len()
    }

    fn candidate_count(&self, options: &SearchOptions) -> usize {
        let n = self.entries.len();
        options.min_candidates.max((options.penetration.clamp(0.0, 1.0) * n as f32).ceil() as usize).min(n)
    }

    /// The cylinder-scan score of every template for this probe (see [`CylinderScan`]), by template index.
    pub fn scan_scores(&self, probe: &PreparedTemplate, probe_cylinders: usize) -> Vec<f32> {
        CylinderScan::new(probe, probe_cylinders, &self.matcher).scores(&self.prepared)
    }

    /// The templates that get a full comparison for this probe, ascending; all of them when exhaustive.
    pub fn candidates(&self, probe: &PreparedTemplate, options: &SearchOptions) -> MatchResult<Vec<u32>> {
        let (n, wanted) = (self.entries.len(), self.candidate_count(options));
        if options.exhaustive || wanted >= n {
            return Ok((0..n as u32).collect());
        }
        let scores = match options.prefilter {
            Prefilter::Hashing => self.prefilter_scores(probe)?,
            Prefilter::CylinderScan { probe_cylinders } => self.scan_scores(probe, usize::from(probe_cylinders)),
        };
        Ok(top_candidates(&scores, wanted))
    }

    /// Searches with an already prepared probe.
    pub fn search_prepared(
        &self,
        probe: &PreparedTemplate,
        options: &SearchOptions,
        parallel: bool,
    ) -> MatchResult<Vec<GalleryHit>> {
        check(options)?;
        if options.top_k == 0 || self.entries.is_empty() {
            return Ok(Vec::new());
        }
        let candidates = self.candidates(probe, options)?;
        let score = |&id: &u32| (id, self.matcher.compare(probe, &self.prepared[id as usize]));
        let scored: Vec<(u32, f32)> = if parallel && candidates.len() > 64 {
            candidates.par_iter().map(score).collect()
        } else {
            candidates.iter().map(score).collect()
        };
        // Max-rule fusion: one row per subject, its best finger (lowest entry index among equal scores).
        let mut best: HashMap<u32, (f32, u32)> = HashMap::new();
        for (id, s) in scored {
            if options.threshold.is_some_and(|t| s < t) {
                continue;
            }
            let subject = self.entries[id as usize].subject;
            let slot = best.entry(subject).or_insert((s, id));
            // Candidates come in ascending index order, so on equal scores the first (lowest) index stays.
            if s > slot.0 {
                *slot = (s, id);
            }
        }
        let mut rows: Vec<(u32, f32, u32)> = best.into_iter().map(|(subject, (s, id))| (subject, s, id)).collect();
        rows.sort_by(|a, b| {
            b.1.total_cmp(&a.1).then_with(|| self.subjects[a.0 as usize].cmp(&self.subjects[b.0 as usize]))
        });
        rows.truncate(options.top_k);
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(r, (subject, score, entry))| GalleryHit {
                subject,
                finger: self.entries[entry as usize].finger,
                entry,
                score,
                rank: r as u32 + 1,
            })
            .collect())
    }

    /// The saved form (see the module doc for the layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(64 + self.templates.len() * 300);
        let p = self.lsh_params;
        put_u64(&mut payload, p.functions as u64);
        put_u64(&mut payload, p.bits as u64);
        put_u64(&mut payload, p.seed);
        put_u64(&mut payload, p.rotation_bins as u64);
        put_u64(&mut payload, self.subjects.len() as u64);
        for s in &self.subjects {
            put_u64(&mut payload, s.len() as u64);
            payload.extend_from_slice(s.as_bytes());
        }
        put_u64(&mut payload, self.entries.len() as u64);
        for (e, t) in self.entries.iter().zip(&self.templates) {
            payload.extend_from_slice(&e.subject.to_le_bytes());
            payload.push(e.finger);
            payload.push(t.finger.0);
            payload.extend_from_slice(&t.width.to_le_bytes());
            payload.extend_from_slice(&t.height.to_le_bytes());
            payload.extend_from_slice(&t.resolution_x_ppi.to_le_bytes());
            payload.extend_from_slice(&t.resolution_y_ppi.to_le_bytes());
            payload.push(t.view_quality);
            payload.push(t.impression);
            payload.push(t.minutiae.len() as u8);
            for m in &t.minutiae {
                payload.extend_from_slice(&m.x.to_le_bytes());
                payload.extend_from_slice(&m.y.to_le_bytes());
                payload.extend_from_slice(&m.angle.to_le_bytes());
                payload.push(m.kind.code());
                payload.push(m.quality);
            }
        }
        let version = crate::VERSION.as_bytes();
        let mut out = Vec::with_capacity(payload.len() + 32 + version.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(version.len() as u8);
        out.extend_from_slice(version);
        put_u64(&mut out, payload.len() as u64);
        out.extend_from_slice(&crc32(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Reads a saved gallery; a truncated, corrupted or foreign file is an [`MatchError::IndexFile`] error.
    pub fn from_bytes(data: &[u8]) -> MatchResult<Self> {
        let mut rd = Reader { data, pos: 0 };
        if rd.take(8)? != MAGIC {
            return Err(MatchError::IndexFile("not a cgi-match fingerprint gallery (bad magic)".into()));
        }
        let version = u32::from_le_bytes(rd.array()?);
        if version != FORMAT_VERSION && version != 1 {
            return Err(MatchError::IndexFile(format!(
                "gallery format version {version}; this build reads version {FORMAT_VERSION}"
            )));
        }
        let vlen = rd.take(1)?[0] as usize;
        rd.take(vlen)?;
        let len = rd.u64()?;
        let crc = u32::from_le_bytes(rd.array()?);
        let payload = rd.take(usize::try_from(len).map_err(|_| MatchError::IndexFile("payload too long".into()))?)?;
        if rd.pos != data.len() {
            return Err(MatchError::IndexFile(format!("{} bytes after the payload", data.len() - rd.pos)));
        }
        if crc32(payload) != crc {
            return Err(MatchError::IndexFile("checksum mismatch: the file is corrupted".into()));
        }
        let mut rd = Reader { data: payload, pos: 0 };
        let functions = rd.count(1 << 10)?;
        let bits = rd.count(24)?;
        let seed = rd.u64()?;
        // Version 1 had no rotation sectors (plain template votes); its files load with one sector.
        let rotation_bins = if version == 1 { 1 } else { rd.count(16)? };
        let mut gallery = Gallery::new(LshParams { functions, bits, seed, rotation_bins })
            .map_err(|e| MatchError::IndexFile(format!("hashing parameters: {e}")))?;
        let subjects = rd.count(payload.len())?;
        let mut names = Vec::with_capacity(subjects);
        for _ in 0..subjects {
            let n = rd.count(payload.len())?;
            let name = std::str::from_utf8(rd.take(n)?)
                .map_err(|_| MatchError::IndexFile("subject id is not UTF-8".into()))?
                .to_owned();
            names.push(name);
        }
        let entries = rd.count(payload.len() / 20 + 1)?;
        let mut items = Vec::with_capacity(entries);
        for _ in 0..entries {
            let subject = u32::from_le_bytes(rd.array()?);
            let name = names
                .get(subject as usize)
                .ok_or_else(|| MatchError::IndexFile(format!("template refers to subject {subject} of {subjects}")))?;
            let finger = rd.take(1)?[0];
            let mut t = Template { finger: FingerPosition(rd.take(1)?[0].min(15)), ..Template::default() };
            t.width = u16::from_le_bytes(rd.array()?);
            t.height = u16::from_le_bytes(rd.array()?);
            t.resolution_x_ppi = f32::from_le_bytes(rd.array()?);
            t.resolution_y_ppi = f32::from_le_bytes(rd.array()?);
            t.view_quality = rd.take(1)?[0];
            t.impression = rd.take(1)?[0];
            let n = rd.take(1)?[0] as usize;
            for _ in 0..n {
                let x = f32::from_le_bytes(rd.array()?);
                let y = f32::from_le_bytes(rd.array()?);
                let angle = f32::from_le_bytes(rd.array()?);
                let kind = MinutiaKind::from_code(rd.take(1)?[0]);
                let quality = rd.take(1)?[0];
                if !(x.is_finite() && y.is_finite() && angle.is_finite()) {
                    return Err(MatchError::IndexFile("a minutia has a non-finite coordinate".into()));
                }
                t.minutiae.push(Minutia { x, y, angle, kind, quality });
            }
            items.push((name.clone(), finger.min(10), t));
        }
        if rd.pos != payload.len() {
            return Err(MatchError::IndexFile("payload longer than its declared content".into()));
        }
        gallery.add_many(items).map_err(|e| MatchError::IndexFile(e.to_string()))?;
        // Subjects without templates cannot exist in a file we wrote; keep their order anyway.
        for name in names {
            if !gallery.subject_index.contains_key(&name) {
                gallery.subject_index.insert(name.clone(), gallery.subjects.len() as u32);
                gallery.subjects.push(name);
            }
        }
        Ok(gallery)
    }

    /// Writes [`Gallery::to_bytes`] to a file (through a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> MatchResult<()> {
        let io = |source| MatchError::Io { path: path.display().to_string(), source };
        let tmp = path.with_extension("tmp-cgi-match");
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a file written by [`Gallery::save`].
    pub fn load(path: &Path) -> MatchResult<Self> {
        let data = std::fs::read(path).map_err(|source| MatchError::Io { path: path.display().to_string(), source })?;
        Gallery::from_bytes(&data).map_err(|e| match e {
            MatchError::IndexFile(m) => MatchError::IndexFile(format!("{}: {m}", path.display())),
            other => other,
        })
    }
}

fn check(options: &SearchOptions) -> MatchResult<()> {
    if !(options.penetration.is_finite() && (0.0..=1.0).contains(&options.penetration)) {
        return Err(MatchError::invalid("penetration must lie in [0, 1]"));
    }
    if let Prefilter::CylinderScan { probe_cylinders } = options.prefilter {
        if !(1..=SCAN_MAX_PROBE_CYLINDERS).contains(&usize::from(probe_cylinders)) {
            return Err(MatchError::invalid(format!(
                "the cylinder scan compares 1–{SCAN_MAX_PROBE_CYLINDERS} probe cylinders"
            )));
        }
    }
    if options.threshold.is_some_and(|t| !t.is_finite()) {
        return Err(MatchError::invalid("threshold must be a finite number"));
    }
    Ok(())
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> MatchResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(|| {
            MatchError::IndexFile(format!("file is truncated at byte {} (needs {n} more bytes)", self.pos))
        })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> MatchResult<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u64(&mut self) -> MatchResult<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A count that must not exceed `limit` (it sizes allocations, so a corrupt value must not).
    fn count(&mut self, limit: usize) -> MatchResult<usize> {
        let at = self.pos;
        let v = self.u64()?;
        if v > limit as u64 {
            return Err(MatchError::IndexFile(format!("count {v} at byte {at} exceeds its limit {limit}")));
        }
        Ok(v as usize)
    }
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bitwise: a file is checked once per load.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finger::synth::{dataset, ImpressionParams, SynthParams};

    fn synthetic(subjects: u32, impressions: u16) -> Vec<crate::finger::synth::SynthRecord> {
        dataset(7, subjects, 2, impressions, &SynthParams::default(), &ImpressionParams::default())
    }

    fn gallery(records: &[crate::finger::synth::SynthRecord]) -> Gallery {
        let mut g = Gallery::default();
        let items = records
            .iter()
            .filter(|r| r.impression == 0)
            .map(|r| (format!("S{:04}", r.subject), r.finger, r.template.clone()))
            .collect();
        g.add_many(items).unwrap();
        g
    }

    /// Exhaustive reference: every template scored, max per subject, ordered by score then subject id.
    fn brute_force(g: &Gallery, probe: &Template, top_k: usize) -> Vec<(String, f32)> {
        let all: Vec<u32> = (0..g.templates.len() as u32).collect();
        brute_force_over(g, probe, &all, top_k)
    }

    #[test]
    fn exhaustive_top_k_equals_brute_force() {
        let records = synthetic(12, 2);
        let g = gallery(&records);
        let options = SearchOptions { top_k: 5, exhaustive: true, ..SearchOptions::default() };
        for r in records.iter().filter(|r| r.impression == 1) {
            let hits = g.search(&r.template, &options).unwrap();
            let got: Vec<(String, f32)> =
                hits.iter().map(|h| (g.subject_name(h.subject).unwrap().to_owned(), h.score)).collect();
            assert_eq!(got, brute_force(&g, &r.template, 5));
            assert!(hits.iter().enumerate().all(|(i, h)| h.rank == i as u32 + 1));
        }
    }

    #[test]
    fn pre_filtered_search_is_deterministic_and_finds_the_mate() {
        let records = synthetic(40, 2);
        let g = gallery(&records);
        let options =
            SearchOptions { exhaustive: false, min_candidates: 8, penetration: 0.25, ..SearchOptions::default() };
        let probes: Vec<Template> = records.iter().filter(|r| r.impression == 1).map(|r| r.template.clone()).collect();
        let many = g.search_many(&probes, &options).unwrap();
        let mut found = 0;
        for ((probe, hits), r) in probes.iter().zip(&many).zip(records.iter().filter(|r| r.impression == 1)) {
            assert_eq!(&g.search(probe, &options).unwrap(), hits);
            found += usize::from(
                hits.first().is_some_and(|h| g.subject_name(h.subject) == Some(&format!("S{:04}", r.subject))),
            );
        }
        // At 25 % penetration chance alone keeps a quarter of the mates; the pre-filter must do clearly better.
        assert!(found * 2 >= probes.len(), "rank-1 {found} of {}", probes.len());
    }

    /// Reference for a pre-filtered search: every candidate scored in full, max per subject, ordered by score
    /// then subject id.
    fn brute_force_over(g: &Gallery, probe: &Template, candidates: &[u32], top_k: usize) -> Vec<(String, f32)> {
        let p = g.matcher().prepare(probe);
        let mut best: HashMap<String, f32> = HashMap::new();
        for &id in candidates {
            let s = g.matcher().compare(&p, &g.matcher().prepare(&g.templates[id as usize]));
            let name = g.subjects[g.entries[id as usize].subject as usize].clone();
            let e = best.entry(name).or_insert(s);
            *e = e.max(s);
        }
        let mut rows: Vec<_> = best.into_iter().collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        rows.truncate(top_k);
        rows
    }

    #[test]
    fn pre_filtered_top_k_is_the_exhaustive_search_over_the_candidates() {
        let records = synthetic(40, 2);
        let g = gallery(&records);
        for prefilter in [Prefilter::Hashing, Prefilter::CylinderScan { probe_cylinders: 32 }] {
            let options = SearchOptions {
                top_k: 5,
                exhaustive: false,
                min_candidates: 8,
                penetration: 0.2,
                prefilter,
                ..SearchOptions::default()
            };
            for r in records.iter().filter(|r| r.impression == 1).take(20) {
                let prepared = g.matcher().prepare(&r.template);
                let candidates = g.candidates(&prepared, &options).unwrap();
                assert_eq!(candidates.len(), 16, "20 % of 80 templates");
                assert!(candidates.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
                let hits = g.search(&r.template, &options).unwrap();
                assert!(hits.iter().all(|h| candidates.binary_search(&h.entry).is_ok()), "top-k ⊆ candidates");
                let got: Vec<(String, f32)> =
                    hits.iter().map(|h| (g.subject_name(h.subject).unwrap().to_owned(), h.score)).collect();
                assert_eq!(got, brute_force_over(&g, &r.template, &candidates, 5), "{prefilter:?}");
            }
        }
    }

    #[test]
    fn cylinder_scan_candidates_are_the_top_scan_scores() {
        let records = synthetic(30, 2);
        let g = gallery(&records);
        let options = SearchOptions {
            exhaustive: false,
            min_candidates: 5,
            penetration: 0.05,
            prefilter: Prefilter::CylinderScan { probe_cylinders: 12 },
            ..SearchOptions::default()
        };
        let mut mates = 0;
        for r in records.iter().filter(|r| r.impression == 1) {
            let prepared = g.matcher().prepare(&r.template);
            let scores = g.scan_scores(&prepared, 12);
            // Reference: a full sort of the scan scores, then index.
            let mut order: Vec<u32> = (0..scores.len() as u32).collect();
            order.sort_by(|&a, &b| scores[b as usize].total_cmp(&scores[a as usize]).then(a.cmp(&b)));
            order.truncate(5);
            order.sort_unstable();
            let candidates = g.candidates(&prepared, &options).unwrap();
            assert_eq!(candidates, order);
            let mate = format!("S{:04}", r.subject);
            mates +=
                usize::from(candidates.iter().any(|&c| g.subject_name(g.entries[c as usize].subject) == Some(&mate)));
        }
        // 5 of 60 templates by chance would keep about one mate in twelve.
        assert!(mates * 2 >= records.len() / 2, "mate among the candidates for {mates} probes");
        let bad = SearchOptions { prefilter: Prefilter::CylinderScan { probe_cylinders: 0 }, ..options };
        assert!(g.search(&records[1].template, &bad).is_err());
    }

    #[test]
    fn pre_filter_does_not_depend_on_thread_count_or_insertion_batches() {
        let records = synthetic(30, 2);
        let g = gallery(&records);
        // The same templates added one batch per subject, in a one-thread pool.
        let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let g1 = single.install(|| {
            let mut g1 = Gallery::default();
            for chunk in records.iter().filter(|r| r.impression == 0).collect::<Vec<_>>().chunks(2) {
                let items =
                    chunk.iter().map(|r| (format!("S{:04}", r.subject), r.finger, r.template.clone())).collect();
                g1.add_many(items).unwrap();
            }
            g1
        });
        assert_eq!(g1.to_bytes(), g.to_bytes());
        let options =
            SearchOptions { exhaustive: false, min_candidates: 4, penetration: 0.1, ..SearchOptions::default() };
        let probes: Vec<Template> = records.iter().filter(|r| r.impression == 1).map(|r| r.template.clone()).collect();
        let many = g.search_many(&probes, &options).unwrap();
        let many1 = single.install(|| g1.search_many(&probes, &options).unwrap());
        assert_eq!(many, many1);
        for p in &probes {
            let (a, b) = (g.matcher().prepare(p), g1.matcher().prepare(p));
            assert_eq!(g.prefilter_scores(&a).unwrap(), g1.prefilter_scores(&b).unwrap());
            let scan = g.scan_scores(&a, 32);
            assert_eq!(scan, single.install(|| g1.scan_scores(&b, 32)));
        }
        let scan = SearchOptions { prefilter: Prefilter::CylinderScan { probe_cylinders: 16 }, ..options };
        assert_eq!(g.search_many(&probes, &scan).unwrap(), single.install(|| g1.search_many(&probes, &scan).unwrap()));
    }

    #[test]
    fn hashing_tables_are_built_on_first_use_and_follow_later_additions() {
        let records = synthetic(20, 2);
        let enrol: Vec<_> = records
            .iter()
            .filter(|r| r.impression == 0)
            .map(|r| (format!("S{:04}", r.subject), r.finger, r.template.clone()))
            .collect();
        let mut g = Gallery::default();
        g.add_many(enrol[..15].to_vec()).unwrap();
        let probe = g.matcher().prepare(&records[1].template);
        let scan = SearchOptions {
            exhaustive: false,
            min_candidates: 2,
            penetration: 0.1,
            prefilter: Prefilter::CylinderScan { probe_cylinders: 32 },
            ..SearchOptions::default()
        };
        g.search(&records[1].template, &scan).unwrap();
        g.search(&records[1].template, &SearchOptions { exhaustive: true, ..scan }).unwrap();
        assert!(g.lsh.get().is_none(), "scan and exhaustive searches do not build the hashing tables");
        g.search(&records[1].template, &SearchOptions { prefilter: Prefilter::Hashing, ..scan }).unwrap();
        assert!(g.lsh.get().is_some(), "a hashing search does");
        // Templates added after the tables exist are indexed too: the same scores as tables built in one go.
        g.add_many(enrol[15..].to_vec()).unwrap();
        let whole = gallery(&records);
        assert_eq!(g.prefilter_scores(&probe).unwrap(), whole.prefilter_scores(&probe).unwrap());
        assert_eq!(g.to_bytes(), whole.to_bytes());
    }

    #[test]
    fn threshold_and_top_k_limit_the_list() {
        let records = synthetic(6, 2);
        let g = gallery(&records);
        let probe = &records[1].template;
        let all = g.search(probe, &SearchOptions { top_k: 100, ..SearchOptions::default() }).unwrap();
        assert_eq!(all.len(), 6);
        let t = all[2].score;
        let some = g.search(probe, &SearchOptions { top_k: 100, threshold: Some(t), ..SearchOptions::default() });
        assert!(some.unwrap().iter().all(|h| h.score >= t));
        assert_eq!(g.search(probe, &SearchOptions { top_k: 2, ..SearchOptions::default() }).unwrap().len(), 2);
        assert!(g.search(probe, &SearchOptions { penetration: 2.0, ..SearchOptions::default() }).is_err());
    }

    #[test]
    fn saves_and_loads_and_detects_corruption() {
        let records = synthetic(5, 2);
        let g = gallery(&records);
        let bytes = g.to_bytes();
        let back = Gallery::from_bytes(&bytes).unwrap();
        assert_eq!(back.len(), g.len());
        assert_eq!(back.to_bytes(), bytes);
        let probe = &records[1].template;
        assert_eq!(
            back.search(probe, &SearchOptions::default()).unwrap(),
            g.search(probe, &SearchOptions::default()).unwrap()
        );
        for n in [0, 7, 20, bytes.len() - 1] {
            assert!(matches!(Gallery::from_bytes(&bytes[..n]), Err(MatchError::IndexFile(_))), "prefix {n}");
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x40;
        let err = Gallery::from_bytes(&flipped).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        let mut foreign = bytes;
        foreign[0] = b'X';
        assert!(matches!(Gallery::from_bytes(&foreign), Err(MatchError::IndexFile(_))));
    }

    #[test]
    fn rejects_bad_entries() {
        let mut g = Gallery::default();
        assert!(g.add("a", 11, Template::default()).is_err());
        assert!(g.add("", 1, Template::default()).is_err());
        assert!(g.is_empty());
    }

    #[test]
    fn crc32_of_the_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
