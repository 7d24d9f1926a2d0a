//! DNA profiles: single-source references and stains that may be mixtures, their parsing from long tables
//! (`profile_id, locus, allele[, kind]`) with a reject reason for every row that cannot be used, and the
//! compact layout the index scans.
//!
//! # Compact scan layout
//!
//! Each profile is one 64-byte row (one cache line), so a 10M-profile database is 640 MB. The index keeps
//! the 48 allele bytes transposed in groups of 4096 profiles for the scan and the 16 header bytes row-major
//! (`scan.rs`); the index file stores the rows as below.
//!
//! | bytes  | content |
//! |--------|---------|
//! | 0..48  | 24 slot loci (the first [`SLOT_LOCI`] catalogue entries) × 2 allele codes, ascending; a homozygote repeats its code |
//! | 48     | flags: bit 0 mixture, bit 1 stain, bit 2 has extension entries |
//! | 49     | number of typed STR loci (slot and extension, Amelogenin excluded) |
//! | 50     | Amelogenin: bit 0 X, bit 1 Y |
//! | 51     | reserved (0) |
//! | 52..56 | first extension entry (u32 LE) |
//! | 56..58 | number of extension entries (u16 LE) |
//! | 58..64 | reserved (0) |
//!
//! Allele codes are per locus: 0 = locus not typed, 1 = wildcard `*`, 2 = "see the extension" (a mixture
//! locus with more than two alleles, or an allele past the 253 codes of the locus), 3.. = the locus's
//! designations sorted by their Prüm comparison value, so that every Prüm-equivalence class (e.g. TH01 9, 9.1,
//! 9.2, 9.3) is one contiguous code range and the scan compares ranges, not look-up tables. Loci outside the
//! 24 slots (FES, F13A1, …) live in the extension, a flat side table read only for candidate rows.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::columns::StrColumn;
use crate::error::{MatchError, MatchResult};

use super::allele::{self, Allele, PrumValue};
use super::loci::{self, LocusId, AMELOGENIN, SLOT_LOCI};

/// Most alleles accepted at one locus of one profile (a four-person mixture shows at most eight).
pub const MAX_ALLELES_PER_LOCUS: usize = 8;

/// Whether a profile comes from one known person or from a crime scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// A single-source profile of a person (arrestee, convicted offender, missing person's relative).
    Reference,
    /// A crime-scene stain: may be partial or a mixture.
    Stain,
}

/// The alleles typed at one locus: distinct, in the order the input gave them (the Prüm third-allele rule
/// keeps "the first allele").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocusTyping {
    /// Catalogue id.
    pub locus: LocusId,
    /// Distinct alleles in input order; one allele means a homozygote.
    pub alleles: Vec<Allele>,
}

/// One DNA profile as the matcher compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Typed loci sorted by locus id (Amelogenin included; rules never count it).
    pub loci: Vec<LocusTyping>,
    /// Reference or stain.
    pub kind: ProfileKind,
}

impl Profile {
    /// Builds a profile from `(locus, alleles)` pairs; later duplicates of a locus are merged.
    pub fn new(kind: ProfileKind, typings: impl IntoIterator<Item = (LocusId, Vec<Allele>)>) -> Profile {
        let mut loci: Vec<LocusTyping> = Vec::new();
        for (locus, alleles) in typings {
            let slot = if let Some(i) = loci.iter().position(|t| t.locus == locus) {
                i
            } else {
                loci.push(LocusTyping { locus, alleles: Vec::new() });
                loci.len() - 1
            };
            for a in alleles {
                if !loci[slot].alleles.contains(&a) {
                    loci[slot].alleles.push(a);
                }
            }
        }
        loci.retain(|t| !t.alleles.is_empty());
        loci.sort_by_key(|t| t.locus);
        Profile { loci, kind }
    }

    /// Alleles at a locus, `None` when it is not typed.
    pub fn alleles(&self, locus: LocusId) -> Option<&[Allele]> {
        self.loci.binary_search_by_key(&locus, |t| t.locus).ok().map(|i| self.loci[i].alleles.as_slice())
    }

    /// True when any STR locus shows more than two alleles.
    pub fn is_mixture(&self) -> bool {
        self.loci.iter().any(|t| t.locus != AMELOGENIN && t.alleles.len() > 2)
    }

    /// Number of typed STR loci (Amelogenin excluded).
    pub fn str_loci(&self) -> usize {
        self.loci.iter().filter(|t| t.locus != AMELOGENIN).count()
    }

    /// Prüm annex 1.1: "If three alleles are provided for one locus the first allele will be accepted and
    /// the remaining two alleles have to be automatically converted ... to a wild card (*)". Applied to
    /// references (single-source by definition); returns how many loci were converted.
    pub fn apply_prum_third_allele_rule(&mut self) -> usize {
        let mut converted = 0;
        for t in &mut self.loci {
            if t.locus != AMELOGENIN && t.alleles.len() > 2 {
                let first = t.alleles[0];
                t.alleles = if first.is_wildcard() { vec![Allele::Wildcard] } else { vec![first, Allele::Wildcard] };
                converted += 1;
            }
        }
        converted
    }
}

/// A row of the input that could not be used, with the reason a person reads in `rejects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReject {
    /// Zero-based row of the long table.
    pub row: usize,
    /// Why the row was not used.
    pub reason: String,
}

/// Profiles parsed from a long table: ids in first-appearance order, profiles and per-row rejects.
#[derive(Debug, Clone, Default)]
pub struct ParsedProfiles {
    /// Profile ids, one per profile, in the order they first appear.
    pub ids: Vec<String>,
    /// The profiles, parallel to `ids`.
    pub profiles: Vec<Profile>,
    /// Rows that went into no profile, each with its reason.
    pub rejects: Vec<RowReject>,
    /// Loci converted by the Prüm third-allele rule (reported in summaries).
    pub prum_conversions: usize,
}

fn kind_of(text: &str) -> Option<ProfileKind> {
    match text.trim().to_ascii_lowercase().as_str() {
        "reference" | "ref" | "offender" | "arrestee" | "convicted offender" => Some(ProfileKind::Reference),
        "stain" | "forensic" | "forensic unknown" | "crime scene" | "mixture" => Some(ProfileKind::Stain),
        _ => None,
    }
}

/// A profile being gathered from long-table rows: (locus, alleles, rows), the kind given, bad loci.
struct Acc {
    loci: Vec<(LocusId, Vec<Allele>, Vec<usize>)>,
    kind: Option<ProfileKind>,
    bad: Vec<LocusId>,
}

/// Parses a long table into profiles. Every row either contributes an allele or becomes a [`RowReject`]:
/// a missing id, an unknown locus, an allele that is not an allele, an unknown kind. When one allele of a
/// locus is rejected the whole locus of that profile is left out (a half-known genotype would match
/// wrongly), and its other rows are rejected with that reason. A profile without any STR locus is rejected
/// row by row. A profile whose `kind` is missing is a stain when it shows more than two alleles at a locus
/// (a mixture), otherwise a reference; a reference with a third allele gets the Prüm conversion.
pub fn parse_long(
    ids: &StrColumn<'_>,
    loci_col: &StrColumn<'_>,
    alleles: &StrColumn<'_>,
    kinds: Option<&StrColumn<'_>>,
) -> MatchResult<ParsedProfiles> {
    if ids.len() != loci_col.len() || ids.len() != alleles.len() || kinds.is_some_and(|k| k.len() != ids.len()) {
        return Err(MatchError::invalid("profile_id, locus, allele (and kind) must have the same number of rows"));
    }
    let rows = ids.len();
    let mut out = ParsedProfiles::default();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut accs: Vec<Acc> = Vec::new();
    let reject = |row: usize, reason: String, out: &mut ParsedProfiles| out.rejects.push(RowReject { row, reason });

    for row in 0..rows {
        let id = match ids.get(row) {
            None => {
                reject(row, "missing profile_id".into(), &mut out);
                continue;
            }
            Some(Err(_)) => {
                reject(row, "profile_id is not valid UTF-8".into(), &mut out);
                continue;
            }
            Some(Ok(s)) if s.trim().is_empty() => {
                reject(row, "empty profile_id".into(), &mut out);
                continue;
            }
            Some(Ok(s)) => s,
        };
        let p = *by_id.entry(id).or_insert_with(|| {
            out.ids.push(id.to_owned());
            accs.push(Acc { loci: Vec::new(), kind: None, bad: Vec::new() });
            accs.len() - 1
        });
        if let Some(k) = kinds {
            match k.get(row) {
                None => {}
                Some(Ok(text)) if text.trim().is_empty() => {}
                Some(Ok(text)) => {
                    if let Some(kind) = kind_of(text) {
                        if accs[p].kind.is_none() {
                            accs[p].kind = Some(kind);
                        }
                    } else {
                        reject(row, format!("kind '{text}' is neither 'reference' nor 'stain'"), &mut out);
                        continue;
                    }
                }
                Some(Err(_)) => {
                    reject(row, "kind is not valid UTF-8".into(), &mut out);
                    continue;
                }
            }
        }
        let locus = match loci_col.get(row) {
            None => {
                reject(row, "missing locus".into(), &mut out);
                continue;
            }
            Some(Err(_)) => {
                reject(row, "locus is not valid UTF-8".into(), &mut out);
                continue;
            }
            Some(Ok(name)) => {
                if let Some(l) = loci::lookup(name) {
                    l
                } else {
                    reject(row, format!("unknown locus '{}'", name.trim()), &mut out);
                    continue;
                }
            }
        };
        let text = match alleles.get(row) {
            None => {
                reject(row, format!("missing allele at {}", loci::name(locus)), &mut out);
                mark_bad(&mut accs[p].bad, locus);
                continue;
            }
            Some(Err(_)) => {
                reject(row, "allele is not valid UTF-8".into(), &mut out);
                mark_bad(&mut accs[p].bad, locus);
                continue;
            }
            Some(Ok(t)) => t,
        };
        match allele::parse(text, locus) {
            Ok(a) => {
                let acc = &mut accs[p];
                let entry = if let Some(i) = acc.loci.iter().position(|(l, _, _)| *l == locus) {
                    i
                } else {
                    acc.loci.push((locus, Vec::new(), Vec::new()));
                    acc.loci.len() - 1
                };
                let (_, list, row_list) = &mut acc.loci[entry];
                if !list.contains(&a) {
                    list.push(a);
                }
                row_list.push(row);
            }
            Err(why) => {
                reject(row, format!("{} at {}", why.reason(), loci::name(locus)), &mut out);
                mark_bad(&mut accs[p].bad, locus);
            }
        }
    }

    for acc in accs {
        let mut typings = Vec::new();
        let mut kept_rows = Vec::new();
        for (locus, list, row_list) in acc.loci {
            if acc.bad.contains(&locus) {
                for row in row_list {
                    reject(
                        row,
                        format!("left out with locus {}: another allele of this locus was rejected", loci::name(locus)),
                        &mut out,
                    );
                }
            } else if list.len() > MAX_ALLELES_PER_LOCUS {
                for row in row_list {
                    reject(
                        row,
                        format!("more than {MAX_ALLELES_PER_LOCUS} alleles at {}", loci::name(locus)),
                        &mut out,
                    );
                }
            } else {
                kept_rows.extend(row_list);
                typings.push((locus, list));
            }
        }
        let mut profile = Profile::new(acc.kind.unwrap_or(ProfileKind::Reference), typings);
        if acc.kind.is_none() && profile.is_mixture() {
            profile.kind = ProfileKind::Stain;
        }
        if profile.kind == ProfileKind::Reference {
            out.prum_conversions += profile.apply_prum_third_allele_rule();
        }
        if profile.str_loci() == 0 {
            for row in kept_rows {
                reject(row, "profile has no usable STR locus".into(), &mut out);
            }
            profile.loci.clear();
        }
        out.profiles.push(profile);
    }
    // Drop the profiles that ended up empty, keeping ids and profiles parallel.
    let (ids, profiles): (Vec<String>, Vec<Profile>) =
        out.ids.drain(..).zip(out.profiles.drain(..)).filter(|(_, p)| !p.loci.is_empty()).unzip();
    out.ids = ids;
    out.profiles = profiles;
    out.rejects.sort_by_key(|r| r.row);
    Ok(out)
}

fn mark_bad(bad: &mut Vec<LocusId>, locus: LocusId) {
    if !bad.contains(&locus) {
        bad.push(locus);
    }
}

/// Bytes per profile in the compact layout.
pub const ROW_BYTES: usize = 64;
/// Bytes holding allele codes at the start of a row.
pub const ALLELE_BYTES: usize = 2 * SLOT_LOCI;
/// Code of an untyped locus.
pub const CODE_UNTYPED: u8 = 0;
/// Code of the wildcard `*`.
pub const CODE_WILDCARD: u8 = 1;
/// Code meaning "the locus is in the extension".
pub const CODE_EXTENDED: u8 = 2;
/// First code of a designation.
pub const FIRST_CODE: u8 = 3;
/// Row flag: the profile is a mixture.
pub const FLAG_MIXTURE: u8 = 1;
/// Row flag: the profile is a stain.
pub const FLAG_STAIN: u8 = 2;
/// Row flag: the profile has extension entries.
pub const FLAG_EXTENDED: u8 = 4;

/// Per slot locus, the designations that have a code, sorted by Prüm value then designation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlleleCodes {
    /// `designations[locus][code - FIRST_CODE]`.
    pub designations: Vec<Vec<Allele>>,
}

impl AlleleCodes {
    /// Assigns codes to the designations seen at each slot locus of `profiles` (references and the
    /// two-allele loci of stains); at most 253 per locus, the rarest overflow to the extension.
    pub fn build<'a>(profiles: impl Iterator<Item = &'a Profile>) -> AlleleCodes {
        let list: Vec<&Profile> = profiles.collect();
        AlleleCodes::build_with(list.len(), |i| list[i].clone())
    }

    /// As [`AlleleCodes::build`], for profiles produced one at a time by `profile_at(0..n)`.
    /// Counted in parallel (per-task tables merged by addition, so the result does not depend on the split).
    pub fn build_with(n: usize, profile_at: impl Fn(usize) -> Profile + Sync) -> AlleleCodes {
        let empty = || vec![HashMap::<Allele, u64>::new(); SLOT_LOCI];
        let counts: Vec<HashMap<Allele, u64>> = (0..n)
            .into_par_iter()
            .fold(empty, |mut counts, i| {
                for t in &profile_at(i).loci {
                    if usize::from(t.locus) < SLOT_LOCI && t.alleles.len() <= 2 {
                        for a in &t.alleles {
                            if !a.is_wildcard() {
                                *counts[usize::from(t.locus)].entry(*a).or_default() += 1;
                            }
                        }
                    }
                }
                counts
            })
            .reduce(empty, |mut a, b| {
                for (into, from) in a.iter_mut().zip(b) {
                    for (allele, k) in from {
                        *into.entry(allele).or_default() += k;
                    }
                }
                a
            });
        let capacity = usize::from(u8::MAX - FIRST_CODE) + 1;
        let designations = counts
            .into_iter()
            .enumerate()
            .map(|(locus, c)| {
                let mut seen: Vec<(Allele, u64)> = c.into_iter().collect();
                if seen.len() > capacity {
                    // Keep the most frequent designations; ties broken by designation for determinism.
                    seen.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    seen.truncate(capacity);
                }
                let mut list: Vec<Allele> = seen.into_iter().map(|(a, _)| a).collect();
                list.sort_by_key(|a| a.prum_order(locus as LocusId));
                list
            })
            .collect();
        AlleleCodes { designations }
    }

    /// Code of a designation at a slot locus, `None` when it has none.
    pub fn code(&self, locus: LocusId, allele: Allele) -> Option<u8> {
        if allele.is_wildcard() {
            return Some(CODE_WILDCARD);
        }
        let list = self.designations.get(usize::from(locus))?;
        let l = locus;
        list.binary_search_by(|x| x.prum_order(l).cmp(&allele.prum_order(l))).ok().map(|i| i as u8 + FIRST_CODE)
    }

    /// Designation of a code (codes ≥ [`FIRST_CODE`]).
    pub fn allele(&self, locus: LocusId, code: u8) -> Option<Allele> {
        match code {
            CODE_WILDCARD => Some(Allele::Wildcard),
            c if c >= FIRST_CODE => {
                self.designations.get(usize::from(locus))?.get(usize::from(c - FIRST_CODE)).copied()
            }
            _ => None,
        }
    }

    /// Inclusive code range of the designations with this Prüm value at a slot locus (`None` if none).
    pub fn prum_range(&self, locus: LocusId, value: PrumValue) -> Option<(u8, u8)> {
        let list = self.designations.get(usize::from(locus))?;
        let lo = list.partition_point(|a| a.prum_value(locus) < value);
        let hi = list.partition_point(|a| a.prum_value(locus) <= value);
        (lo < hi).then(|| (lo as u8 + FIRST_CODE, (hi - 1) as u8 + FIRST_CODE))
    }
}

/// Loci of profiles that do not fit the 48 allele bytes, in one flat table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extension {
    /// Locus of each entry.
    pub locus: Vec<LocusId>,
    /// `entries + 1` offsets into `alleles`.
    pub start: Vec<u32>,
    /// Alleles of all entries, in input order per entry.
    pub alleles: Vec<Allele>,
}

impl Extension {
    /// An empty extension.
    pub fn new() -> Extension {
        Extension { locus: Vec::new(), start: vec![0], alleles: Vec::new() }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.locus.len()
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.locus.is_empty()
    }

    fn push(&mut self, locus: LocusId, alleles: &[Allele]) -> MatchResult<()> {
        self.locus.push(locus);
        self.alleles.extend_from_slice(alleles);
        let end = u32::try_from(self.alleles.len())
            .map_err(|_| MatchError::invalid("more than 4 billion extension alleles in one index"))?;
        self.start.push(end);
        Ok(())
    }

    /// Entry `i` as `(locus, alleles)`; `None` past the end.
    pub fn entry(&self, i: usize) -> Option<(LocusId, &[Allele])> {
        let locus = *self.locus.get(i)?;
        let (s, e) = (*self.start.get(i)? as usize, *self.start.get(i + 1)? as usize);
        Some((locus, self.alleles.get(s..e)?))
    }
}

/// Writes one profile as a compact row (appending its overflow loci to `ext`).
pub fn encode_row(profile: &Profile, codes: &AlleleCodes, ext: &mut Extension) -> MatchResult<[u8; ROW_BYTES]> {
    let mut row = [0_u8; ROW_BYTES];
    let ext_first = u32::try_from(ext.len()).map_err(|_| MatchError::invalid("too many extension entries"))?;
    let mut ext_count: u16 = 0;
    let mut flags = 0;
    if profile.kind == ProfileKind::Stain {
        flags |= FLAG_STAIN;
    }
    if profile.is_mixture() {
        flags |= FLAG_MIXTURE;
    }
    for t in &profile.loci {
        if t.locus == AMELOGENIN {
            for a in &t.alleles {
                row[50] |= match a {
                    Allele::X => 1,
                    Allele::Y => 2,
                    _ => 0,
                };
            }
            continue;
        }
        let slot = usize::from(t.locus);
        let coded: Option<Vec<u8>> = if slot < SLOT_LOCI && t.alleles.len() <= 2 {
            t.alleles.iter().map(|a| codes.code(t.locus, *a)).collect()
        } else {
            None
        };
        if let Some(mut c) = coded {
            c.sort_unstable();
            let (a, b) = (c[0], *c.last().unwrap_or(&c[0]));
            row[2 * slot] = a;
            row[2 * slot + 1] = b;
        } else {
            if slot < SLOT_LOCI {
                row[2 * slot] = CODE_EXTENDED;
                row[2 * slot + 1] = CODE_EXTENDED;
            }
            ext.push(t.locus, &t.alleles)?;
            ext_count = ext_count.saturating_add(1);
        }
    }
    if ext_count > 0 {
        flags |= FLAG_EXTENDED;
    }
    row[48] = flags;
    row[49] = profile.str_loci().min(255) as u8;
    row[52..56].copy_from_slice(&ext_first.to_le_bytes());
    row[56..58].copy_from_slice(&ext_count.to_le_bytes());
    Ok(row)
}

/// Reads a compact row back into a profile (the inverse of [`encode_row`]); `None` on codes the
/// dictionary does not know (only possible for a corrupted index, which loading already refuses).
pub fn decode_row(row: &[u8], codes: &AlleleCodes, ext: &Extension) -> Option<Profile> {
    if row.len() < ROW_BYTES {
        return None;
    }
    let kind = if row[48] & FLAG_STAIN != 0 { ProfileKind::Stain } else { ProfileKind::Reference };
    let mut typings: Vec<(LocusId, Vec<Allele>)> = Vec::new();
    for slot in 0..SLOT_LOCI {
        let (a, b) = (row[2 * slot], row[2 * slot + 1]);
        if a == CODE_UNTYPED || a == CODE_EXTENDED {
            continue;
        }
        let locus = slot as LocusId;
        let mut list = vec![codes.allele(locus, a)?];
        if b != a {
            list.push(codes.allele(locus, b)?);
        }
        typings.push((locus, list));
    }
    let amel = row[50];
    if amel != 0 {
        let mut list = Vec::new();
        if amel & 1 != 0 {
            list.push(Allele::X);
        }
        if amel & 2 != 0 {
            list.push(Allele::Y);
        }
        typings.push((AMELOGENIN, list));
    }
    let first = u32::from_le_bytes([row[52], row[53], row[54], row[55]]) as usize;
    let count = usize::from(u16::from_le_bytes([row[56], row[57]]));
    for i in first..first + count {
        let (locus, alleles) = ext.entry(i)?;
        typings.push((locus, alleles.to_vec()));
    }
    Some(Profile::new(kind, typings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::StrColumnBuilder;

    fn col(values: &[Option<&str>]) -> StrColumnBuilder {
        let mut b = StrColumnBuilder::with_capacity(values.len(), 16);
        for v in values {
            b.push(*v);
        }
        b
    }

    fn parse(rows: &[(&str, &str, &str)]) -> ParsedProfiles {
        fn c(b: &StrColumnBuilder) -> StrColumn<'_> {
            StrColumn::new(&b.offsets, &b.data, Some(&b.valid)).unwrap()
        }
        let ids = col(&rows.iter().map(|r| Some(r.0)).collect::<Vec<_>>());
        let loci = col(&rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>());
        let alleles = col(&rows.iter().map(|r| Some(r.2)).collect::<Vec<_>>());
        parse_long(&c(&ids), &c(&loci), &c(&alleles), None).unwrap()
    }

    #[test]
    fn homozygote_written_once_or_twice_is_the_same() {
        let p = parse(&[("a", "TH01", "9"), ("b", "TH01", "9"), ("b", "TH01", "9")]);
        assert_eq!(p.profiles[0].loci, p.profiles[1].loci);
        assert!(p.rejects.is_empty());
    }

    #[test]
    fn bad_rows_are_rejected_and_their_locus_left_out() {
        let p = parse(&[
            ("a", "TH01", "9"),
            ("a", "TH01", "abc"),
            ("a", "D99", "12"),
            ("a", "FGA", "22"),
            ("b", "Amelogenin", "X"),
        ]);
        assert_eq!(p.ids, vec!["a"]);
        let reasons: Vec<_> = p.rejects.iter().map(|r| (r.row, r.reason.as_str())).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].1.contains("left out with locus TH01"));
        assert!(reasons[1].1.contains("'abc'"));
        assert!(reasons[2].1.contains("unknown locus 'D99'"));
        assert!(reasons[3].1.contains("no usable STR locus"));
        assert_eq!(p.profiles[0].str_loci(), 1);
    }

    #[test]
    fn third_allele_of_a_reference_becomes_a_wildcard_mixture_stays() {
        let p = parse(&[("a", "TH01", "9"), ("a", "TH01", "6"), ("a", "TH01", "7")]);
        assert_eq!(p.profiles[0].kind, ProfileKind::Stain);
        assert!(p.profiles[0].is_mixture());
        let mut r = p.profiles[0].clone();
        r.kind = ProfileKind::Reference;
        assert_eq!(r.apply_prum_third_allele_rule(), 1);
        assert_eq!(r.loci[0].alleles, vec![Allele::Repeat(90), Allele::Wildcard]);
    }

    #[test]
    fn rows_round_trip_through_the_compact_layout() {
        let p = parse(&[
            ("a", "TH01", "9.3"),
            ("a", "TH01", "6"),
            ("a", "FES", "11"),
            ("a", "AMEL", "X"),
            ("a", "AMEL", "Y"),
            ("a", "D3S1358", "15"),
            ("a", "D3S1358", "16"),
            ("a", "D3S1358", "17"),
            ("a", "vWA", "*"),
        ]);
        let codes = AlleleCodes::build(p.profiles.iter());
        let mut ext = Extension::new();
        let row = encode_row(&p.profiles[0], &codes, &mut ext).unwrap();
        assert_eq!(ext.len(), 2);
        let back = decode_row(&row, &codes, &ext).unwrap();
        let mut want = p.profiles[0].clone();
        for t in &mut want.loci {
            t.alleles.sort();
        }
        let mut got = back;
        for t in &mut got.loci {
            t.alleles.sort();
        }
        assert_eq!(got, want);
    }

    #[test]
    fn prum_classes_are_contiguous_code_ranges() {
        let p = parse(&[("a", "TH01", "9"), ("a", "TH01", "9.3"), ("b", "TH01", "10"), ("b", "TH01", "8")]);
        let codes = AlleleCodes::build(p.profiles.iter());
        let th01 = loci::lookup("TH01").unwrap();
        let (lo, hi) = codes.prum_range(th01, PrumValue::Repeat(9)).unwrap();
        assert_eq!(hi - lo, 1);
        assert_eq!(codes.allele(th01, lo), Some(Allele::Repeat(90)));
        assert_eq!(codes.allele(th01, hi), Some(Allele::Repeat(93)));
        assert_eq!(codes.prum_range(th01, PrumValue::Repeat(11)), None);
    }
}
