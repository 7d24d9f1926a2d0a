//! The DNA index: profiles in the compact layout (see `profile.rs`), a genotype hash for identical
//! profiles, and the searches (rule-based 1:N / N:M, familial) — parallel with rayon and deterministic.
//!
//! A search runs in two steps. The *scan* reads each 64-byte row once and, per probe, counts the loci that
//! certainly fail the rule (allele-code ranges compared lane by lane, written so the compiler vectorises
//! it); that count is a lower bound of the mismatching alleles, and an upper bound of the matching loci
//! follows from the same lanes, so a row that cannot be a hit is dropped without decoding. The few rows
//! left are decoded and compared exactly with `rules::compare`, the single definition of a hit.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use rayon::prelude::*;

use crate::columns::{StrColumn, StrColumnBuilder};
use crate::error::{MatchError, MatchResult};

use super::allele::{Allele, PrumValue};
use super::kinship::{self, Relationship};
use super::loci::{self, LocusId, SLOT_LOCI};
use super::profile::{
    decode_row, encode_row, AlleleCodes, Extension, Profile, ALLELE_BYTES, CODE_EXTENDED, CODE_UNTYPED, FIRST_CODE,
    FLAG_EXTENDED, ROW_BYTES,
};
use super::rules::{self, MatchClass, MatchRules, Stringency};
use super::stats::{self, AlleleFrequencies};

/// Rows per parallel task: 4096 rows = 256 KiB, about one L2 cache.
const CHUNK_ROWS: usize = 4096;
/// Rows scanned against every probe of a batch while they sit in L1 (128 rows = 8 KiB).
const BLOCK_ROWS: usize = 128;

/// Magic bytes of a saved DNA index.
pub const MAGIC: &[u8; 8] = b"CGIMDNA\0";
/// Version of the saved layout; bumped on any change.
pub const FORMAT_VERSION: u32 = 1;
/// Largest index file accepted (64 GiB), so a corrupted length cannot ask for absurd allocations.
const MAX_FILE_BYTES: u64 = 64 << 30;

/// One rule-based hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position of the probe in the probe list.
    pub probe: u32,
    /// Row of the matching profile in the index.
    pub row: u32,
    /// Full, partial or near.
    pub class: MatchClass,
    /// The counts behind the class.
    pub comparison: rules::Comparison,
    /// Random match probability over the matched loci (with frequencies).
    pub rmp: Option<f64>,
    /// Likelihood ratio 1/RMP (full matches with frequencies only).
    pub lr: Option<f64>,
}

/// One familial-search candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KinshipHit {
    /// Position of the probe in the probe list.
    pub probe: u32,
    /// Row of the candidate in the index.
    pub row: u32,
    /// Product of the per-locus kinship indices.
    pub kinship_index: f64,
    /// Loci that entered the product.
    pub loci_used: u32,
    /// 1-based rank within the probe.
    pub rank: u32,
}

/// An immutable, `Send + Sync` index of DNA profiles; share it with `Arc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnaIndex {
    ids: StrColumnBuilder,
    codes: AlleleCodes,
    rows: Vec<u8>,
    ext: Extension,
    identical: HashMap<u64, Vec<u32>>,
}

/// Per-probe constants of the scan.
struct ProbeFilter {
    lo: [[u8; ALLELE_BYTES]; 2],
    width: [[u8; ALLELE_BYTES]; 2],
    /// Codes that match anything under the rule (Prüm: off-ladder designations), as a range per byte.
    free_lo: [u8; ALLELE_BYTES],
    free_width: [u8; ALLELE_BYTES],
    /// 0xFFFF where the probe is typed at the slot and the rules compare it.
    typed: [u16; SLOT_LOCI],
    /// 0xFFFF where the probe's genotype matches anything the scan could see (wildcard, mixture).
    any: [u16; SLOT_LOCI],
}

fn genotype_key(row: &[u8], ext: &Extension) -> u64 {
    // DefaultHasher::new() has fixed keys: the same genotype hashes the same in every process.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    row[..ALLELE_BYTES].hash(&mut h);
    let first = u32::from_le_bytes([row[52], row[53], row[54], row[55]]) as usize;
    let count = usize::from(u16::from_le_bytes([row[56], row[57]]));
    for i in first..first + count {
        if let Some((locus, alleles)) = ext.entry(i) {
            locus.hash(&mut h);
            let mut sorted = alleles.to_vec();
            sorted.sort_unstable();
            sorted.hash(&mut h);
        }
    }
    h.finish()
}

fn str_loci_equal(a: &Profile, b: &Profile) -> bool {
    let strs = |p: &Profile| {
        p.loci
            .iter()
            .filter(|t| t.locus != loci::AMELOGENIN)
            .map(|t| {
                let mut v = t.alleles.clone();
                v.sort_unstable();
                (t.locus, v)
            })
            .collect::<Vec<_>>()
    };
    strs(a) == strs(b)
}

impl DnaIndex {
    /// Builds the index from profiles and their ids (ids must be unique).
    pub fn build(ids: &[String], profiles: &[Profile]) -> MatchResult<DnaIndex> {
        if ids.len() != profiles.len() {
            return Err(MatchError::invalid("ids and profiles differ in length"));
        }
        if u32::try_from(ids.len()).is_err() {
            return Err(MatchError::invalid("a DNA index holds at most 4 294 967 295 profiles"));
        }
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        for id in ids {
            if !seen.insert(id.as_str()) {
                return Err(MatchError::invalid(format!("profile id '{id}' appears twice")));
            }
        }
        let codes = AlleleCodes::build(profiles.iter());
        let mut ext = Extension::new();
        let mut rows = Vec::with_capacity(profiles.len() * ROW_BYTES);
        let mut id_col = StrColumnBuilder::with_capacity(ids.len(), ids.iter().map(String::len).sum());
        for (id, p) in ids.iter().zip(profiles) {
            rows.extend_from_slice(&encode_row(p, &codes, &mut ext)?);
            id_col.push(Some(id));
        }
        Ok(DnaIndex::assemble(id_col, codes, rows, ext))
    }

    fn assemble(ids: StrColumnBuilder, codes: AlleleCodes, rows: Vec<u8>, ext: Extension) -> DnaIndex {
        let mut identical: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, row) in rows.chunks_exact(ROW_BYTES).enumerate() {
            identical.entry(genotype_key(row, &ext)).or_default().push(i as u32);
        }
        DnaIndex { ids, codes, rows, ext, identical }
    }

    /// Number of profiles.
    pub fn len(&self) -> usize {
        self.rows.len() / ROW_BYTES
    }

    /// True when the index holds no profile.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Id of the profile in `row` (empty for a row past the end).
    pub fn id(&self, row: usize) -> &str {
        let (Some(&s), Some(&e)) = (self.ids.offsets.get(row), self.ids.offsets.get(row + 1)) else {
            return "";
        };
        self.ids.data.get(s as usize..e as usize).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }

    /// The profile ids as an owned Arrow-layout column (for results).
    pub fn ids(&self) -> &StrColumnBuilder {
        &self.ids
    }

    /// The stored profile of a row (decoded from the compact layout).
    pub fn profile(&self, row: usize) -> Option<Profile> {
        decode_row(self.rows.get(row * ROW_BYTES..(row + 1) * ROW_BYTES)?, &self.codes, &self.ext)
    }

    /// Bytes of the scanned layout (rows only), for bandwidth figures.
    pub fn scan_bytes(&self) -> usize {
        self.rows.len()
    }

    fn probe_filter(&self, probe: &Profile, rules: &MatchRules) -> ProbeFilter {
        let mut f = ProbeFilter {
            lo: [[0; ALLELE_BYTES]; 2],
            width: [[0; ALLELE_BYTES]; 2],
            typed: [0; SLOT_LOCI],
            any: [0; SLOT_LOCI],
            free_lo: [0; ALLELE_BYTES],
            free_width: [0; ALLELE_BYTES],
        };
        if rules.stringency == Stringency::Prum {
            // Off-ladder designations are wildcards under Prüm; they sort last, as one code range.
            for slot in 0..SLOT_LOCI {
                if let Some((lo, hi)) = self.codes.prum_range(slot as LocusId, PrumValue::Any) {
                    for byte in [2 * slot, 2 * slot + 1] {
                        f.free_lo[byte] = lo;
                        f.free_width[byte] = hi - lo;
                    }
                }
            }
        }
        for t in &probe.loci {
            let slot = usize::from(t.locus);
            if slot >= SLOT_LOCI || !rules.compares(t.locus) {
                continue;
            }
            f.typed[slot] = 0xFFFF;
            let prum = rules.stringency == Stringency::Prum;
            let anything = t.alleles.len() > 2
                || t.alleles.iter().any(|a| a.is_wildcard() || (prum && a.prum_value(t.locus) == PrumValue::Any));
            if anything {
                f.any[slot] = 0xFFFF;
                continue;
            }
            for (k, a) in [t.alleles[0], *t.alleles.last().unwrap_or(&t.alleles[0])].into_iter().enumerate() {
                let range = if prum {
                    self.codes.prum_range(t.locus, a.prum_value(t.locus))
                } else {
                    self.codes.code(t.locus, a).map(|c| (c, c))
                };
                // No stored designation in range: (0, 0) only matches the untyped code, which never counts.
                let (lo, hi) = range.unwrap_or((0, 0));
                for byte in [2 * slot, 2 * slot + 1] {
                    f.lo[k][byte] = lo;
                    f.width[k][byte] = hi - lo;
                }
            }
        }
        f
    }

    /// The scan test: could `row` be a hit for this probe? Never false for a real hit (see module doc).
    #[inline]
    fn candidate<const S: u8>(row: &[u8], f: &ProbeFilter, max_fail: u32, min_loci: u32) -> bool {
        let row: &[u8; ROW_BYTES] = match row.try_into() {
            Ok(r) => r,
            Err(_) => return false,
        };
        let mut a0 = [0_u8; ALLELE_BYTES];
        let mut a1 = [0_u8; ALLELE_BYTES];
        for j in 0..ALLELE_BYTES {
            let r = row[j];
            // Codes 1 (wildcard) and 2 (in the extension) may match anything.
            let free =
                u8::from(r.wrapping_sub(1) <= 1 || r.wrapping_sub(f.free_lo[j]) <= f.free_width[j]).wrapping_neg();
            a0[j] = u8::from(r.wrapping_sub(f.lo[0][j]) <= f.width[0][j]).wrapping_neg() | free;
            a1[j] = u8::from(r.wrapping_sub(f.lo[1][j]) <= f.width[1][j]).wrapping_neg() | free;
        }
        let mut fails = 0_u32;
        let mut good_lanes = 0_u32;
        for i in 0..SLOT_LOCI {
            let r = u16::from_le_bytes([row[2 * i], row[2 * i + 1]]);
            let x0 = u16::from_le_bytes([a0[2 * i], a0[2 * i + 1]]);
            let x1 = u16::from_le_bytes([a1[2 * i], a1[2 * i + 1]]);
            let covered = x0 | x1;
            let ok = match S {
                // Prüm and CODIS high: every allele of each side found on the other.
                0 | 1 => covered == 0xFFFF && x0 != 0 && x1 != 0,
                // CODIS moderate: one side contained in the other.
                2 => covered == 0xFFFF || (x0 != 0 && x1 != 0),
                // CODIS low: one shared allele.
                _ => covered != 0,
            } || f.any[i] != 0;
            let compared = r != 0 && f.typed[i] != 0;
            fails += u32::from(compared && !ok);
            good_lanes += u32::from(compared && ok);
        }
        let ext_count = u32::from(u16::from_le_bytes([row[56], row[57]]));
        fails <= max_fail && good_lanes + ext_count >= min_loci
    }

    fn scan_chunk<const S: u8>(
        first_row: usize,
        chunk: &[u8],
        filters: &[ProbeFilter],
        rules: &MatchRules,
        out: &mut Vec<(u32, u32)>,
    ) {
        let max_fail = rules.max_mismatches;
        for (b, block) in chunk.chunks(BLOCK_ROWS * ROW_BYTES).enumerate() {
            for (p, f) in filters.iter().enumerate() {
                for (k, row) in block.chunks_exact(ROW_BYTES).enumerate() {
                    if Self::candidate::<S>(row, f, max_fail, rules.min_loci) {
                        out.push((p as u32, (first_row + b * BLOCK_ROWS + k) as u32));
                    }
                }
            }
        }
    }

    /// Rows that pass the scan for each probe, as `(probe, row)` pairs in row-chunk order.
    fn candidates(&self, filters: &[ProbeFilter], rules: &MatchRules) -> Vec<(u32, u32)> {
        let s = match rules.stringency {
            Stringency::Prum => 0,
            Stringency::High => 1,
            Stringency::Moderate => 2,
            Stringency::Low => 3,
        };
        self.rows
            .par_chunks(CHUNK_ROWS * ROW_BYTES)
            .enumerate()
            .map(|(c, chunk)| {
                let mut out = Vec::new();
                let first = c * CHUNK_ROWS;
                match s {
                    0 => Self::scan_chunk::<0>(first, chunk, filters, rules, &mut out),
                    1 => Self::scan_chunk::<1>(first, chunk, filters, rules, &mut out),
                    2 => Self::scan_chunk::<2>(first, chunk, filters, rules, &mut out),
                    _ => Self::scan_chunk::<3>(first, chunk, filters, rules, &mut out),
                }
                out
            })
            .flatten_iter()
            .collect()
    }

    /// Counts the scan's candidates for each probe without the exact comparison: used by benchmarks to
    /// time the memory-bound part alone.
    pub fn scan_count(&self, probes: &[Profile], rules: &MatchRules) -> usize {
        let filters: Vec<ProbeFilter> = probes.iter().map(|p| self.probe_filter(p, rules)).collect();
        self.candidates(&filters, rules).len()
    }

    /// Searches every probe against the index under `rules`. Hits come in probe order, then class (full,
    /// partial, near), more matched loci first, fewer mismatches first, then profile id — the same for any
    /// thread count. With frequencies, each hit gets the RMP of the reference genotype over the matched
    /// loci (NRC II 4.10 with `theta`) and full matches the LR 1/RMP.
    pub fn search(
        &self,
        probes: &[Profile],
        rules: &MatchRules,
        frequencies: Option<(&AlleleFrequencies, f64)>,
    ) -> MatchResult<Vec<Hit>> {
        let rules = rules.clone().validate()?;
        if let Some((_, theta)) = frequencies {
            stats::check_theta(theta)?;
        }
        if u32::try_from(probes.len()).is_err() {
            return Err(MatchError::invalid("too many probes in one call"));
        }
        let filters: Vec<ProbeFilter> = probes.iter().map(|p| self.probe_filter(p, &rules)).collect();
        let candidates = self.candidates(&filters, &rules);
        let mut hits: Vec<Hit> = candidates
            .par_iter()
            .filter_map(|&(p, row)| {
                let probe = probes.get(p as usize)?;
                let reference = self.profile(row as usize)?;
                let comparison = rules::compare(probe, &reference, &rules);
                let class = comparison.class(&rules)?;
                let rmp = frequencies.and_then(|(f, theta)| hit_rmp(probe, &reference, &rules, f, theta));
                let lr = if class == MatchClass::Full { rmp.map(stats::likelihood_ratio) } else { None };
                Some(Hit { probe: p, row, class, comparison, rmp, lr })
            })
            .collect();
        hits.sort_by(|a, b| {
            a.probe
                .cmp(&b.probe)
                .then(a.class.cmp(&b.class))
                .then(b.comparison.loci_matched.cmp(&a.comparison.loci_matched))
                .then(a.comparison.mismatched_alleles.cmp(&b.comparison.mismatched_alleles))
                .then_with(|| self.id(a.row as usize).cmp(self.id(b.row as usize)))
        });
        Ok(hits)
    }

    /// Profiles with exactly the same STR genotype as each probe (the hash fast path: no scan), as
    /// `(probe, row)` in probe order then profile id.
    pub fn find_identical(&self, probes: &[Profile]) -> MatchResult<Vec<(u32, u32)>> {
        let mut out = Vec::new();
        for (p, probe) in probes.iter().enumerate() {
            let mut ext = Extension::new();
            let Ok(row) = encode_row(probe, &self.codes, &mut ext) else { continue };
            // A probe allele without a code in this index cannot be in any stored profile.
            let unknown = probe.loci.iter().any(|t| {
                usize::from(t.locus) < SLOT_LOCI
                    && t.alleles.len() <= 2
                    && t.alleles.iter().any(|a| self.codes.code(t.locus, *a).is_none())
            });
            if unknown {
                continue;
            }
            let Some(rows) = self.identical.get(&genotype_key(&row, &ext)) else { continue };
            let mut found: Vec<u32> = rows
                .iter()
                .copied()
                .filter(|&r| self.profile(r as usize).is_some_and(|q| str_loci_equal(probe, &q)))
                .collect();
            found.sort_by(|a, b| self.id(*a as usize).cmp(self.id(*b as usize)));
            out.extend(found.into_iter().map(|r| (p as u32, r)));
        }
        Ok(out)
    }

    /// Familial search: for each probe the `top_k` profiles with the highest kinship index for
    /// `relationship`, at least `min_ki`; in probe order, then KI descending, then profile id.
    pub fn familial_search(
        &self,
        probes: &[Profile],
        relationship: Relationship,
        frequencies: &AlleleFrequencies,
        top_k: usize,
        min_ki: f64,
    ) -> MatchResult<Vec<KinshipHit>> {
        if top_k == 0 || top_k > 100_000 {
            return Err(MatchError::invalid(format!("top_k must be between 1 and 100000, got {top_k}")));
        }
        if !min_ki.is_finite() || min_ki < 0.0 {
            return Err(MatchError::invalid(format!("min_ki must be a finite number ≥ 0, got {min_ki}")));
        }
        let mut out = Vec::new();
        for (p, probe) in probes.iter().enumerate() {
            let table = self.kinship_tables(probe, frequencies);
            let mut found: Vec<(f64, u32, u32)> = self
                .rows
                .par_chunks(CHUNK_ROWS * ROW_BYTES)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut local: Vec<(f64, u32, u32)> = Vec::new();
                    for (k, row) in chunk.chunks_exact(ROW_BYTES).enumerate() {
                        let r = (c * CHUNK_ROWS + k) as u32;
                        let (ki, used) = self.row_ki(row, probe, &table, relationship, frequencies);
                        if used > 0 && ki >= min_ki {
                            local.push((ki, r, used));
                        }
                    }
                    self.keep_top(&mut local, top_k);
                    local
                })
                .flatten_iter()
                .collect();
            self.keep_top(&mut found, top_k);
            out.extend(found.into_iter().enumerate().map(|(rank, (ki, row, used))| KinshipHit {
                probe: p as u32,
                row,
                kinship_index: ki,
                loci_used: used,
                rank: rank as u32 + 1,
            }));
        }
        Ok(out)
    }

    fn keep_top(&self, v: &mut Vec<(f64, u32, u32)>, k: usize) {
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| self.id(a.1 as usize).cmp(self.id(b.1 as usize))));
        v.truncate(k);
    }

    /// Per slot locus: the probe's two codes-independent alleles and each code's frequency.
    fn kinship_tables(&self, probe: &Profile, freqs: &AlleleFrequencies) -> Vec<Option<KinLocus>> {
        (0..SLOT_LOCI)
            .map(|slot| {
                let locus = slot as LocusId;
                let alleles = probe.alleles(locus)?;
                if alleles.len() > 2 || alleles.iter().any(|a| a.is_wildcard()) {
                    return None;
                }
                freqs.floor(locus)?;
                let (a, b) = (alleles[0], *alleles.last().unwrap_or(&alleles[0]));
                let list = self.codes.designations.get(slot)?;
                let freq_of_code: Vec<f64> = list.iter().map(|x| freqs.frequency(locus, *x).unwrap_or(1.0)).collect();
                Some(KinLocus {
                    probe: (a.min(b), a.max(b)),
                    freq_of_code,
                    pa: freqs.frequency(locus, a)?,
                    pb: freqs.frequency(locus, b)?,
                })
            })
            .collect()
    }

    fn row_ki(
        &self,
        row: &[u8],
        probe: &Profile,
        table: &[Option<KinLocus>],
        rel: Relationship,
        freqs: &AlleleFrequencies,
    ) -> (f64, u32) {
        let (k0, k1, k2) = rel.k();
        let mut ki = 1.0;
        let mut used = 0;
        for (slot, t) in table.iter().enumerate() {
            let Some(t) = t else { continue };
            let (c, d) = (row[2 * slot], row[2 * slot + 1]);
            if c < FIRST_CODE || d < FIRST_CODE {
                continue;
            }
            let (Some(ac), Some(ad)) = (
                self.codes.designations[slot].get(usize::from(c - FIRST_CODE)),
                self.codes.designations[slot].get(usize::from(d - FIRST_CODE)),
            ) else {
                continue;
            };
            let f = |x: Allele| {
                if x == t.probe.0 {
                    t.pa
                } else if x == t.probe.1 {
                    t.pb
                } else if x == *ac {
                    t.freq_of_code[usize::from(c - FIRST_CODE)]
                } else {
                    t.freq_of_code[usize::from(d - FIRST_CODE)]
                }
            };
            let (x, y) = kinship::x_and_y(t.probe, ((*ac).min(*ad), (*ac).max(*ad)), f);
            ki *= k0 + k1 * x + k2 * y;
            used += 1;
        }
        if row[48] & FLAG_EXTENDED != 0 {
            let first = u32::from_le_bytes([row[52], row[53], row[54], row[55]]) as usize;
            let count = usize::from(u16::from_le_bytes([row[56], row[57]]));
            for i in first..first + count {
                let Some((locus, alleles)) = self.ext.entry(i) else { continue };
                if usize::from(locus) < SLOT_LOCI && row[2 * usize::from(locus)] == CODE_EXTENDED {
                    // A mixture locus: kinship is not defined for it.
                    continue;
                }
                let Some(p) = probe.alleles(locus) else { continue };
                if let Some(k) = kinship::locus_ki(locus, p, alleles, rel, freqs) {
                    ki *= k;
                    used += 1;
                }
            }
        }
        (ki, used)
    }
}

struct KinLocus {
    probe: (Allele, Allele),
    freq_of_code: Vec<f64>,
    pa: f64,
    pb: f64,
}

/// RMP of a hit: the reference genotype (the probe's where the reference cannot be evaluated) over the
/// loci that matched under the rules.
fn hit_rmp(probe: &Profile, reference: &Profile, rules: &MatchRules, f: &AlleleFrequencies, theta: f64) -> Option<f64> {
    let mut rmp = 1.0;
    let mut used = 0;
    for t in &probe.loci {
        if !rules.compares(t.locus) {
            continue;
        }
        let Some(r) = reference.alleles(t.locus) else { continue };
        let (miss, _, _) = rules::locus_outcome(t.locus, &t.alleles, r, rules.stringency);
        if miss > 0 {
            continue;
        }
        let p = stats::locus_probability(t.locus, r, f, theta)
            .or_else(|| stats::locus_probability(t.locus, &t.alleles, f, theta));
        if let Some(p) = p {
            rmp *= p;
            used += 1;
        }
    }
    (used > 0).then_some(rmp)
}

/// FNV-1a over 8-byte words (then the tail): a fast checksum that catches corruption, not tampering.
fn checksum(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0_u8; 8];
        b.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(b)).wrapping_mul(PRIME);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(PRIME);
    }
    h
}

/// Bounds-checked reader over an index file's payload.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> MatchResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            MatchError::IndexFile(format!("truncated: {what} needs {n} bytes at offset {}", self.pos))
        })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self, what: &str) -> MatchResult<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> MatchResult<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &str) -> MatchResult<u64> {
        let b = self.take(8, what)?;
        let mut a = [0_u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// A count that must fit in the remaining bytes at `unit` bytes per item.
    fn count(&mut self, unit: usize, what: &str) -> MatchResult<usize> {
        let n = self.u64(what)?;
        let left = (self.bytes.len() - self.pos) as u64;
        if n.checked_mul(unit as u64).is_none_or(|b| b > left) {
            return Err(MatchError::IndexFile(format!("{what} {n} does not fit in the file")));
        }
        Ok(n as usize)
    }
}

fn bad(msg: impl Into<String>) -> MatchError {
    MatchError::IndexFile(msg.into())
}

impl DnaIndex {
    /// Serialises the index: header (magic, format version, crate version, payload length, checksum) then
    /// the payload (ids, allele codes, rows, extension).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(self.rows.len() + self.ids.data.len() + 1024);
        let n = self.len() as u64;
        p.extend_from_slice(&n.to_le_bytes());
        for o in &self.ids.offsets {
            p.extend_from_slice(&o.to_le_bytes());
        }
        p.extend_from_slice(&(self.ids.data.len() as u64).to_le_bytes());
        p.extend_from_slice(&self.ids.data);
        for slot in 0..SLOT_LOCI {
            let list = self.codes.designations.get(slot).map_or(&[][..], Vec::as_slice);
            p.extend_from_slice(&(list.len() as u16).to_le_bytes());
            for a in list {
                p.extend_from_slice(&a.to_bits().to_le_bytes());
            }
        }
        p.extend_from_slice(&self.rows);
        p.extend_from_slice(&(self.ext.len() as u64).to_le_bytes());
        p.extend_from_slice(&self.ext.locus);
        for s in &self.ext.start {
            p.extend_from_slice(&s.to_le_bytes());
        }
        p.extend_from_slice(&(self.ext.alleles.len() as u64).to_le_bytes());
        for a in &self.ext.alleles {
            p.extend_from_slice(&a.to_bits().to_le_bytes());
        }
        let version = crate::VERSION.as_bytes();
        let mut out = Vec::with_capacity(p.len() + 64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(version.len() as u16).to_le_bytes());
        out.extend_from_slice(version);
        out.extend_from_slice(&(p.len() as u64).to_le_bytes());
        out.extend_from_slice(&checksum(&p).to_le_bytes());
        out.extend_from_slice(&p);
        out
    }

    /// Reads an index written by [`DnaIndex::to_bytes`]; any truncation, corruption, foreign file or
    /// other format version is an [`MatchError::IndexFile`], never a panic.
    pub fn from_bytes(bytes: &[u8]) -> MatchResult<DnaIndex> {
        let mut h = Cursor { bytes, pos: 0 };
        if h.take(8, "magic").ok() != Some(&MAGIC[..]) {
            return Err(bad("not a cgi-match DNA index (bad magic)"));
        }
        let version = h.u32("format version")?;
        if version != FORMAT_VERSION {
            return Err(bad(format!("format version {version}, this build reads {FORMAT_VERSION}")));
        }
        let vlen = usize::from(h.u16("crate version length")?);
        let _writer = h.take(vlen, "crate version")?;
        let plen = h.u64("payload length")?;
        let sum = h.u64("checksum")?;
        let rest = &bytes[h.pos..];
        if plen != rest.len() as u64 {
            return Err(bad(format!("payload is {} bytes, header says {plen}", rest.len())));
        }
        if checksum(rest) != sum {
            return Err(bad("checksum mismatch: the file is corrupted"));
        }
        let mut c = Cursor { bytes: rest, pos: 0 };
        let n = c.count(ROW_BYTES, "profile count")?;
        let mut offsets = Vec::with_capacity(n + 1);
        for _ in 0..=n {
            offsets.push(c.u64("id offset")? as i64);
        }
        let dlen = c.count(1, "id bytes")?;
        let data = c.take(dlen, "ids")?.to_vec();
        let col = StrColumn::new(&offsets, &data, None).map_err(|e| bad(format!("ids: {e}")))?;
        if offsets.first() != Some(&0) || offsets.last().copied() != Some(dlen as i64) {
            return Err(bad("ids: offsets do not span the id bytes"));
        }
        for i in 0..col.len() {
            if !matches!(col.get(i), Some(Ok(_))) {
                return Err(bad(format!("id {i} is not UTF-8")));
            }
        }
        let mut designations = Vec::with_capacity(SLOT_LOCI);
        for slot in 0..SLOT_LOCI {
            let k = usize::from(c.u16("code count")?);
            if k > usize::from(u8::MAX - FIRST_CODE) + 1 {
                return Err(bad(format!("{k} codes at slot {slot}")));
            }
            let mut list = Vec::with_capacity(k);
            for _ in 0..k {
                let a = Allele::from_bits(c.u32("allele")?).ok_or_else(|| bad("unknown allele encoding"))?;
                list.push(a);
            }
            let locus = slot as LocusId;
            if list.windows(2).any(|w| w[0].prum_order(locus) >= w[1].prum_order(locus)) {
                return Err(bad(format!("allele codes of {} are not in order", loci::name(locus))));
            }
            designations.push(list);
        }
        let rows = c.take(n * ROW_BYTES, "rows")?.to_vec();
        let e = c.count(1, "extension entries")?;
        let ext_locus = c.take(e, "extension loci")?.to_vec();
        if ext_locus.iter().any(|&l| usize::from(l) >= loci::CATALOGUE.len() || l == loci::AMELOGENIN) {
            return Err(bad("extension names an unknown locus"));
        }
        let mut start = Vec::with_capacity(e + 1);
        for _ in 0..=e {
            start.push(c.u32("extension offset")?);
        }
        let na = c.count(4, "extension alleles")?;
        let mut alleles = Vec::with_capacity(na);
        for _ in 0..na {
            alleles.push(Allele::from_bits(c.u32("extension allele")?).ok_or_else(|| bad("unknown allele encoding"))?);
        }
        if start.first() != Some(&0)
            || start.last().map(|&s| s as usize) != Some(na)
            || start.windows(2).any(|w| w[0] > w[1])
        {
            return Err(bad("extension offsets are inconsistent"));
        }
        if c.pos != rest.len() {
            return Err(bad("trailing bytes after the payload"));
        }
        let ext = Extension { locus: ext_locus, start, alleles };
        let codes = AlleleCodes { designations };
        for (i, row) in rows.chunks_exact(ROW_BYTES).enumerate() {
            for slot in 0..SLOT_LOCI {
                let limit = FIRST_CODE as usize + codes.designations[slot].len();
                let (a, b) = (row[2 * slot], row[2 * slot + 1]);
                if usize::from(a) >= limit || usize::from(b) >= limit || (a == CODE_UNTYPED) != (b == CODE_UNTYPED) {
                    return Err(bad(format!("row {i}: allele code out of range at slot {slot}")));
                }
            }
            let first = u32::from_le_bytes([row[52], row[53], row[54], row[55]]) as usize;
            let count = usize::from(u16::from_le_bytes([row[56], row[57]]));
            if first.checked_add(count).is_none_or(|end| end > e) {
                return Err(bad(format!("row {i}: extension entries out of range")));
            }
        }
        let ids = StrColumnBuilder { valid: vec![true; n], offsets, data };
        Ok(DnaIndex::assemble(ids, codes, rows, ext))
    }

    /// Writes the index to a file (to a temporary name first, then renamed, so a crash leaves no half file).
    pub fn save(&self, path: &Path) -> MatchResult<()> {
        let io = |source| MatchError::Io { path: path.display().to_string(), source };
        let tmp = path.with_extension("tmp-cgi-match");
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads an index file written by [`DnaIndex::save`].
    pub fn load(path: &Path) -> MatchResult<DnaIndex> {
        let io = |source| MatchError::Io { path: path.display().to_string(), source };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(bad(format!("{}: {} bytes is larger than any DNA index", path.display(), meta.len())));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        DnaIndex::from_bytes(&bytes).map_err(|e| match e {
            MatchError::IndexFile(m) => MatchError::IndexFile(format!("{}: {m}", path.display())),
            other => other,
        })
    }
}
