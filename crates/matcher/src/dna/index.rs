//! The DNA index: profiles in the compact layout (see `profile.rs`), a genotype hash for identical
//! profiles, and the searches (rule-based 1:N / N:M, familial) — parallel with rayon and deterministic.
//!
//! Under Prüm and CODIS high, the rows are first narrowed through posting lists of the genotypes at four
//! pairs of key loci (see `PairPostings` for why no hit is lost); other rules, and probes typed at too
//! few key loci, scan every row.
//!
//! A search runs in two steps. The *scan* (`scan.rs`: the rows' allele codes held transposed in groups of
//! 4096 profiles) counts per probe, locus by locus, the loci that certainly fail the rule (allele-code
//! ranges compared lane by lane, written so the compiler vectorises it) and drops blocks of 64 profiles as
//! soon as none can pass; that count is a lower bound of the mismatching alleles. Each survivor's row is
//! then gathered and tested again with the upper bound of its matching loci (`test_row`), and the few rows
//! left are decoded and compared exactly with `rules::compare`, the single definition of a hit.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use rayon::prelude::*;

use crate::columns::{StrColumn, StrColumnBuilder};
use crate::error::{MatchError, MatchResult};

use super::allele::{Allele, PrumValue};
use super::kinship::{self, KinshipModel};
use super::loci::{self, LocusId, SLOT_LOCI};
use super::profile::{
    decode_row, encode_row, AlleleCodes, Extension, Profile, ProfileKind, ALLELE_BYTES, CODE_EXTENDED, CODE_UNTYPED,
    FIRST_CODE, FLAG_EXTENDED, ROW_BYTES,
};
use super::rules::{self, MatchClass, MatchRules, Stringency};
use super::scan::{self, ScanBlocks, SlotTest, GROUP_BYTES, GROUP_ROWS};
use super::stats::{self, AlleleFrequencies};

/// Profiles per parallel task when building (1 MiB of rows).
const BUILD_CHUNK_ROWS: usize = 16_384;

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
    /// The compact rows, held transposed in blocks of 64 for the scan (see `scan.rs`).
    scan: ScanBlocks,
    ext: Extension,
    identical: HashMap<u64, Vec<u32>>,
    pairs: PairPostings,
    /// Per slot locus, how many stored allele bytes carry a code below each value (prefix sums over the
    /// 256 codes): orders a probe's loci by selectivity.
    code_counts: Vec<[u64; 257]>,
}

/// Loci pairs keyed for the Prüm / CODIS-high fast path: slots (0,1), (2,3), (4,5), (6,7).
const KEY_GROUPS: usize = 4;

/// A probe's key at one group of loci.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupKey {
    /// The probe cannot use the group.
    Unusable,
    /// The probe's genotype there is in no stored row.
    Absent,
    /// Class key to look up.
    Key(u32),
}

/// Posting lists of the genotype (at Prüm-class level) of each key group of loci.
///
/// Why it is exact: a hit under Prüm or CODIS high fails (≥ 1 differing allele) at no more than
/// `max_mismatches` loci, so when the probe is typed at more key groups than that, at least one of those
/// groups matches the hit completely — and a complete match at a group means equal class keys. Rows that
/// cannot be keyed at some group (untyped, wildcard, off-ladder, mixture there) are kept in `fallback` and
/// always tested. The candidates then go through the same scan test and exact comparison as a full scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PairPostings {
    /// Per slot locus, code → Prüm class id (1..); 0 where the code cannot be keyed.
    class_of: Vec<[u8; 256]>,
    /// Per group: rows sorted by key, and key → (start, len) in that order.
    rows: Vec<Vec<u32>>,
    spans: Vec<HashMap<u32, (u32, u32)>>,
    /// Rows that cannot be keyed at some group.
    fallback: Vec<u32>,
}

impl PairPostings {
    fn build(codes: &AlleleCodes, rows: &[u8]) -> PairPostings {
        let class_of: Vec<[u8; 256]> = (0..2 * KEY_GROUPS)
            .map(|slot| {
                let mut table = [0_u8; 256];
                let list = codes.designations.get(slot).map_or(&[][..], Vec::as_slice);
                let mut class = 0_u8;
                let mut prev: Option<PrumValue> = None;
                for (i, a) in list.iter().enumerate() {
                    let v = a.prum_value(slot as LocusId);
                    if v == PrumValue::Any {
                        continue;
                    }
                    if prev != Some(v) {
                        class = class.saturating_add(1);
                        prev = Some(v);
                    }
                    table[i + usize::from(FIRST_CODE)] = class;
                }
                table
            })
            .collect();
        let n = rows.len() / ROW_BYTES;
        let mut keys: Vec<Vec<(u32, u32)>> = (0..KEY_GROUPS).map(|_| Vec::with_capacity(n)).collect();
        let mut fallback = Vec::new();
        for (r, row) in rows.chunks_exact(ROW_BYTES).enumerate() {
            let mut ok = true;
            let mut row_keys = [0_u32; KEY_GROUPS];
            for (g, key) in row_keys.iter_mut().enumerate() {
                let c: [u8; 4] = [0, 1, 2, 3].map(|k| class_of[2 * g + k / 2][usize::from(row[4 * g + k])]);
                ok &= c.iter().all(|&x| x != 0);
                *key = u32::from_le_bytes(c);
            }
            if ok {
                for (g, key) in row_keys.into_iter().enumerate() {
                    keys[g].push((key, r as u32));
                }
            } else {
                fallback.push(r as u32);
            }
        }
        let mut out_rows = Vec::with_capacity(KEY_GROUPS);
        let mut spans = Vec::with_capacity(KEY_GROUPS);
        for mut k in keys {
            k.sort_unstable();
            let mut span: HashMap<u32, (u32, u32)> = HashMap::new();
            for (i, (key, _)) in k.iter().enumerate() {
                span.entry(*key).and_modify(|e| e.1 += 1).or_insert((i as u32, 1));
            }
            out_rows.push(k.into_iter().map(|(_, r)| r).collect());
            spans.push(span);
        }
        PairPostings { class_of, rows: out_rows, spans, fallback }
    }

    /// The probe's class key at group `g`: unusable (untyped, wildcard, off-ladder, more than two alleles),
    /// absent (a genotype no stored row has), or the key.
    fn probe_key(&self, codes: &AlleleCodes, probe: &Profile, g: usize) -> GroupKey {
        match self.probe_key_inner(codes, probe, g) {
            None => GroupKey::Unusable,
            Some(None) => GroupKey::Absent,
            Some(Some(k)) => GroupKey::Key(k),
        }
    }

    #[allow(clippy::option_option)]
    fn probe_key_inner(&self, codes: &AlleleCodes, probe: &Profile, g: usize) -> Option<Option<u32>> {
        let mut c = [0_u8; 4];
        for half in 0..2 {
            let locus = (2 * g + half) as LocusId;
            let alleles = probe.alleles(locus)?;
            if alleles.len() > 2 {
                return None;
            }
            let mut cls = [0_u8; 2];
            for (k, a) in [alleles[0], *alleles.last().unwrap_or(&alleles[0])].into_iter().enumerate() {
                let v = a.prum_value(locus);
                if v == PrumValue::Any {
                    return None;
                }
                match codes.prum_range(locus, v) {
                    Some((lo, _)) => cls[k] = self.class_of[2 * g + half][usize::from(lo)],
                    None => return Some(None),
                }
            }
            cls.sort_unstable();
            c[2 * half] = cls[0];
            c[2 * half + 1] = cls[1];
        }
        Some(Some(u32::from_le_bytes(c)))
    }

    /// Candidate rows of a probe (sorted, distinct), or `None` when the probe is typed at too few key
    /// groups for the pigeonhole argument and must be scanned in full.
    fn candidates(&self, codes: &AlleleCodes, probe: &Profile, max_fail: u32) -> Option<Vec<u32>> {
        let keys: Vec<(usize, GroupKey)> = (0..KEY_GROUPS)
            .map(|g| (g, self.probe_key(codes, probe, g)))
            .filter(|(_, k)| *k != GroupKey::Unusable)
            .collect();
        if keys.len() <= max_fail as usize {
            return None;
        }
        let mut out = self.fallback.clone();
        for (g, key) in keys {
            if let GroupKey::Key(k) = key {
                if let Some(&(start, len)) = self.spans[g].get(&k) {
                    out.extend_from_slice(&self.rows[g][start as usize..(start + len) as usize]);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

/// 0xFF when true, 0 when false: byte masks keep the scan free of branches.
#[inline]
fn m(b: bool) -> u8 {
    u8::from(b).wrapping_neg()
}

/// 0xFFFF when true, 0 when false.
#[inline]
fn m16(b: bool) -> u16 {
    u16::from(b).wrapping_neg()
}

/// Bytes `2i` and `2i+1` (one locus: its two allele codes) as one little-endian word.
#[inline]
fn lane(bytes: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]])
}

/// Most probe alleles per locus the scan tests exactly (a two-person mixture); more make the locus "any".
const FILTER_ALLELES: usize = 4;

/// Per-probe constants of the scan.
#[derive(Clone)]
struct ProbeFilter {
    /// Per probe allele k (up to [`FILTER_ALLELES`]; fewer repeat the first), the code range per byte.
    lo: [[u8; ALLELE_BYTES]; FILTER_ALLELES],
    width: [[u8; ALLELE_BYTES]; FILTER_ALLELES],
    /// Probe alleles the kernel must look at: 2, or 4 when a compared locus is a mixture.
    alleles: usize,
    /// Codes that match anything under the rule (Prüm: off-ladder designations), as a range per byte.
    free_lo: [u8; ALLELE_BYTES],
    free_width: [u8; ALLELE_BYTES],
    /// 0xFF (both bytes of a slot) where the probe is typed at the slot and the rules compare it.
    typed: [u8; ALLELE_BYTES],
    /// 0xFF (both bytes of a slot) where the probe's genotype matches anything the scan could see.
    any: [u8; ALLELE_BYTES],
    /// The same tests per compared slot for the block kernel, most selective locus first.
    tests: Vec<SlotTest>,
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
        let mut id_col = StrColumnBuilder::with_capacity(ids.len(), ids.iter().map(String::len).sum());
        for id in ids {
            id_col.push(Some(id));
        }
        DnaIndex::build_with(id_col, |i| {
            profiles.get(i).cloned().unwrap_or_else(|| Profile::new(ProfileKind::Reference, []))
        })
    }

    /// Builds the index from ids and a function producing the profile of each row, in two passes (allele
    /// codes, then rows) without holding all profiles at once: the path for tens of millions of profiles
    /// coming from genotype arrays.
    ///
    /// Both passes run in parallel over chunks of profiles; the result is the same as a serial build
    /// (each chunk's extension entries are appended in chunk order and its rows' pointers shifted).
    pub fn build_with(ids: StrColumnBuilder, profile_at: impl Fn(usize) -> Profile + Sync) -> MatchResult<DnaIndex> {
        let n = ids.len();
        if u32::try_from(n).is_err() {
            return Err(MatchError::invalid("a DNA index holds at most 4 294 967 295 profiles"));
        }
        {
            let col = StrColumn::new(&ids.offsets, &ids.data, Some(&ids.valid))?;
            let mut seen = std::collections::HashSet::with_capacity(n);
            for i in 0..n {
                let Some(Ok(id)) = col.get(i) else {
                    return Err(MatchError::invalid(format!("profile id {i} is missing or not UTF-8")));
                };
                if !seen.insert(id) {
                    return Err(MatchError::invalid(format!("profile id '{id}' appears twice")));
                }
            }
        }
        let codes = AlleleCodes::build_with(n, &profile_at);
        let mut rows = vec![0_u8; n * ROW_BYTES];
        let parts: Vec<MatchResult<Extension>> = rows
            .par_chunks_mut(BUILD_CHUNK_ROWS * ROW_BYTES)
            .enumerate()
            .map(|(c, out)| {
                let mut ext = Extension::new();
                for (k, row) in out.chunks_exact_mut(ROW_BYTES).enumerate() {
                    row.copy_from_slice(&encode_row(&profile_at(c * BUILD_CHUNK_ROWS + k), &codes, &mut ext)?);
                }
                Ok(ext)
            })
            .collect();
        let too_many = || MatchError::invalid("more than 4 billion extension entries in one index");
        let mut ext = Extension::new();
        for (c, part) in parts.into_iter().enumerate() {
            let part = part?;
            let entries = u32::try_from(ext.len()).map_err(|_| too_many())?;
            let alleles = u32::try_from(ext.alleles.len()).map_err(|_| too_many())?;
            if let (true, Some(out)) = (entries > 0, rows.chunks_mut(BUILD_CHUNK_ROWS * ROW_BYTES).nth(c)) {
                for row in out.chunks_exact_mut(ROW_BYTES) {
                    let first = u32::from_le_bytes([row[52], row[53], row[54], row[55]]);
                    row[52..56].copy_from_slice(&first.checked_add(entries).ok_or_else(too_many)?.to_le_bytes());
                }
            }
            ext.locus.extend_from_slice(&part.locus);
            for s in part.start.iter().skip(1) {
                ext.start.push(s.checked_add(alleles).ok_or_else(too_many)?);
            }
            ext.alleles.extend_from_slice(&part.alleles);
        }
        Ok(DnaIndex::assemble(ids, codes, rows, ext))
    }

    fn assemble(ids: StrColumnBuilder, codes: AlleleCodes, rows: Vec<u8>, ext: Extension) -> DnaIndex {
        let mut identical: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, row) in rows.chunks_exact(ROW_BYTES).enumerate() {
            identical.entry(genotype_key(row, &ext)).or_default().push(i as u32);
        }
        let pairs = PairPostings::build(&codes, &rows);
        let mut code_counts = vec![[0_u64; 257]; SLOT_LOCI];
        for row in rows.chunks_exact(ROW_BYTES) {
            for (byte, &code) in row[..ALLELE_BYTES].iter().enumerate() {
                code_counts[byte / 2][usize::from(code) + 1] += 1;
            }
        }
        for counts in &mut code_counts {
            for c in 1..counts.len() {
                counts[c] += counts[c - 1];
            }
        }
        let scan = ScanBlocks::from_rows(&rows);
        DnaIndex { ids, codes, scan, ext, identical, pairs, code_counts }
    }

    /// Number of profiles.
    pub fn len(&self) -> usize {
        self.scan.len()
    }

    /// True when the index holds no profile.
    pub fn is_empty(&self) -> bool {
        self.scan.len() == 0
    }

    /// The compact row of a profile (`None` past the end).
    fn row(&self, row: usize) -> Option<[u8; ROW_BYTES]> {
        self.scan.row(row)
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
        decode_row(&self.row(row)?, &self.codes, &self.ext)
    }

    /// Bytes of the scanned layout (allele blocks and row headers, 64 per profile): the most a scan reads,
    /// for bandwidth figures.
    pub fn scan_bytes(&self) -> usize {
        self.scan.bytes()
    }

    fn probe_filter(&self, probe: &Profile, rules: &MatchRules) -> ProbeFilter {
        let mut f = ProbeFilter {
            lo: [[0; ALLELE_BYTES]; FILTER_ALLELES],
            width: [[0; ALLELE_BYTES]; FILTER_ALLELES],
            alleles: 2,
            typed: [0; ALLELE_BYTES],
            any: [0; ALLELE_BYTES],
            free_lo: [0; ALLELE_BYTES],
            free_width: [0; ALLELE_BYTES],
            tests: Vec::new(),
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
            f.typed[2 * slot] = 0xFF;
            f.typed[2 * slot + 1] = 0xFF;
            let prum = rules.stringency == Stringency::Prum;
            // Prüm compares a mixture locus as (first allele, wildcard): anything for the scan.
            let limit = if prum { 2 } else { FILTER_ALLELES };
            let anything = t.alleles.len() > limit
                || t.alleles.iter().any(|a| a.is_wildcard() || (prum && a.prum_value(t.locus) == PrumValue::Any));
            if anything {
                f.any[2 * slot] = 0xFF;
                f.any[2 * slot + 1] = 0xFF;
                continue;
            }
            if t.alleles.len() > 2 {
                f.alleles = FILTER_ALLELES;
            }
            for k in 0..FILTER_ALLELES {
                // A homozygote or a shorter list repeats an allele: it changes no coverage test.
                let a = t.alleles.get(k).copied().unwrap_or(t.alleles[0]);
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
        f.tests = self.slot_tests(&f);
        f
    }

    /// The block kernel's per-slot tests of a probe filter, ordered so that the loci a random stored
    /// profile most likely fails come first (estimated from the stored code counts: the share of stored
    /// alleles that are free or among the probe's). The order only changes speed, never the result.
    fn slot_tests(&self, f: &ProbeFilter) -> Vec<SlotTest> {
        let mut tests: Vec<(f64, SlotTest)> = (0..SLOT_LOCI)
            .filter(|&slot| f.typed[2 * slot] != 0 && f.any[2 * slot] == 0)
            .map(|slot| {
                let b = 2 * slot;
                let free_from =
                    if f.free_lo[b] >= FIRST_CODE { f.free_lo[b] - FIRST_CODE } else { SlotTest::NO_FREE_RANGE };
                let t = SlotTest {
                    slot: slot as u8,
                    lo: [0, 1, 2, 3].map(|k| f.lo[k][b]),
                    width: [0, 1, 2, 3].map(|k| f.width[k][b]),
                    free_from,
                };
                // Stored alleles in the probe's code ranges or free (codes 0–2, the Prüm off-ladder range).
                let cum = &self.code_counts[slot];
                let between = |lo: usize, hi: usize| cum[hi.min(256)] - cum[lo.min(hi).min(256)];
                let mut passing = between(0, usize::from(FIRST_CODE));
                if free_from != SlotTest::NO_FREE_RANGE {
                    passing += between(usize::from(free_from) + usize::from(FIRST_CODE), 256);
                }
                let mut ranges: Vec<(u8, u8)> =
                    (0..f.alleles).map(|k| (t.lo[k], t.width[k])).filter(|&(lo, _)| lo >= FIRST_CODE).collect();
                ranges.sort_unstable();
                ranges.dedup();
                for (lo, width) in ranges {
                    passing += between(usize::from(lo), usize::from(lo) + usize::from(width) + 1);
                }
                (passing as f64 / cum[256].max(1) as f64, t)
            })
            .collect();
        tests.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.slot.cmp(&b.1.slot)));
        tests.into_iter().map(|(_, t)| t).collect()
    }

    /// One 16-byte block (8 slot loci) of the scan test: (loci that certainly fail, loci that may match).
    /// Written without branches on byte arrays so that the compiler turns it into a handful of SSE2
    /// instructions per block (compare by range with wrapping subtraction, partner byte by `j ^ 1`).
    // Inlined into the scan loop on purpose: it is the whole inner loop and must be vectorised in place.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn block_eval<const S: u8, const K: usize>(r: &[u8], f: &ProbeFilter, base: usize) -> (u32, u32) {
        let mut a = [[0_u8; 16]; K];
        let mut typed = [0_u8; 16];
        for j in 0..16 {
            let x = r[base + j];
            // Codes 1 (wildcard) and 2 (in the extension) may match anything, as may the rule's free range.
            let free = m(x.wrapping_sub(1) <= 1) | m(x.wrapping_sub(f.free_lo[base + j]) <= f.free_width[base + j]);
            for (k, ak) in a.iter_mut().enumerate() {
                ak[j] = m(x.wrapping_sub(f.lo[k][base + j]) <= f.width[k][base + j]) | free;
            }
            typed[j] = m(x != 0);
        }
        let mut fails = 0_u32;
        let mut good = 0_u32;
        // One u16 lane per locus (its two allele bytes), so lane-wide tests are single SSE2 word compares.
        for i in 0..8 {
            // cov: each reference allele found among the probe's; all: each probe allele found in the reference.
            let mut cov = 0_u16;
            let mut all = 0xFFFF_u16;
            for ak in &a {
                let x = lane(ak, i);
                cov |= x;
                all &= m16(x != 0);
            }
            let both = m16(cov == 0xFFFF);
            let ok = match S {
                // Prüm and CODIS high: every allele of each side found on the other.
                0 | 1 => both & all,
                // CODIS moderate: one side contained in the other.
                2 => both | all,
                // CODIS low: one shared allele.
                _ => m16(cov != 0),
            } | lane(&f.any[base..], i);
            let compared = m16(lane(&typed, i) != 0) & lane(&f.typed[base..], i);
            fails += u32::from(compared & !ok & 1);
            good += u32::from(compared & ok & 1);
        }
        (fails, good)
    }

    /// The scan test: could `row` be a hit for this probe? Never false for a real hit (see module doc).
    /// The first block (8 loci) usually rejects an unrelated profile already.
    #[inline]
    fn candidate<const S: u8, const K: usize>(row: &[u8], f: &ProbeFilter, max_fail: u32, min_loci: u32) -> bool {
        if row.len() < ROW_BYTES {
            return false;
        }
        let (f0, g0) = Self::block_eval::<S, K>(row, f, 0);
        if f0 > max_fail {
            return false;
        }
        let (f1, g1) = Self::block_eval::<S, K>(row, f, 16);
        if f0 + f1 > max_fail {
            return false;
        }
        let (f2, g2) = Self::block_eval::<S, K>(row, f, 32);
        let ext_count = u32::from(u16::from_le_bytes([row[56], row[57]]));
        f0 + f1 + f2 <= max_fail && g0 + g1 + g2 + ext_count >= min_loci
    }

    /// The scan test with the kernel for the probe's number of alleles per locus.
    #[inline]
    fn test_row<const S: u8>(row: &[u8], f: &ProbeFilter, max_fail: u32, min_loci: u32) -> bool {
        if f.alleles <= 2 {
            Self::candidate::<S, 2>(row, f, max_fail, min_loci)
        } else {
            Self::candidate::<S, FILTER_ALLELES>(row, f, max_fail, min_loci)
        }
    }

    /// Runs the group kernel of every probe over one group of rows (it stays in L2 while the probes of a
    /// batch pass over it), then the row test on each survivor.
    fn scan_group<const S: u8>(
        &self,
        first: usize,
        group: &[u8],
        filters: &[ProbeFilter],
        rules: &MatchRules,
        out: &mut Vec<(u32, u32)>,
    ) {
        let max_fail = rules.max_mismatches;
        let kernel_max = u8::try_from(max_fail).unwrap_or(u8::MAX);
        for (p, f) in filters.iter().enumerate() {
            let found = |k: usize| {
                // Padding profiles past the last one have no row.
                let Some(row) = self.row(first + k) else { return };
                if Self::test_row::<S>(&row, f, max_fail, rules.min_loci) {
                    out.push((p as u32, (first + k) as u32));
                }
            };
            if f.alleles <= 2 {
                scan::group_survivors::<S, 2>(group, &f.tests, kernel_max, found);
            } else {
                scan::group_survivors::<S, FILTER_ALLELES>(group, &f.tests, kernel_max, found);
            }
        }
    }

    /// Rows that pass the scan for each probe, as `(probe, row)` pairs in group order.
    fn candidates(&self, filters: &[ProbeFilter], rules: &MatchRules) -> Vec<(u32, u32)> {
        let s = match rules.stringency {
            Stringency::Prum => 0,
            Stringency::High => 1,
            Stringency::Moderate => 2,
            Stringency::Low => 3,
        };
        self.scan
            .groups()
            .par_chunks(GROUP_BYTES)
            .enumerate()
            .map(|(g, group)| {
                let mut out = Vec::new();
                let first = g * GROUP_ROWS;
                match s {
                    0 => self.scan_group::<0>(first, group, filters, rules, &mut out),
                    1 => self.scan_group::<1>(first, group, filters, rules, &mut out),
                    2 => self.scan_group::<2>(first, group, filters, rules, &mut out),
                    _ => self.scan_group::<3>(first, group, filters, rules, &mut out),
                }
                out
            })
            .flatten_iter()
            .collect()
    }

    /// Candidate `(probe, row)` pairs: through the pair postings for the probes and rules they serve
    /// (Prüm, CODIS high, no locus restriction), by a full scan for the others.
    fn candidate_pairs(&self, probes: &[Profile], filters: &[ProbeFilter], rules: &MatchRules) -> Vec<(u32, u32)> {
        let keyed = matches!(rules.stringency, Stringency::Prum | Stringency::High) && rules.loci.is_none();
        let posted: Vec<Option<Vec<u32>>> = if keyed {
            probes.par_iter().map(|p| self.pairs.candidates(&self.codes, p, rules.max_mismatches)).collect()
        } else {
            vec![None; probes.len()]
        };
        let scan_probes: Vec<usize> = (0..probes.len()).filter(|&p| posted[p].is_none()).collect();
        let mut out: Vec<(u32, u32)> = Vec::new();
        if !scan_probes.is_empty() {
            let scan_filters: Vec<ProbeFilter> = scan_probes.iter().map(|&p| filters[p].clone()).collect();
            out = self.candidates(&scan_filters, rules);
            for pair in &mut out {
                pair.0 = scan_probes[pair.0 as usize] as u32;
            }
        }
        let max_fail = rules.max_mismatches;
        let prum = rules.stringency == Stringency::Prum;
        let from_postings: Vec<(u32, u32)> = posted
            .par_iter()
            .enumerate()
            .flat_map_iter(|(p, rows)| {
                let f = &filters[p];
                rows.iter().flatten().filter_map(move |&r| {
                    let r_us = r as usize;
                    // The column-wise early-exit test first: most posting candidates fail it in a few loci.
                    let kernel_max = u8::try_from(max_fail).unwrap_or(u8::MAX);
                    let may = match (prum, f.alleles <= 2) {
                        (true, true) => self.scan.may_match::<0, 2>(r_us, &f.tests, kernel_max),
                        (true, false) => self.scan.may_match::<0, FILTER_ALLELES>(r_us, &f.tests, kernel_max),
                        (false, true) => self.scan.may_match::<1, 2>(r_us, &f.tests, kernel_max),
                        (false, false) => self.scan.may_match::<1, FILTER_ALLELES>(r_us, &f.tests, kernel_max),
                    };
                    if !may {
                        return None;
                    }
                    let row = self.row(r_us)?;
                    let keep = if prum {
                        Self::test_row::<0>(&row, f, max_fail, rules.min_loci)
                    } else {
                        Self::test_row::<1>(&row, f, max_fail, rules.min_loci)
                    };
                    keep.then_some((p as u32, r))
                })
            })
            .collect();
        out.extend(from_postings);
        out
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
        let candidates = self.candidate_pairs(probes, &filters, &rules);
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

    /// Familial search: for each probe the `top_k` profiles with the highest kinship index under `model`
    /// (a [`KinshipModel`] or a bare [`Relationship`] with the default θ and mutation rate), at least
    /// `min_ki`; in probe order, then KI descending, then profile id.
    ///
    /// Per probe, the index of every pair of stored codes at each slot locus is computed once (a table of
    /// at most 256 × 256 entries per locus), so the pass over the profiles is table look-ups on the scan
    /// groups, multiplied in f64; loci in the extension are evaluated directly.
    pub fn familial_search(
        &self,
        probes: &[Profile],
        model: impl Into<KinshipModel>,
        frequencies: &AlleleFrequencies,
        top_k: usize,
        min_ki: f64,
    ) -> MatchResult<Vec<KinshipHit>> {
        let model = model.into().validate()?;
        if top_k == 0 || top_k > 100_000 {
            return Err(MatchError::invalid(format!("top_k must be between 1 and 100000, got {top_k}")));
        }
        if !min_ki.is_finite() || min_ki < 0.0 {
            return Err(MatchError::invalid(format!("min_ki must be a finite number ≥ 0, got {min_ki}")));
        }
        let freq_of_code: Vec<Option<Vec<f64>>> = (0..SLOT_LOCI)
            .map(|slot| {
                let locus = slot as LocusId;
                frequencies.floor(locus)?;
                let list = self.codes.designations.get(slot)?;
                Some(list.iter().map(|a| frequencies.frequency(locus, *a).unwrap_or(1.0)).collect())
            })
            .collect();
        let mut out = Vec::new();
        for (p, probe) in probes.iter().enumerate() {
            let tables = self.kinship_tables(probe, frequencies, &freq_of_code, &model);
            let mut found: Vec<(f64, u32, u32)> = self
                .scan
                .groups()
                .par_chunks(GROUP_BYTES)
                .enumerate()
                .map(|(g, group)| {
                    let mut local = self.group_ki(g * GROUP_ROWS, group, probe, &tables, &model, frequencies, min_ki);
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

    /// Per slot locus the probe can be evaluated at: the kinship index of the probe's genotype against
    /// every pair of stored codes, indexed by `code_a · 256 + code_b`; 1.0 where a code is untyped, a
    /// wildcard or in the extension (such a locus is not used).
    fn kinship_tables(
        &self,
        probe: &Profile,
        freqs: &AlleleFrequencies,
        freq_of_code: &[Option<Vec<f64>>],
        model: &KinshipModel,
    ) -> Vec<(usize, Vec<f64>)> {
        (0..SLOT_LOCI)
            .filter_map(|slot| {
                let locus = slot as LocusId;
                let alleles = probe.alleles(locus)?;
                if alleles.len() > 2 || alleles.iter().any(|a| a.is_wildcard()) {
                    return None;
                }
                let code_freqs = freq_of_code.get(slot)?.as_ref()?;
                let (a, b) = (alleles[0], *alleles.last().unwrap_or(&alleles[0]));
                let probe_pair = (a.min(b), a.max(b));
                let (pa, pb) = (freqs.frequency(locus, probe_pair.0)?, freqs.frequency(locus, probe_pair.1)?);
                let list = self.codes.designations.get(slot)?;
                let mut table = vec![1.0_f64; (usize::from(FIRST_CODE) + list.len()) * 256];
                for (i, (&c, &fc)) in list.iter().zip(code_freqs).enumerate() {
                    for (j, (&d, &fd)) in list.iter().zip(code_freqs).enumerate() {
                        let f = |x: Allele| {
                            if x == probe_pair.0 {
                                pa
                            } else if x == probe_pair.1 {
                                pb
                            } else if x == c {
                                fc
                            } else {
                                fd
                            }
                        };
                        let ki = kinship::genotype_ki(probe_pair, (c.min(d), c.max(d)), f, model);
                        table[(i + usize::from(FIRST_CODE)) * 256 + j + usize::from(FIRST_CODE)] = ki;
                    }
                }
                Some((slot, table))
            })
            .collect()
    }

    /// Kinship index and loci used of every profile of one scan group, as `(ki, row, used)` for those with
    /// at least one locus used and `ki ≥ min_ki`.
    #[allow(clippy::too_many_arguments)]
    fn group_ki(
        &self,
        first: usize,
        group: &[u8],
        probe: &Profile,
        tables: &[(usize, Vec<f64>)],
        model: &KinshipModel,
        freqs: &AlleleFrequencies,
        min_ki: f64,
    ) -> Vec<(f64, u32, u32)> {
        let rows = self.len().saturating_sub(first).min(GROUP_ROWS);
        let mut ki = vec![1.0_f64; rows];
        let mut used = vec![0_u32; rows];
        for (slot, table) in tables {
            let base = 2 * slot * GROUP_ROWS;
            let (Some(a), Some(b)) =
                (group.get(base..base + rows), group.get(base + GROUP_ROWS..base + GROUP_ROWS + rows))
            else {
                continue;
            };
            for (j, (&c, &d)) in a.iter().zip(b).enumerate() {
                // Codes below FIRST_CODE (untyped, wildcard, in the extension) leave the locus out.
                ki[j] *= table.get(usize::from(c) * 256 + usize::from(d)).copied().unwrap_or(1.0);
                used[j] += u32::from(c >= FIRST_CODE && d >= FIRST_CODE);
            }
        }
        let mut out = Vec::new();
        for j in 0..rows {
            let r = first + j;
            let (mut k, mut u) = (ki[j], used[j]);
            // Only rows with extension entries are gathered whole (a gather touches 48 cache lines).
            let extended = self.scan.head(r).is_some_and(|h| h[0] & FLAG_EXTENDED != 0);
            if let Some(row) = extended.then(|| self.row(r)).flatten() {
                let (ek, eu) = self.extension_ki(&row, probe, model, freqs);
                k *= ek;
                u += eu;
            }
            if u > 0 && k >= min_ki {
                out.push((k, r as u32, u));
            }
        }
        out
    }

    /// Kinship index over the loci a row keeps in the extension (loci outside the slots; mixture loci are
    /// left out, kinship is not defined for them).
    fn extension_ki(&self, row: &[u8], probe: &Profile, model: &KinshipModel, freqs: &AlleleFrequencies) -> (f64, u32) {
        let (mut ki, mut used) = (1.0, 0);
        let first = u32::from_le_bytes([row[52], row[53], row[54], row[55]]) as usize;
        let count = usize::from(u16::from_le_bytes([row[56], row[57]]));
        for i in first..first + count {
            let Some((locus, alleles)) = self.ext.entry(i) else { continue };
            if usize::from(locus) < SLOT_LOCI && row.get(2 * usize::from(locus)) == Some(&CODE_EXTENDED) {
                continue;
            }
            let Some(p) = probe.alleles(locus) else { continue };
            if let Some(k) = kinship::locus_ki(locus, p, alleles, model, freqs) {
                ki *= k;
                used += 1;
            }
        }
        (ki, used)
    }
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
/// Public so that the fuzz target can wrap arbitrary payloads in a valid header.
pub fn checksum(bytes: &[u8]) -> u64 {
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
        let mut p = Vec::with_capacity(self.len() * ROW_BYTES + self.ids.data.len() + 1024);
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
        for r in 0..self.len() {
            p.extend_from_slice(&self.row(r).unwrap_or([0; ROW_BYTES]));
        }
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
                // Both bytes untyped or neither, both "in the extension" or neither (found by cargo-fuzz).
                if usize::from(a) >= limit
                    || usize::from(b) >= limit
                    || (a == CODE_UNTYPED) != (b == CODE_UNTYPED)
                    || (a == CODE_EXTENDED) != (b == CODE_EXTENDED)
                {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dna::loci;

    #[test]
    fn half_extended_slot_is_refused_on_load() {
        // Regression for a cargo-fuzz find: a row with one allele byte "in the extension" and the other a
        // designation was accepted but could not be decoded.
        let th01 = loci::lookup("TH01").unwrap();
        let p = Profile::new(ProfileKind::Reference, [(th01, vec![Allele::Repeat(60), Allele::Repeat(93)])]);
        let mut index = DnaIndex::build(&["a".to_owned()], &[p]).unwrap();
        let slot = usize::from(th01);
        index.scan.set_code(0, 2 * slot, CODE_EXTENDED);
        let err = DnaIndex::from_bytes(&index.to_bytes()).unwrap_err();
        assert!(matches!(err, MatchError::IndexFile(m) if m.contains("out of range")));
    }
}
