//! The plate index: alerts normalised once, an exact/OCR table on folded keys, lazily built deletion
//! neighbourhoods for edit matching, and the matching of read columns against it (in parallel, with output
//! identical for any thread count or batch split).
//!
//! Hit order (ARCHITECTURE): read order, then score descending, then alert id. Alerts are numbered densely
//! in (alert id, input row) order at build time, so "then alert id" is "then dense number".

mod edit_join;

use std::ops::Range;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::columns::StrColumn;
use crate::error::{MatchError, MatchResult};
use crate::plate::country::{normalise_country_bytes, Country, CountryPolicy};
use crate::plate::distance::{
    lookalike_substitutions_by, weighted_distance_within_by, wildcard_matches, KeyChars, EDIT_COST, LOOKALIKE_COST,
};
use crate::plate::neighbourhood::{deletion_hash, for_each_deletion, hash_chars, Neighbourhood};
use crate::plate::normalise::{normalise_plate_bytes_append, normalise_plate_into, PlateReject, MAX_PLATE_LEN};
use crate::plate::ocr::OcrClasses;

/// Largest `max_edits` supported: the deletion neighbourhood of depth 3 would hold ~100 entries per alert.
pub const MAX_EDITS: u32 = 2;

/// Reads matched per parallel task; big enough to amortise the task, small enough to balance two cores.
const READS_PER_TASK: usize = 2048;

/// Reads matched together phase by phase inside a task (see [`PlateIndex::match_group`]): enough lookups to
/// keep many cache misses in flight, few enough that the group's scratch stays in the L1 cache.
const READS_PER_GROUP: usize = 32;

/// A column of optional timestamps (epoch microseconds), borrowed from Arrow / numpy buffers.
#[derive(Debug, Clone, Copy)]
pub struct TimeColumn<'a> {
    values: &'a [i64],
    valid: Option<&'a [bool]>,
}

impl<'a> TimeColumn<'a> {
    /// Checks that the validity (if any) has one entry per value.
    pub fn new(values: &'a [i64], valid: Option<&'a [bool]>) -> MatchResult<Self> {
        if let Some(v) = valid {
            if v.len() != values.len() {
                return Err(MatchError::invalid(format!(
                    "timestamp column: validity has {} entries for {} rows",
                    v.len(),
                    values.len()
                )));
            }
        }
        Ok(TimeColumn { values, valid })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Row `i`, `None` when null or out of range.
    #[inline]
    pub fn get(&self, i: usize) -> Option<i64> {
        if self.valid.is_some_and(|v| !v.get(i).copied().unwrap_or(false)) {
            return None;
        }
        self.values.get(i).copied()
    }
}

/// The alert table as columns: `alert_id`, `plate`, optional `country`, `valid_from`, `valid_to`.
#[derive(Debug, Clone, Copy)]
pub struct AlertColumns<'a> {
    /// Opaque alert identifiers.
    pub alert_id: StrColumn<'a>,
    /// Plates as received (may hold `?` / `*` for partial plates).
    pub plate: StrColumn<'a>,
    /// ISO alpha-2 or vehicle codes; null = unknown.
    pub country: Option<StrColumn<'a>>,
    /// Start of validity, epoch µs; null = always valid before.
    pub valid_from: Option<TimeColumn<'a>>,
    /// End of validity (inclusive), epoch µs; null = never expires.
    pub valid_to: Option<TimeColumn<'a>>,
}

/// The read table as columns: `plate`, optional `country` and `seen_at`.
#[derive(Debug, Clone, Copy)]
pub struct ReadColumns<'a> {
    /// Plates as read (a `?` or `*` makes the read a query pattern).
    pub plate: StrColumn<'a>,
    /// ISO alpha-2 or vehicle codes; null = unknown.
    pub country: Option<StrColumn<'a>>,
    /// Moment of the read, epoch µs; null = [`MatchOptions::at`].
    pub seen_at: Option<TimeColumn<'a>>,
}

impl ReadColumns<'_> {
    /// Number of reads; fails when the columns disagree.
    pub fn rows(&self) -> MatchResult<usize> {
        let n = self.plate.len();
        if self.country.is_some_and(|c| c.len() != n) || self.seen_at.is_some_and(|t| t.len() != n) {
            return Err(MatchError::invalid("read columns have different lengths"));
        }
        Ok(n)
    }
}

/// Options of one matching call, validated by [`MatchOptions::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchOptions {
    /// Most look-alike substitutions for an `ocr` hit (0 turns `ocr` off).
    pub max_ocr: u32,
    /// Largest weighted edit distance for an `edit` hit, in edits (0 = off, at most [`MAX_EDITS`]).
    pub max_edits: u32,
    /// Plates (read or alert) shorter than this get no `edit` hits, and `ocr` hits only within
    /// [`Self::max_ocr_short`]: short keys collide too easily under edits.
    pub min_fuzzy_length: usize,
    /// Most look-alike substitutions for an `ocr` hit between plates shorter than `min_fuzzy_length` (capped
    /// by `max_ocr`; 0 = no fuzzy kinds at all for short plates).
    ///
    /// Why short plates keep a narrow `ocr` kind: the issue bounds the wide `edit` kind by length, but a
    /// look-alike swap is the commonest ANPR error on any plate, and German plates have 3 or 4 characters
    /// (`B A 1`, `M AB 12`). Measured at 1M synthetic alerts, defaults, 1M unrelated random reads
    /// (`benches/test_bench_plates.py::test_accuracy...`): with no fuzzy kind below 5 characters, 0.77% of
    /// one-look-alike reads were missed (all short); allowing one look-alike substitution on short plates finds
    /// all of them and adds 0.075% of random reads with a false `ocr` hit (0.69% → 0.77%, within the ~1% the
    /// issue accepts for look-alike swaps). Two substitutions would add 0.095% for no further recall, and an
    /// edit on a 3–4 character key matches a large share of all short plates, so both stay off.
    pub max_ocr_short: u32,
    /// Which countries may hit each other.
    pub country_policy: CountryPolicy,
    /// Moment (epoch µs) at which reads without `seen_at` check alert validity.
    pub at: i64,
}

impl MatchOptions {
    /// Checks the ranges of the options.
    pub fn new(
        max_ocr: u32,
        max_edits: u32,
        min_fuzzy_length: usize,
        max_ocr_short: u32,
        country_policy: CountryPolicy,
        at: i64,
    ) -> MatchResult<Self> {
        if max_edits > MAX_EDITS {
            return Err(MatchError::invalid(format!("max_edits must be 0, 1 or 2, not {max_edits}")));
        }
        if max_ocr > MAX_PLATE_LEN as u32 {
            return Err(MatchError::invalid(format!("max_ocr must be between 0 and {MAX_PLATE_LEN}, not {max_ocr}")));
        }
        if max_ocr_short > MAX_PLATE_LEN as u32 {
            return Err(MatchError::invalid(format!(
                "max_ocr_short must be between 0 and {MAX_PLATE_LEN}, not {max_ocr_short}"
            )));
        }
        Ok(MatchOptions { max_ocr, max_edits, min_fuzzy_length, max_ocr_short, country_policy, at })
    }
}

/// How a read hit an alert, named on every hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum MatchKind {
    /// Equal keys after normalisation.
    Exact = 1,
    /// Equal up to at most `max_ocr` substitutions inside OCR-equivalence classes.
    Ocr = 2,
    /// Weighted edit distance at most `max_edits`.
    Edit = 3,
    /// A wildcard alert matched the read, or a wildcard read (query pattern) matched the alert.
    Wildcard = 4,
}

impl MatchKind {
    /// Every kind in code order.
    pub const ALL: [MatchKind; 4] = [MatchKind::Exact, MatchKind::Ocr, MatchKind::Edit, MatchKind::Wildcard];

    /// The name on the hit.
    pub fn name(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Ocr => "ocr",
            MatchKind::Edit => "edit",
            MatchKind::Wildcard => "wildcard",
        }
    }
}

/// Hits as columns, sorted by (read, score descending, alert).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hits {
    /// Row of the read in the read table.
    pub read: Vec<u64>,
    /// Dense alert number (see [`PlateIndex::alert_row`] / [`PlateIndex::alert_id`]).
    pub alert: Vec<u32>,
    /// [`MatchKind`] code.
    pub kind: Vec<u8>,
    /// Weighted edit distance in edits: 0 for exact and wildcard, 0.5 per look-alike substitution, 1 per
    /// other substitution, insertion or deletion.
    pub distance: Vec<f32>,
    /// `1 − distance / length of the longer key` for exact, ocr and edit hits; for wildcard hits the share
    /// of the plate's characters fixed by the pattern's literal characters. 1 is certain, lower is weaker.
    pub score: Vec<f32>,
}

impl Hits {
    /// Number of hits.
    pub fn len(&self) -> usize {
        self.read.len()
    }

    /// True when there is no hit.
    pub fn is_empty(&self) -> bool {
        self.read.is_empty()
    }

    fn with_capacity(n: usize) -> Self {
        Hits {
            read: Vec::with_capacity(n),
            alert: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            distance: Vec::with_capacity(n),
            score: Vec::with_capacity(n),
        }
    }

    fn append(&mut self, other: &mut Hits) {
        self.read.append(&mut other.read);
        self.alert.append(&mut other.alert);
        self.kind.append(&mut other.kind);
        self.distance.append(&mut other.distance);
        self.score.append(&mut other.score);
    }
}

/// Result of matching a range of reads: the hits and, for each read of the range, 0 or a reject code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchOutput {
    /// Hits of the range's reads.
    pub hits: Hits,
    /// [`PlateReject`] code per read of the range (0 = matched or unmatched, not rejected).
    pub reject: Vec<u8>,
}

impl MatchOutput {
    /// Appends the output of the next range.
    pub fn append(&mut self, mut other: MatchOutput) {
        self.hits.append(&mut other.hits);
        self.reject.append(&mut other.reject);
    }
}

/// Strings held once, back to back, with `u32` offsets (an index file never exceeds 4 GiB of text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Strings {
    pub(super) offsets: Vec<u32>,
    pub(super) data: Vec<u8>,
}

impl Strings {
    pub(super) fn with_capacity(rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Strings { offsets, data: Vec::with_capacity(rows * 8) }
    }

    pub(super) fn push(&mut self, s: &str) -> MatchResult<()> {
        self.data.extend_from_slice(s.as_bytes());
        let end = u32::try_from(self.data.len()).map_err(|_| MatchError::invalid("alert strings exceed 4 GiB"))?;
        self.offsets.push(end);
        Ok(())
    }

    pub(super) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    #[inline]
    pub(super) fn bytes(&self, i: usize) -> &[u8] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.data.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> &str {
        std::str::from_utf8(self.bytes(i)).unwrap_or_default()
    }

    fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4 + self.data.capacity()
    }
}

/// Keys up to this many UTF-8 bytes are stored inside [`Hot`] (every ASCII plate key is).
const INLINE_KEY: usize = 12;
/// [`Hot::len`] of a key stored only in [`PlateIndex::keys`].
const LONG_KEY: u8 = u8::MAX;

/// The per-alert fields a read touches, together: validity, country, and the key itself when short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, align(32))]
pub(super) struct Hot {
    pub(super) from: i64,
    pub(super) to: i64,
    key: [u8; INLINE_KEY],
    len: u8,
    pattern: bool,
    pub(super) country: Country,
}

impl Hot {
    fn new(key: &str, country: Country, from: i64, to: i64) -> Self {
        let bytes = key.as_bytes();
        let mut inline = [0_u8; INLINE_KEY];
        let len = if let Some(slot) = inline.get_mut(..bytes.len()) {
            slot.copy_from_slice(bytes);
            bytes.len() as u8
        } else {
            LONG_KEY
        };
        let pattern = bytes.iter().any(|&b| b == b'?' || b == b'*');
        Hot { from, to, key: inline, len, pattern, country }
    }
}

/// Immutable, `Send + Sync` index of plate alerts; share it with `Arc`.
#[derive(Debug)]
pub struct PlateIndex {
    pub(super) classes: OcrClasses,
    /// Alert ids in dense order.
    pub(super) ids: Strings,
    /// Normalised keys in dense order (patterns keep `?` / `*`).
    pub(super) keys: Strings,
    /// What matching reads of each alert, packed into one 32-byte record (one cache line access).
    pub(super) hot: Vec<Hot>,
    /// Input row of each dense alert.
    pub(super) row: Vec<u32>,
    /// Refused input rows and their [`PlateReject`] codes, in row order.
    pub(super) rejects: Vec<(u32, u8)>,
    /// Rows in the alert table the index was built from (kept + rejected).
    pub(super) source_rows: u64,
    /// Bytes the caller attached (the Python layer keeps the pass-through columns here); opaque to the core.
    pub(super) attachment: Vec<u8>,
    /// Dense numbers of wildcard alerts.
    pub(super) patterns: Vec<u32>,
    /// Folded key → literal alerts: exact and OCR candidates.
    folded: Neighbourhood,
    /// Folded keys with up to 1 (resp. 2) deletions → literal alerts: edit candidates, built on first use.
    edit: [OnceLock<Neighbourhood>; 2],
    /// Literal alerts ordered by key and by reversed key, for `*` pattern reads; built on first use.
    wildcard: OnceLock<WildcardOrders>,
}

/// Literal alerts (dense numbers) sorted by key bytes and by reversed key bytes: the alerts a pattern can match
/// share its literal prefix (resp. suffix), and those form one run of each order, found by binary search.
#[derive(Debug, Default)]
struct WildcardOrders {
    by_key: Vec<u32>,
    by_reversed_key: Vec<u32>,
}

/// An alert row after normalisation, before dense numbering.
struct AlertRow<'a> {
    id: &'a [u8],
    key: String,
    country: Country,
    from: i64,
    to: i64,
}

impl PlateIndex {
    /// Builds the index from an alert table; refused rows are kept with their reason in [`Self::rejects`].
    pub fn build(alerts: &AlertColumns<'_>, classes: OcrClasses, attachment: Vec<u8>) -> MatchResult<Self> {
        let n = alerts.alert_id.len();
        if alerts.plate.len() != n
            || alerts.country.is_some_and(|c| c.len() != n)
            || alerts.valid_from.is_some_and(|c| c.len() != n)
            || alerts.valid_to.is_some_and(|c| c.len() != n)
        {
            return Err(MatchError::invalid("alert columns have different lengths"));
        }
        if n >= u32::MAX as usize {
            return Err(MatchError::invalid(format!("{n} alerts: an index holds fewer than 2^32")));
        }
        let rows: Vec<Result<AlertRow<'_>, PlateReject>> =
            (0..n).into_par_iter().with_min_len(4096).map(|i| Self::normalise_alert(alerts, i)).collect();
        let mut rejects = Vec::new();
        let mut kept = Vec::with_capacity(n);
        for (i, r) in rows.into_iter().enumerate() {
            match r {
                Ok(row) => kept.push((i as u32, row)),
                Err(why) => rejects.push((i as u32, why.code())),
            }
        }
        // Dense order = (alert id, input row): hits tied on score come out in alert id order.
        kept.par_sort_by(|(ra, a), (rb, b)| a.id.cmp(b.id).then(ra.cmp(rb)));
        let m = kept.len();
        let mut ids = Strings::with_capacity(m);
        let mut keys = Strings::with_capacity(m);
        let mut country = Vec::with_capacity(m);
        let mut valid_from = Vec::with_capacity(m);
        let mut valid_to = Vec::with_capacity(m);
        let mut row = Vec::with_capacity(m);
        for (r, a) in &kept {
            ids.push(std::str::from_utf8(a.id).unwrap_or_default())?;
            keys.push(&a.key)?;
            country.push(a.country);
            valid_from.push(a.from);
            valid_to.push(a.to);
            row.push(*r);
        }
        Ok(Self::assemble(classes, ids, keys, country, valid_from, valid_to, row, rejects, n as u64, attachment))
    }

    fn normalise_alert<'a>(alerts: &AlertColumns<'a>, i: usize) -> Result<AlertRow<'a>, PlateReject> {
        let id = match alerts.alert_id.bytes(i) {
            Some(id) if !id.is_empty() => id,
            _ => return Err(PlateReject::MissingAlertId),
        };
        if std::str::from_utf8(id).is_err() {
            return Err(PlateReject::NotUtf8);
        }
        let text = match alerts.plate.get(i) {
            None => return Err(PlateReject::Empty),
            Some(Err(_)) => return Err(PlateReject::NotUtf8),
            Some(Ok(t)) => t,
        };
        let mut key = String::with_capacity(text.len());
        normalise_plate_into(text, true, &mut key)?;
        if !key.chars().any(char::is_alphanumeric) {
            return Err(PlateReject::PatternWithoutCharacters);
        }
        let country = country_of(alerts.country.as_ref(), i)?;
        let from = alerts.valid_from.and_then(|c| c.get(i)).unwrap_or(i64::MIN);
        let to = alerts.valid_to.and_then(|c| c.get(i)).unwrap_or(i64::MAX);
        if to < from {
            return Err(PlateReject::EmptyValidity);
        }
        Ok(AlertRow { id, key, country, from, to })
    }

    /// Puts the parts together and builds the folded table (also used when loading a file).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn assemble(
        classes: OcrClasses,
        ids: Strings,
        keys: Strings,
        country: Vec<Country>,
        valid_from: Vec<i64>,
        valid_to: Vec<i64>,
        row: Vec<u32>,
        rejects: Vec<(u32, u8)>,
        source_rows: u64,
        attachment: Vec<u8>,
    ) -> Self {
        let hot: Vec<Hot> = (0..keys.len())
            .map(|a| {
                let get = |v: &[i64], d: i64| v.get(a).copied().unwrap_or(d);
                Hot::new(
                    keys.get(a),
                    country.get(a).copied().unwrap_or_default(),
                    get(&valid_from, i64::MIN),
                    get(&valid_to, i64::MAX),
                )
            })
            .collect();
        let patterns = hot.iter().enumerate().filter(|(_, h)| h.pattern).map(|(a, _)| a as u32).collect();
        let mut index = PlateIndex {
            classes,
            ids,
            keys,
            hot,
            row,
            rejects,
            source_rows,
            attachment,
            patterns,
            folded: Neighbourhood::default(),
            edit: [OnceLock::new(), OnceLock::new()],
            wildcard: OnceLock::new(),
        };
        index.folded = index.neighbourhood(0);
        index
    }

    /// Table of the folded keys of literal alerts with up to `depth` deletions.
    fn neighbourhood(&self, depth: usize) -> Neighbourhood {
        let entries: Vec<(u64, u32)> = (0..self.len())
            .into_par_iter()
            .with_min_len(4096)
            .filter(|&a| !self.hot[a].pattern)
            .flat_map_iter(|a| {
                let folded = self.folded_key(a);
                let mut out = Vec::with_capacity(1 + folded.len() * depth);
                if depth == 0 {
                    // The exact/OCR table: the folded key under the exact path's hash.
                    out.push((hash_chars(folded.as_slice().iter().copied()), a as u32));
                } else {
                    for_each_deletion(folded.as_slice(), depth, |h| out.push((h, a as u32)));
                }
                out
            })
            .collect();
        Neighbourhood::build(entries)
    }

    fn folded_key(&self, a: usize) -> KeyChars {
        let mut k = KeyChars::new(self.keys.get(a)).unwrap_or_default();
        k.map_in_place(|c| self.classes.fold(c));
        k
    }

    /// The edit table for `max_edits` (1 or 2), built on first use and then shared by every caller.
    fn edit_table(&self, max_edits: u32) -> &Neighbourhood {
        let slot = &self.edit[(max_edits.clamp(1, MAX_EDITS) - 1) as usize];
        slot.get_or_init(|| self.neighbourhood(max_edits as usize))
    }

    /// The prefix / suffix orders of literal alerts, built on the first `*` pattern read (4 bytes per alert
    /// each; never built for feeds without such patterns).
    fn wildcard_orders(&self) -> &WildcardOrders {
        self.wildcard.get_or_init(|| {
            let mut by_key: Vec<u32> = (0..self.len()).filter(|&a| !self.hot[a].pattern).map(|a| a as u32).collect();
            let mut by_reversed_key = by_key.clone();
            by_key.par_sort_unstable_by(|&x, &y| self.keys.bytes(x as usize).cmp(self.keys.bytes(y as usize)));
            by_reversed_key.par_sort_unstable_by(|&x, &y| {
                self.keys.bytes(x as usize).iter().rev().cmp(self.keys.bytes(y as usize).iter().rev())
            });
            WildcardOrders { by_key, by_reversed_key }
        })
    }

    /// The only alerts that can match `pattern` (a normalised key with `?` / `*`): those whose key starts with
    /// the pattern's literal prefix (the part before its first wildcard) or, when the literal suffix is longer,
    /// ends with that suffix. `None` when the pattern starts and ends with a wildcard: every alert is a
    /// candidate. Wildcard matching compares characters literally, and `?`/`*` are ASCII, so byte prefixes and
    /// suffixes are exact.
    fn wildcard_candidates(&self, pattern: &[u8]) -> Option<&[u32]> {
        let is_wild = |b: &u8| *b == b'?' || *b == b'*';
        let prefix = pattern.get(..pattern.iter().position(is_wild)?)?;
        let suffix = pattern.get(pattern.iter().rposition(is_wild)? + 1..)?;
        if prefix.is_empty() && suffix.is_empty() {
            return None;
        }
        let w = self.wildcard_orders();
        let key = |a: u32| self.keys.bytes(a as usize);
        if prefix.len() >= suffix.len() {
            // Sorted keys: those below the prefix, then those starting with it, then the rest.
            let lo = w.by_key.partition_point(|&a| key(a) < prefix);
            let run = w.by_key.get(lo..)?;
            run.get(..run.partition_point(|&a| key(a).starts_with(prefix)))
        } else {
            let lo = w.by_reversed_key.partition_point(|&a| key(a).iter().rev().lt(suffix.iter().rev()));
            let run = w.by_reversed_key.get(lo..)?;
            run.get(..run.partition_point(|&a| key(a).ends_with(suffix)))
        }
    }

    /// Builds the candidate tables needed for `max_edits` now rather than inside the first matching call.
    pub fn prepare(&self, max_edits: u32) {
        if max_edits > 0 {
            let _ = self.edit_table(max_edits.min(MAX_EDITS));
        }
    }

    /// Number of alerts held (rejected rows excluded).
    pub fn len(&self) -> usize {
        self.row.len()
    }

    /// True when no alert was kept.
    pub fn is_empty(&self) -> bool {
        self.row.is_empty()
    }

    /// Rows of the alert table the index was built from (kept + rejected).
    pub fn source_rows(&self) -> u64 {
        self.source_rows
    }

    /// Input row of dense alert `a`.
    pub fn alert_row(&self, a: usize) -> Option<u32> {
        self.row.get(a).copied()
    }

    /// Input rows of all alerts, in dense order.
    pub fn alert_rows(&self) -> &[u32] {
        &self.row
    }

    /// Id of dense alert `a`.
    pub fn alert_id(&self, a: usize) -> &str {
        self.ids.get(a)
    }

    /// Normalised key of dense alert `a`.
    pub fn alert_key(&self, a: usize) -> &str {
        self.keys.get(a)
    }

    /// Refused alert rows and their [`PlateReject`] codes, in row order.
    pub fn rejects(&self) -> &[(u32, u8)] {
        &self.rejects
    }

    /// The bytes attached at build time.
    pub fn attachment(&self) -> &[u8] {
        &self.attachment
    }

    /// The OCR classes the index folds with.
    pub fn classes(&self) -> &OcrClasses {
        &self.classes
    }

    /// Number of wildcard alerts.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Heap bytes held by the index, including edit tables built so far (the attachment excluded).
    pub fn heap_bytes(&self) -> usize {
        self.ids.heap_bytes()
            + self.keys.heap_bytes()
            + self.hot.capacity() * std::mem::size_of::<Hot>()
            + self.row.capacity() * 4
            + self.rejects.capacity() * 8
            + self.patterns.capacity() * 4
            + self.folded.heap_bytes()
            + self.edit.iter().filter_map(OnceLock::get).map(Neighbourhood::heap_bytes).sum::<usize>()
            + self.wildcard.get().map_or(0, |w| (w.by_key.capacity() + w.by_reversed_key.capacity()) * 4)
    }

    /// Matches reads `rows` of `reads` (in parallel) and returns their hits and reject codes.
    pub fn match_reads(
        &self,
        reads: &ReadColumns<'_>,
        rows: Range<usize>,
        opts: &MatchOptions,
    ) -> MatchResult<MatchOutput> {
        let n = reads.rows()?;
        if rows.start > rows.end || rows.end > n {
            return Err(MatchError::invalid(format!("read range {rows:?} outside 0..{n}")));
        }
        if opts.max_edits > 0 {
            self.prepare(opts.max_edits);
        }
        if opts.max_edits > 0 && rows.len() >= edit_join::MIN_BLOCK_READS {
            // Edit matching looks up every deletion string of every read: joined block by block (edit_join.rs).
            let edit = self.edit_table(opts.max_edits);
            let mut out = MatchOutput { hits: Hits::default(), reject: Vec::with_capacity(rows.len()) };
            let mut start = rows.start;
            while start < rows.end {
                let end = start.saturating_add(edit_join::READS_PER_BLOCK).min(rows.end);
                out.append(self.match_edit_block(reads, start..end, opts, edit));
                start = end;
            }
            return Ok(out);
        }
        let tasks = (rows.end - rows.start).div_ceil(READS_PER_TASK);
        // Scratch buffers and the output columns live per rayon job (`fold`: one accumulator per contiguous run of
        // tasks, in task order), not per task: growing fresh buffers for every task of 2048 reads cost ~20% of the
        // exact path's instructions in allocator calls, and freeing every task's output columns after the
        // concatenation another ~7% in glibc's `malloc_consolidate` (callgrind).
        let parts: Vec<MatchOutput> = (0..tasks)
            .into_par_iter()
            .fold(
                || (Scratch::default(), MatchOutput::default()),
                |(mut scratch, mut out), t| {
                    let start = rows.start + t * READS_PER_TASK;
                    let end = (start + READS_PER_TASK).min(rows.end);
                    self.match_task(reads, start..end, opts, &mut scratch, &mut out);
                    (scratch, out)
                },
            )
            .map(|(_, out)| out)
            .collect();
        if parts.len() == 1 {
            return Ok(parts.into_iter().next().unwrap_or_default());
        }
        let hits: usize = parts.iter().map(|p| p.hits.len()).sum();
        let mut out = MatchOutput { hits: Hits::with_capacity(hits), reject: Vec::with_capacity(rows.len()) };
        for part in parts {
            out.append(part);
        }
        Ok(out)
    }

    /// Appends the hits and reject codes of reads `rows` to `out`, group by group.
    fn match_task(
        &self,
        reads: &ReadColumns<'_>,
        rows: Range<usize>,
        opts: &MatchOptions,
        scratch: &mut Scratch,
        out: &mut MatchOutput,
    ) {
        let mut start = rows.start;
        while start < rows.end {
            let end = (start + READS_PER_GROUP).min(rows.end);
            self.match_group(reads, start..end, opts, scratch, out);
            start = end;
        }
    }

    /// Matches a small group of reads phase by phase rather than read by read: all the group's directory
    /// slots are loaded in one tight loop, then all the runs, then all the candidates' hot records, so the
    /// processor has dozens of independent cache misses in flight instead of two or three dependent ones
    /// per read (matching is bound by memory latency: the tables are far larger than the caches).
    fn match_group(
        &self,
        reads: &ReadColumns<'_>,
        rows: Range<usize>,
        opts: &MatchOptions,
        s: &mut Scratch,
        out: &mut MatchOutput,
    ) {
        s.group.clear();
        s.keys.clear();
        s.hashes.clear();
        let edit = (opts.max_edits > 0).then(|| self.edit_table(opts.max_edits));
        // Phase 1: normalise every read and list the hashes to look up.
        for i in rows.clone() {
            let prepared = self.prepare_read(reads, i, opts, s);
            s.group.push(prepared);
        }
        // Phase 2: directory slots of every hash (independent loads); `ranges[j]` belongs to `hashes[j]`.
        s.ranges.clear();
        for prepared in &s.group {
            let table = if prepared.fuzzy_probe { edit.unwrap_or(&self.folded) } else { &self.folded };
            for &h in &s.hashes[prepared.hashes.clone()] {
                s.ranges.push(table.run_of(h));
            }
        }
        // Phase 3: scan the runs into per-read candidate lists.
        s.candidates.clear();
        for prepared in &mut s.group {
            let begin = s.candidates.len();
            let table = if prepared.fuzzy_probe { edit.unwrap_or(&self.folded) } else { &self.folded };
            for j in prepared.hashes.clone() {
                table.scan_into(s.hashes[j], s.ranges[j], &mut s.candidates);
            }
            prepared.candidates = begin..s.candidates.len();
        }
        // Phase 4: touch the hot record of every candidate (independent loads); the verification below then
        // finds them in the cache.
        let mut touched = 0_u8;
        for &a in &s.candidates {
            if let Some(h) = self.hot.get(a as usize) {
                touched ^= h.len;
            }
        }
        std::hint::black_box(touched);
        // Phase 5: verify, in read order.
        let group = std::mem::take(&mut s.group);
        self.finish_group(&group, rows.start, opts, s, out);
        s.group = group;
    }

    /// Verifies prepared reads `group` (rows `first..`, in order) and appends their hits and reject codes; the
    /// last phase of both [`Self::match_group`] and the edit block join.
    fn finish_group(
        &self,
        group: &[Prepared],
        first: usize,
        opts: &MatchOptions,
        s: &mut Scratch,
        out: &mut MatchOutput,
    ) {
        for (prepared, i) in group.iter().zip(first..) {
            match self.finish_read(prepared, opts, s) {
                Ok(()) => {
                    out.reject.push(0);
                    for &(score, alert, kind, dist) in &s.found {
                        out.hits.read.push(i as u64);
                        out.hits.alert.push(alert);
                        out.hits.kind.push(kind as u8);
                        out.hits.distance.push(dist as f32 / EDIT_COST as f32);
                        out.hits.score.push(score);
                    }
                }
                Err(why) => out.reject.push(why.code()),
            }
        }
    }
    /// Normalises read `i` and appends the hashes its candidates are stored under to `s.hashes` (none for
    /// rejected and pattern reads, which [`Self::finish_read`] handles on their own).
    fn prepare_read(&self, reads: &ReadColumns<'_>, i: usize, opts: &MatchOptions, s: &mut Scratch) -> Prepared {
        let mut p = Prepared {
            state: Err(PlateReject::Empty),
            read: KeyChars::default(),
            decoded: false,
            key: 0..0,
            country: Country::UNKNOWN,
            t: opts.at,
            fuzzy_probe: false,
            hashes: s.hashes.len()..s.hashes.len(),
            candidates: 0..0,
        };
        let Some(text) = reads.plate.bytes(i) else { return p };
        // The key goes straight into the group's key buffer.
        let begin = s.keys.len();
        if let Err(why) = normalise_plate_bytes_append(text, true, &mut s.keys, &mut s.key) {
            p.state = Err(why);
            return p;
        }
        p.country = match country_of(reads.country.as_ref(), i) {
            Ok(c) => c,
            Err(why) => {
                s.keys.truncate(begin);
                p.state = Err(why);
                return p;
            }
        };
        p.key = begin as u32..s.keys.len() as u32;
        p.t = reads.seen_at.and_then(|c| c.get(i)).unwrap_or(opts.at);
        let key = &s.keys[begin..];
        // `?` and `*` are ASCII, so they never occur inside a multi-byte UTF-8 character.
        let is_pattern = key.iter().any(|&b| b == b'?' || b == b'*');
        let fuzzy_probe = !is_pattern && opts.max_edits > 0;
        if key.is_ascii() && !is_pattern && !fuzzy_probe {
            // Byte path for ASCII keys (nearly every key: Cyrillic and Greek plate letters normalise to their Latin
            // look-alikes): fold and hash the bytes as the characters they are, the same hash as the `char` path
            // below, without decoding the key into `KeyChars`. `finish_read` decodes it only if it needs it.
            p.state = Ok(false);
            s.hashes.push(hash_chars(key.iter().map(|&b| self.classes.fold(char::from(b)))));
            p.hashes.end = s.hashes.len();
            return p;
        }
        let Some(read) = KeyChars::from_bytes(key) else {
            p.state = Err(PlateReject::TooLong);
            return p;
        };
        p.read = read;
        p.decoded = true;
        if is_pattern {
            p.state = Ok(true);
            return p;
        }
        p.state = Ok(false);
        let mut folded = read;
        folded.map_in_place(|c| self.classes.fold(c));
        let hashes = &mut s.hashes;
        if fuzzy_probe && read.len() >= opts.min_fuzzy_length {
            p.fuzzy_probe = true;
            for_each_deletion(folded.as_slice(), opts.max_edits as usize, |h| hashes.push(h));
        } else {
            hashes.push(hash_chars(folded.as_slice().iter().copied()));
        }
        p.hashes.end = hashes.len();
        p
    }

    /// Verifies a prepared read's candidates (or matches a pattern read) into `s.found`, sorted by score
    /// descending then alert.
    fn finish_read(&self, p: &Prepared, opts: &MatchOptions, s: &mut Scratch) -> Result<(), PlateReject> {
        s.found.clear();
        let is_pattern = p.state?;
        if !is_pattern && p.candidates.is_empty() && self.patterns.is_empty() {
            return Ok(()); // most reads: no candidate, no wildcard alert, nothing to verify
        }
        let (country, t) = (p.country, p.t);
        // Keys that took the byte path are decoded only when something compares characters: a fuzzy kind with
        // candidates to classify, or wildcard alerts (most exact-only and candidate-free reads never are).
        let needs_chars =
            (!p.candidates.is_empty() && (opts.max_ocr > 0 || opts.max_edits > 0)) || !self.patterns.is_empty();
        let read = if p.decoded || !needs_chars {
            p.read
        } else {
            KeyChars::from_bytes(&s.keys[p.key.start as usize..p.key.end as usize]).ok_or(PlateReject::TooLong)?
        };
        let allowed = |a: usize| {
            let h = &self.hot[a];
            opts.country_policy.allows(country, h.country) && h.from <= t && t <= h.to
        };
        if is_pattern {
            if read.literals() == 0 {
                return Err(PlateReject::PatternWithoutCharacters);
            }
            let score = read.literals() as f32;
            let chars = read.as_slice();
            let single_unknown = match (chars.iter().filter(|&&c| c == '?').count(), chars.contains(&'*')) {
                (1, false) => chars.iter().position(|&c| c == '?'),
                _ => None,
            };
            if let Some(p) = single_unknown {
                // ANPR systems write `?` for one unreadable character. Any alert that matches has the read's
                // literal characters around position p, so its folded key with p deleted is in the edit-1
                // deletion table under the same hash as the read's folded literals: look it up there instead
                // of scanning every alert.
                let table = self.edit_table(1);
                let literal = chars.iter().enumerate().filter(|&(i, _)| i != p).map(|(_, &c)| self.classes.fold(c));
                s.pattern_candidates.clear();
                table.get_into(deletion_hash(literal), &mut s.pattern_candidates);
                s.pattern_candidates.sort_unstable();
                s.pattern_candidates.dedup();
                for &a in &s.pattern_candidates {
                    let a = a as usize;
                    if self.hot[a].pattern || !allowed(a) {
                        continue;
                    }
                    if let Some(alert) = KeyChars::new(self.keys.get(a)) {
                        if wildcard_matches(chars, alert.as_slice()) {
                            s.found.push((score_share(score, alert.len()), a as u32, MatchKind::Wildcard, 0));
                        }
                    }
                }
            } else if let Some(candidates) = self.wildcard_candidates(&s.keys[p.key.start as usize..p.key.end as usize])
            {
                // Patterns with `*` or several `?` (witness descriptions): only the alerts sharing the pattern's
                // literal prefix or suffix can match (the orders hold literal alerts only).
                for &a in candidates {
                    let a = a as usize;
                    if !allowed(a) {
                        continue;
                    }
                    if let Some(alert) = KeyChars::new(self.keys.get(a)) {
                        if wildcard_matches(chars, alert.as_slice()) {
                            s.found.push((score_share(score, alert.len()), a as u32, MatchKind::Wildcard, 0));
                        }
                    }
                }
            } else {
                // A pattern with wildcards at both ends (`*AB1*`): scan every alert.
                for a in 0..self.len() {
                    if self.hot[a].pattern || !allowed(a) {
                        continue;
                    }
                    if let Some(alert) = KeyChars::new(self.keys.get(a)) {
                        if wildcard_matches(chars, alert.as_slice()) {
                            s.found.push((score_share(score, alert.len()), a as u32, MatchKind::Wildcard, 0));
                        }
                    }
                }
            }
        } else {
            let candidates = &mut s.candidates[p.candidates.clone()];
            if p.fuzzy_probe {
                // Several deletion strings may lead to the same alert: sort so repeats are adjacent.
                candidates.sort_unstable();
            }
            let read_bytes = &s.keys[p.key.start as usize..p.key.end as usize];
            let mut previous = None;
            for &a in candidates.iter() {
                if previous == Some(a) {
                    continue;
                }
                previous = Some(a);
                let a = a as usize;
                if !allowed(a) {
                    continue;
                }
                if let Some((kind, dist, score)) = self.classify(&read, read_bytes, a, opts) {
                    s.found.push((score, a as u32, kind, dist));
                }
            }
            for &a in &self.patterns {
                let a = a as usize;
                if !allowed(a) {
                    continue;
                }
                if let Some(pattern) = KeyChars::new(self.keys.get(a)) {
                    if wildcard_matches(pattern.as_slice(), read.as_slice()) {
                        s.found.push((
                            score_share(pattern.literals() as f32, read.len()),
                            a as u32,
                            MatchKind::Wildcard,
                            0,
                        ));
                    }
                }
            }
        }
        s.found.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        Ok(())
    }

    /// Key bytes of dense alert `a`, from the hot record when short.
    #[inline]
    fn key_bytes(&self, a: usize) -> &[u8] {
        match self.hot.get(a) {
            Some(h) if h.len != LONG_KEY => &h.key[..usize::from(h.len)],
            _ => self.keys.bytes(a),
        }
    }

    /// Kind, distance (half-edits) and score of literal read `read` against literal alert `a`, if it hits.
    fn classify(
        &self,
        read: &KeyChars,
        read_bytes: &[u8],
        a: usize,
        opts: &MatchOptions,
    ) -> Option<(MatchKind, u32, f32)> {
        let alert_bytes = self.key_bytes(a);
        if alert_bytes == read_bytes {
            return Some((MatchKind::Exact, 0, 1.0));
        }
        if opts.max_ocr == 0 && opts.max_edits == 0 {
            return None; // exact only: nothing else can hit, skip decoding the alert's key
        }
        if read_bytes.is_ascii() && alert_bytes.is_ascii() {
            // ASCII keys (nearly every plate: other scripts are folded to the Latin letters they look like) have
            // one byte per character: compare the bytes without decoding either key to `char`s.
            return classify_fuzzy(read_bytes, alert_bytes, |b| self.classes.fold_byte(b), opts);
        }
        let alert = KeyChars::new(std::str::from_utf8(alert_bytes).ok()?)?;
        classify_fuzzy(read.as_slice(), alert.as_slice(), |c| self.classes.fold(c), opts)
    }
}

/// Kind, distance and score of two different literal keys under the fuzzy rules, over `char`s or the bytes of
/// ASCII keys with the matching OCR fold (shared with the tests' reference only through its documentation: the
/// reference re-implements it).
fn classify_fuzzy<T: Copy + Eq>(
    read: &[T],
    alert: &[T],
    fold: impl Fn(T) -> T + Copy,
    opts: &MatchOptions,
) -> Option<(MatchKind, u32, f32)> {
    // Short plates: only the narrow `ocr` kind, with its own smaller limit (see `MatchOptions::max_ocr_short`).
    let short = read.len() < opts.min_fuzzy_length || alert.len() < opts.min_fuzzy_length;
    let max_ocr = if short { opts.max_ocr.min(opts.max_ocr_short) } else { opts.max_ocr };
    let longer = read.len().max(alert.len());
    if max_ocr > 0 {
        if let Some(subs) = lookalike_substitutions_by(read, alert, fold) {
            if subs <= max_ocr {
                let d = subs * LOOKALIKE_COST;
                return Some((MatchKind::Ocr, d, score_distance(d, longer)));
            }
        }
    }
    if opts.max_edits > 0 && !short {
        let d = weighted_distance_within_by(read, alert, fold, opts.max_edits * EDIT_COST)?;
        return Some((MatchKind::Edit, d, score_distance(d, longer)));
    }
    None
}

/// `1 − distance / longer length`, the distance converted from half-edits.
fn score_distance(half_edits: u32, longer: usize) -> f32 {
    (1.0 - (half_edits as f32 / EDIT_COST as f32) / longer.max(1) as f32).max(0.0)
}

/// Share of a plate of `len` characters fixed by `literals` pattern characters.
fn score_share(literals: f32, len: usize) -> f32 {
    (literals / len.max(1) as f32).min(1.0)
}

fn country_of(column: Option<&StrColumn<'_>>, i: usize) -> Result<Country, PlateReject> {
    match column.and_then(|c| c.bytes(i)) {
        None => Ok(Country::UNKNOWN),
        // Codes are ASCII: UTF-8 validation is needed only to name the reason of a refused country.
        Some(text) => normalise_country_bytes(text).map_err(|()| match std::str::from_utf8(text) {
            Ok(_) => PlateReject::UnknownCountry,
            Err(_) => PlateReject::NotUtf8,
        }),
    }
}

/// A read of the group being matched, after normalisation.
struct Prepared {
    /// `Ok(true)` for a pattern read, `Ok(false)` for a literal read, or why the read is refused.
    state: Result<bool, PlateReject>,
    /// The key's characters when `decoded` (always for patterns and edit probes; see [`PlateIndex::finish_read`]).
    read: KeyChars,
    decoded: bool,
    /// The normalised key's bytes in [`Scratch::keys`].
    key: Range<u32>,
    country: Country,
    /// Moment at which alert validity is checked.
    t: i64,
    /// True when the hashes are deletion strings to look up in the edit table, false for the folded key.
    fuzzy_probe: bool,
    /// The hashes to look up, in [`Scratch::hashes`].
    hashes: Range<usize>,
    /// The candidates found, in [`Scratch::candidates`] (unsorted, may repeat for deletion lookups).
    candidates: Range<usize>,
}

/// Per-thread buffers reused across groups of reads.
#[derive(Default)]
struct Scratch {
    key: String,
    /// Normalised keys of the group's reads, back to back.
    keys: Vec<u8>,
    group: Vec<Prepared>,
    hashes: Vec<u64>,
    /// Directory run of each hash.
    ranges: Vec<(u32, u32)>,
    candidates: Vec<u32>,
    pattern_candidates: Vec<u32>,
    found: Vec<(f32, u32, MatchKind, u32)>,
}
