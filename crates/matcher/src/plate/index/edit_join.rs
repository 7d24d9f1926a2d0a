//! Edit matching of a large block of reads as one join against the deletion table, instead of one random
//! table lookup per deletion string.
//!
//! A read of 7 characters looks up 8 deletion strings in a table of ~8 entries per alert (~70 MB at 1M
//! alerts): looked up one by one, nearly every lookup is a cache and TLB miss, and matching is bound by
//! memory latency. Here every read of the block is normalised first and its lookups are bucketed by the top
//! bits of their hash; the buckets are then joined in table order, so each bucket's slice of the table (a few
//! hundred KiB) is brought into the cache once and probed by every lookup of the block that falls into it.
//! The candidates come back per lookup in the same order as the one-by-one path (a stable counting sort by
//! lookup number), so verification and output are exactly those of [`PlateIndex::match_group`]; only the
//! order of memory accesses changes.

use std::ops::Range;

use rayon::prelude::*;

use super::{Hits, MatchOutput, PlateIndex, Prepared, ReadColumns, Scratch, READS_PER_TASK};
use crate::plate::index::MatchOptions;
use crate::plate::neighbourhood::Neighbourhood;

/// Reads joined together: the more lookups per bucket, the more of each table slice is used once loaded; at
/// 2^20 reads there are about as many lookups as table entries.
pub(super) const READS_PER_BLOCK: usize = 1 << 20;

/// Fewer reads than this are matched read by read: the join's fixed costs (a pass over every bucket, per-bucket
/// buffers) only pay off when there are many lookups per bucket; `match_one` and small batches stay cheap.
pub(super) const MIN_BLOCK_READS: usize = 1 << 14;

/// Buckets of the join (top bits of the lookup hash): 512 slices of ~150 KB for a 70 MB table, each well
/// inside the L2 cache.
const BUCKET_BITS: u32 = 9;
const BUCKETS: usize = 1 << BUCKET_BITS;

#[inline]
fn bucket_of(hash: u64) -> usize {
    (hash >> (64 - BUCKET_BITS)) as usize
}

/// A task's reads after phase 1: prepared reads and their edit-table lookups, bucketed.
struct PreparedTask {
    rows: Range<usize>,
    s: Scratch,
    /// `probes[bucket_start[b]..bucket_start[b + 1]]` are the lookups whose hash falls into bucket `b`, as
    /// (hash, index of the hash in `s.hashes`), in lookup order.
    bucket_start: Vec<u32>,
    probes: Vec<(u64, u32)>,
}

/// The candidates found in one bucket for every task, in task then lookup order.
struct BucketCandidates {
    /// `found[task_start[t]..task_start[t + 1]]` belong to task `t`.
    task_start: Vec<u32>,
    /// (index of the lookup's hash in the task's `s.hashes`, alert).
    found: Vec<(u32, u32)>,
}

impl PlateIndex {
    /// Matches reads `rows` (at most [`READS_PER_BLOCK`]) with `opts.max_edits > 0`; same output as
    /// [`PlateIndex::match_task`] over the same rows.
    pub(super) fn match_edit_block(
        &self,
        reads: &ReadColumns<'_>,
        rows: Range<usize>,
        opts: &MatchOptions,
        edit: &Neighbourhood,
    ) -> MatchOutput {
        let tasks = rows.len().div_ceil(READS_PER_TASK);
        // Phase 1: normalise every read, list its lookups, bucket the edit-table lookups by hash.
        let prepared: Vec<PreparedTask> = (0..tasks)
            .into_par_iter()
            .map(|t| {
                let start = rows.start + t * READS_PER_TASK;
                let end = (start + READS_PER_TASK).min(rows.end);
                self.prepare_task(reads, start..end, opts)
            })
            .collect();
        // Phase 2: join bucket by bucket; each bucket's table slice stays in the cache while it is probed.
        let joined: Vec<BucketCandidates> = (0..BUCKETS)
            .into_par_iter()
            .map(|b| {
                let mut task_start = Vec::with_capacity(prepared.len() + 1);
                let mut found = Vec::new();
                for task in &prepared {
                    task_start.push(found.len() as u32);
                    let (lo, hi) = (task.bucket_start[b] as usize, task.bucket_start[b + 1] as usize);
                    for &(hash, j) in task.probes.get(lo..hi).unwrap_or_default() {
                        edit.for_each(hash, |a| found.push((j, a)));
                    }
                }
                task_start.push(found.len() as u32);
                BucketCandidates { task_start, found }
            })
            .collect();
        // Phase 3: per task, the candidates back in lookup order, then verification and output as usual.
        let parts: Vec<MatchOutput> =
            prepared.into_par_iter().enumerate().map(|(t, task)| self.finish_task(t, task, &joined, opts)).collect();
        let hits: usize = parts.iter().map(|p| p.hits.len()).sum();
        let mut out = MatchOutput { hits: Hits::with_capacity(hits), reject: Vec::with_capacity(rows.len()) };
        for part in parts {
            out.append(part);
        }
        out
    }

    fn prepare_task(&self, reads: &ReadColumns<'_>, rows: Range<usize>, opts: &MatchOptions) -> PreparedTask {
        let mut s = Scratch::default();
        for i in rows.clone() {
            let p = self.prepare_read(reads, i, opts, &mut s);
            s.group.push(p);
        }
        // Counting sort of the edit-table lookups by bucket (stable: lookup order kept inside a bucket).
        let mut bucket_start = vec![0_u32; BUCKETS + 1];
        for p in s.group.iter().filter(|p| p.fuzzy_probe) {
            for &h in &s.hashes[p.hashes.clone()] {
                bucket_start[bucket_of(h) + 1] += 1;
            }
        }
        for b in 0..BUCKETS {
            bucket_start[b + 1] += bucket_start[b];
        }
        let mut next = bucket_start.clone();
        let mut probes = vec![(0_u64, 0_u32); bucket_start[BUCKETS] as usize];
        for p in s.group.iter().filter(|p| p.fuzzy_probe) {
            for j in p.hashes.clone() {
                let h = s.hashes[j];
                let slot = &mut next[bucket_of(h)];
                if let Some(probe) = probes.get_mut(*slot as usize) {
                    *probe = (h, j as u32);
                }
                *slot += 1;
            }
        }
        PreparedTask { rows, s, bucket_start, probes }
    }

    fn finish_task(
        &self,
        t: usize,
        task: PreparedTask,
        joined: &[BucketCandidates],
        opts: &MatchOptions,
    ) -> MatchOutput {
        let PreparedTask { rows, mut s, .. } = task;
        // Candidates of every lookup, as (lookup, alert): from the join for edit-table lookups, directly from
        // the folded table for the others (reads too short for edits look up their folded key only).
        let mut found: Vec<(u32, u32)> = Vec::new();
        for bucket in joined {
            let (lo, hi) = (bucket.task_start[t] as usize, bucket.task_start[t + 1] as usize);
            found.extend_from_slice(bucket.found.get(lo..hi).unwrap_or_default());
        }
        for p in s.group.iter().filter(|p| !p.fuzzy_probe) {
            for j in p.hashes.clone() {
                self.folded.for_each(s.hashes[j], |a| found.push((j as u32, a)));
            }
        }
        // Stable counting sort by lookup: each lookup's candidates keep the table order, as in `match_group`.
        let lookups = s.hashes.len();
        let mut start = vec![0_u32; lookups + 1];
        for &(j, _) in &found {
            start[j as usize + 1] += 1;
        }
        for j in 0..lookups {
            start[j + 1] += start[j];
        }
        let mut next = start.clone();
        s.candidates.clear();
        s.candidates.resize(found.len(), 0);
        for &(j, a) in &found {
            let slot = &mut next[j as usize];
            if let Some(c) = s.candidates.get_mut(*slot as usize) {
                *c = a;
            }
            *slot += 1;
        }
        for p in &mut s.group {
            p.candidates = start[p.hashes.start] as usize..start[p.hashes.end] as usize;
        }
        let mut out = MatchOutput { hits: Hits::with_capacity(rows.len() / 4), reject: Vec::with_capacity(rows.len()) };
        let group = std::mem::take(&mut s.group);
        for (chunk, first) in group.chunks(super::READS_PER_GROUP).zip((rows.start..).step_by(super::READS_PER_GROUP)) {
            self.verify_group(chunk, first, opts, &mut s, &mut out);
        }
        out
    }

    /// Verifies prepared reads `group` (rows `first..`) and appends their hits and reject codes: phases 4 and 5
    /// of [`PlateIndex::match_group`].
    fn verify_group(
        &self,
        group: &[Prepared],
        first: usize,
        opts: &MatchOptions,
        s: &mut Scratch,
        out: &mut MatchOutput,
    ) {
        // Touch the hot record of every candidate first (independent loads), then verify in read order.
        let mut touched = 0_u8;
        for p in group {
            for &a in s.candidates.get(p.candidates.clone()).unwrap_or_default() {
                if let Some(h) = self.hot.get(a as usize) {
                    touched ^= h.len;
                }
            }
        }
        std::hint::black_box(touched);
        self.finish_group(group, first, opts, s, out);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::super::{MatchOptions, MatchOutput, PlateIndex, ReadColumns, Scratch, READS_PER_TASK};
    use super::MIN_BLOCK_READS;
    use crate::columns::{StrColumn, StrColumnBuilder};
    use crate::plate::country::CountryPolicy;
    use crate::plate::ocr::OcrClasses;
    use crate::plate::reference::{build_index, Alert};

    fn column(values: &[Option<String>]) -> StrColumnBuilder {
        let mut b = StrColumnBuilder::with_capacity(values.len(), 0);
        for v in values {
            b.push(v.as_deref());
        }
        b
    }

    /// The block join and the read-by-read path (`match_task` over the same rows) give the same output.
    fn assert_block_equals_per_read(
        index: &PlateIndex,
        plates: &[Option<String>],
        countries: &[Option<String>],
        o: &MatchOptions,
    ) {
        let (p, c) = (column(plates), column(countries));
        let reads = ReadColumns {
            plate: StrColumn::new(&p.offsets, &p.data, Some(&p.valid)).unwrap(),
            country: Some(StrColumn::new(&c.offsets, &c.data, Some(&c.valid)).unwrap()),
            seen_at: None,
        };
        let edit = index.edit_table(o.max_edits);
        let n = plates.len();
        let joined = index.match_edit_block(&reads, 0..n, o, edit);
        let mut one_by_one = MatchOutput::default();
        let mut scratch = Scratch::default();
        let mut start = 0;
        while start < n {
            let end = (start + READS_PER_TASK).min(n);
            index.match_task(&reads, start..end, o, &mut scratch, &mut one_by_one);
            start = end;
        }
        assert_eq!(joined, one_by_one);
        assert_eq!(index.match_reads(&reads, 0..n, o).unwrap(), one_by_one);
    }

    fn plate() -> impl Strategy<Value = String> {
        // Look-alikes, a letter outside every class and a non-ASCII letter (Ж stays Cyrillic) so that the byte and
        // the char verification both run; some patterns and short plates.
        prop_oneof![
            8 => "[AB80OD1I5SXЖ][AB80OD1I5SXЖ -]{3,11}",
            1 => "[AB80?*]{1,6}",
            1 => "[AB80Ж]{1,3}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn block_join_equals_read_by_read(
            alerts in prop::collection::vec((plate(), prop::option::of(prop_oneof![Just("B"), Just("NL")])), 0..60),
            reads in prop::collection::vec((prop::option::weighted(0.95, plate()), prop::option::of(prop_oneof![Just("BE"), Just("NL"), Just("??")])), 0..60),
            max_ocr in 0_u32..3,
            max_edits in 1_u32..3,
            min_fuzzy_length in 0_usize..7,
            max_ocr_short in 0_u32..3,
        ) {
            let alerts: Vec<Alert> = alerts
                .into_iter()
                .enumerate()
                .map(|(i, (plate, country))| Alert { id: format!("a{i}"), plate, country: country.map(str::to_owned), from: None, to: None })
                .collect();
            let index = build_index(&alerts, OcrClasses::default());
            let o = MatchOptions::new(max_ocr, max_edits, min_fuzzy_length, max_ocr_short, CountryPolicy::Lenient, 0).unwrap();
            let (plates, countries): (Vec<_>, Vec<_>) = reads.into_iter().map(|(p, c)| (p, c.map(str::to_owned))).unzip();
            assert_block_equals_per_read(&index, &plates, &countries, &o);
        }
    }

    /// Several tasks per block (the join regroups candidates across task boundaries), through `match_reads`.
    #[test]
    fn block_join_equals_read_by_read_over_several_tasks() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: Vec<char> = "AB80OD1I5SXЖ".chars().collect();
        let mut plate = |len: u64| -> String {
            (0..5 + len % 4).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect()
        };
        let alerts: Vec<Alert> = (0..3000)
            .map(|i| Alert { id: format!("a{i}"), plate: plate(i), country: None, from: None, to: None })
            .collect();
        let index = build_index(&alerts, OcrClasses::default());
        // Enough reads that `match_reads` itself takes the join (and the join has several tasks).
        let mut plates: Vec<Option<String>> = (0..MIN_BLOCK_READS as u64 + 77).map(|i| Some(plate(i / 3))).collect();
        plates.extend(alerts.iter().take(500).map(|a| Some(a.plate.clone())));
        let countries = vec![None; plates.len()];
        for (max_ocr, max_edits) in [(2, 1), (0, 1), (2, 2)] {
            let o = MatchOptions::new(max_ocr, max_edits, 5, 1, CountryPolicy::Lenient, 0).unwrap();
            assert_block_equals_per_read(&index, &plates, &countries, &o);
        }
    }
}
