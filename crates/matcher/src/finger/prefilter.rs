//! The candidate pre-filter of the 1:N gallery: cylinder hashing with rotation-consistent voting.
//!
//! **Hashing.** As in Cappelli, Ferrara & Maltoni, "Fingerprint indexing based on Minutia Cylinder-Code"
//! (IEEE TPAMI 33(5), 2011), every kept cylinder of every gallery template is indexed by locality-sensitive
//! hashing by bit sampling: each of `functions` hash functions reads `bits` fixed bit positions of a cylinder,
//! and two cylinders that agree on most bits fall in the same bucket of a function with high probability.
//! Only bits of cells within 60 % of the cylinder radius are sampled: those cells are valid for nearly every
//! minutia, so a bit reflects the neighbours and not the edge of the print.
//!
//! **Voting (our own addition).** A cylinder is invariant to rotation, so a bucket collision says nothing about
//! the rotation between probe and gallery print; but all true correspondences of a mated pair imply *one*
//! rotation (the difference of the two minutiae's directions), while chance collisions spread over all of
//! them. Each posting therefore also keeps its minutia's direction in `rotation_bins` sectors, and a collision
//! votes for (template, implied rotation sector). A template's score is its best window of two adjacent
//! sectors (so a true rotation near a sector edge is not split), weighted like a search engine: a vote counts
//! ln(N / bucket size) (rare buckets say more, inverse document frequency), and the sum is divided by
//! √(postings of the template) so templates with many minutiae do not win by size. The `rotation_bins`,
//! function and bit counts were chosen on synthetic galleries (generator seeds 7 and 23), never on the
//! development set; recall is reported on other seeds (BENCHMARKS.md, "Fingerprint matching").
//!
//! **Memory.** A posting is one `u32`: template index in the high bits, direction sector in the low
//! `log2(rotation_bins)` bits; buckets are kept in a map (most of the `functions × 2^bits` buckets are empty).

use std::collections::HashMap;

use rayon::prelude::*;

use super::matcher::{Matcher, PreparedTemplate};
pub use super::scan::{CylinderScan, SCAN_MAX_PROBE_CYLINDERS, SCAN_TOP};
use crate::error::{MatchError, MatchResult};

/// Parameters of the cylinder hashing and voting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LshParams {
    /// Number of hash functions (tables).
    pub functions: usize,
    /// Bits sampled by each function (a bucket id has this many bits).
    pub bits: usize,
    /// Seed of the sampled positions; part of the saved file.
    pub seed: u64,
    /// Direction sectors a vote is cast into (a power of two, 1–16; 1 turns rotation-consistent voting off).
    pub rotation_bins: usize,
}

impl Default for LshParams {
    /// 32 functions of 20 bits, 8 rotation sectors. Chosen on synthetic galleries (seed 7, 5,000–20,000
    /// subjects, generator defaults), never on the development set: at 2 % penetration the mate was among the
    /// candidates for 227/300 probes with 64 × 16 (the previous default), 225 with 32 × 20, 233 with 64 × 20
    /// and 236 with 64 × 24; fewer bits did worse (202 with 64 × 12). Longer samples act as near-exact
    /// cylinder matches, and 32 functions halve the posting memory of 64 (a 1M gallery must fit next to other
    /// jobs). 8 sectors beat 1 (no rotation check: mate among 1 % candidates 173 → 208 of 300), 4 and 16.
    fn default() -> Self {
        LshParams { functions: 32, bits: 20, seed: 0x5EED_CAFE, rotation_bins: 8 }
    }
}

impl LshParams {
    /// Checks the parameters (they size tables and come from files).
    pub fn check(&self) -> MatchResult<()> {
        if !(1..=1024).contains(&self.functions) || !(1..=24).contains(&self.bits) {
            return Err(MatchError::invalid("hashing needs 1–1024 functions of 1–24 bits"));
        }
        // Bucket ids are `function << bits | value` in a u32.
        if (self.functions as u64) << self.bits > 1 << 32 {
            return Err(MatchError::invalid("functions × 2^bits must not exceed 2^32"));
        }
        if !self.rotation_bins.is_power_of_two() || self.rotation_bins > 16 {
            return Err(MatchError::invalid("rotation bins must be a power of two from 1 to 16"));
        }
        Ok(())
    }

    fn sector_bits(&self) -> u32 {
        self.rotation_bins.trailing_zeros()
    }

    /// Largest number of templates the index can address (the posting keeps the sector in the low bits).
    pub fn max_templates(&self) -> u64 {
        1_u64 << (32 - self.sector_bits())
    }
}

/// What the index reads of a prepared template: its cylinders' bits and their minutiae's directions.
pub trait HashedCylinders: Sync {
    /// Number of cylinders.
    fn cylinder_count(&self) -> usize;
    /// Cell bits of cylinder `c` (direction bin fastest), in the matcher's layout.
    fn cylinder_bits(&self, c: usize) -> &[u64];
    /// Direction of cylinder `c`'s minutia, radians in [0, 2π).
    fn cylinder_angle(&self, c: usize) -> f32;
    /// Number of set bits of cylinder `c` (the cylinder scan's similarity needs it for every gallery cylinder).
    fn cylinder_popcount(&self, c: usize) -> u32 {
        self.cylinder_bits(c).iter().map(|w| w.count_ones()).sum()
    }
}

impl HashedCylinders for PreparedTemplate {
    fn cylinder_count(&self) -> usize {
        self.cylinders.len()
    }

    fn cylinder_bits(&self, c: usize) -> &[u64] {
        PreparedTemplate::cylinder_bits(self, c)
    }

    fn cylinder_angle(&self, c: usize) -> f32 {
        self.cylinders.points[c].angle
    }

    fn cylinder_popcount(&self, c: usize) -> u32 {
        self.cylinders.count(c)
    }
}

/// Bit-sampling hash tables over the cylinders of every gallery template.
#[derive(Debug, Clone)]
pub struct CylinderIndex {
    params: LshParams,
    /// Sampled bit positions, `bits` per function.
    samples: Vec<Vec<u32>>,
    /// Posting lists by bucket id `function << bits | value`: `template << sector_bits | sector`, ascending.
    buckets: HashMap<u32, Vec<u32>>,
    /// Number of postings of each template.
    postings: Vec<u32>,
}

impl CylinderIndex {
    /// An empty index for cylinders of `matcher`'s layout.
    pub fn new(params: LshParams, matcher: &Matcher) -> MatchResult<Self> {
        params.check()?;
        let layout = matcher.layout();
        let radius = matcher.params().radius;
        let inner: Vec<u32> = layout
            .cells
            .iter()
            .enumerate()
            .filter(|(_, &(dx, dy))| dx.hypot(dy) <= 0.6 * radius)
            .flat_map(|(c, _)| (0..layout.nd).map(move |k| (c * layout.nd + k) as u32))
            .collect();
        let mut state = params.seed;
        let samples = (0..params.functions)
            .map(|_| {
                let mut pool = inner.clone();
                let mut chosen = Vec::with_capacity(params.bits);
                for _ in 0..params.bits.min(pool.len()) {
                    let k = (splitmix64(&mut state) % pool.len() as u64) as usize;
                    chosen.push(pool.swap_remove(k));
                }
                chosen
            })
            .collect();
        Ok(CylinderIndex { params, samples, buckets: HashMap::new(), postings: Vec::new() })
    }

    /// The parameters the index was built with.
    pub fn params(&self) -> &LshParams {
        &self.params
    }

    /// Number of templates indexed.
    pub fn len(&self) -> usize {
        self.postings.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.postings.is_empty()
    }

    /// Bucket ids of one cylinder, one per function; `None` when no sampled bit is set (an empty sample says
    /// nothing about the neighbourhood).
    fn hashes<'a>(&'a self, words: &'a [u64]) -> impl Iterator<Item = Option<u32>> + 'a {
        self.samples.iter().enumerate().map(move |(f, positions)| {
            let mut v = 0_u32;
            for (b, &p) in positions.iter().enumerate() {
                let bit = words.get(p as usize / 64).map_or(0, |w| (w >> (p % 64)) & 1);
                v |= (bit as u32) << b;
            }
            (v != 0).then_some(((f as u32) << self.params.bits) | v)
        })
    }

    /// Direction sector of a minutia direction in radians ([0, 2π)).
    fn sector(&self, angle: f32) -> u32 {
        let bins = self.params.rotation_bins as f32;
        ((angle.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU * bins) as u32)
            .min(self.params.rotation_bins as u32 - 1)
    }

    /// Indexes the cylinders of the next templates, in order (template `len()` first); hashing runs in parallel.
    pub fn extend<T: HashedCylinders>(&mut self, templates: &[T]) -> MatchResult<()> {
        let shift = self.params.sector_bits();
        let first = self.postings.len() as u64;
        if first + templates.len() as u64 > self.params.max_templates() {
            return Err(MatchError::invalid(format!(
                "the pre-filter addresses at most {} templates",
                self.params.max_templates()
            )));
        }
        let mut grown: Vec<u32> = Vec::new();
        // Chunks bound the memory of the hashed keys; within a chunk templates hash in parallel.
        for (k, chunk) in templates.chunks(1 << 14).enumerate() {
            let base = first + (k << 14) as u64;
            let keys: Vec<Vec<u64>> = chunk
                .par_iter()
                .enumerate()
                .map(|(i, template)| {
                    let id = (base + i as u64) as u32;
                    let mut keys = Vec::with_capacity(template.cylinder_count() * self.params.functions);
                    for c in 0..template.cylinder_count() {
                        let posting = (id << shift) | self.sector(template.cylinder_angle(c));
                        let bits = template.cylinder_bits(c);
                        keys.extend(self.hashes(bits).flatten().map(|b| (u64::from(b) << 32) | u64::from(posting)));
                    }
                    // One posting per (bucket, template, sector): ascending within each list, no repeats.
                    keys.sort_unstable();
                    keys.dedup();
                    keys
                })
                .collect();
            for keys in keys {
                self.postings.push(keys.len() as u32);
                for key in keys {
                    let list = self.buckets.entry((key >> 32) as u32).or_default();
                    if list.len() == list.capacity() {
                        grown.push((key >> 32) as u32);
                    }
                    list.push(key as u32);
                }
            }
        }
        // Growth doubles capacity; give the slack back once a batch is in (a 1M gallery would carry ~40 % more).
        grown.sort_unstable();
        grown.dedup();
        for b in grown {
            if let Some(list) = self.buckets.get_mut(&b) {
                list.shrink_to_fit();
            }
        }
        Ok(())
    }

    /// Pre-filter scores of every indexed template for a probe's cylinders (higher = more likely a mate);
    /// `votes` is scratch of any content, resized here.
    pub fn scores(&self, probe: &impl HashedCylinders, scratch: &mut VoteScratch) -> Vec<f32> {
        let n = self.postings.len();
        let bins = self.params.rotation_bins;
        let shift = self.params.sector_bits();
        let mask = (1_u32 << shift) - 1;
        let votes = &mut scratch.votes;
        votes.clear();
        votes.resize(n * bins, 0.0);
        let total = n as f32;
        for c in 0..probe.cylinder_count() {
            let sector = self.sector(probe.cylinder_angle(c));
            for b in self.hashes(probe.cylinder_bits(c)).flatten() {
                let Some(list) = self.buckets.get(&b) else {
                    continue;
                };
                // Inverse document frequency: a bucket most templates are in says little.
                let weight = (total / list.len() as f32).ln();
                for &p in list {
                    // The rotation this collision implies, as a sector difference (probe − gallery).
                    let r = (sector.wrapping_sub(p & mask)) & mask;
                    votes[(p >> shift) as usize * bins + r as usize] += weight;
                }
            }
        }
        votes
            .chunks_exact(bins)
            .zip(&self.postings)
            .map(|(v, &p)| {
                let best =
                    if bins == 1 { v[0] } else { (0..bins).map(|r| v[r] + v[(r + 1) % bins]).fold(0.0, f32::max) };
                best / (p.max(1) as f32).sqrt()
            })
            .collect()
    }

    /// Approximate heap bytes of the posting lists (for reports).
    pub fn heap_bytes(&self) -> usize {
        self.buckets.values().map(|l| l.capacity() * 4 + 32).sum::<usize>() + self.postings.capacity() * 4
    }
}

/// Working memory of [`CylinderIndex::scores`], reused across probes of one thread.
#[derive(Debug, Default)]
pub struct VoteScratch {
    votes: Vec<f32>,
}

/// Which stage 1 picks the candidates of a pre-filtered search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefilter {
    /// Votes of hashed cylinder collisions ([`CylinderIndex`]): cheapest per probe, but a mate whose cylinders
    /// differ from the probe's in a few sampled bits collides nowhere and is lost.
    Hashing,
    /// Exact cylinder similarity ([`CylinderScan`]) of the probe's `probe_cylinders` fullest cylinders against
    /// every gallery cylinder: no hashing, so no mate is lost to an unlucky bit sample.
    CylinderScan {
        /// How many probe cylinders are scanned (1–[`SCAN_MAX_PROBE_CYLINDERS`]); cost grows linearly.
        probe_cylinders: u8,
    },
}

/// The `wanted` highest-scoring indices, ascending; ties go to the lower index, so the same candidates on every
/// run and thread count.
pub fn top_candidates(scores: &[f32], wanted: usize) -> Vec<u32> {
    if wanted >= scores.len() {
        return (0..scores.len() as u32).collect();
    }
    if wanted == 0 {
        return Vec::new();
    }
    // Scores are ≥ 0, so their bits order like the numbers; inverted for descending order.
    let mut keyed: Vec<u64> =
        scores.iter().enumerate().map(|(id, &v)| (u64::from(!v.max(0.0).to_bits()) << 32) | id as u64).collect();
    keyed.select_nth_unstable(wanted - 1);
    keyed.truncate(wanted);
    let mut ids: Vec<u32> = keyed.into_iter().map(|k| (k & 0xFFFF_FFFF) as u32).collect();
    ids.sort_unstable();
    ids
}

pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn top_candidates_are_the_best_scores_lowest_index_first(
            scores in proptest::collection::vec(0_u8..6, 0..60),
            wanted in 0_usize..70,
        ) {
            let scores: Vec<f32> = scores.into_iter().map(f32::from).collect();
            // Reference: a full sort by score descending, then index.
            let mut order: Vec<u32> = (0..scores.len() as u32).collect();
            order.sort_by(|&a, &b| scores[b as usize].total_cmp(&scores[a as usize]).then(a.cmp(&b)));
            order.truncate(wanted);
            order.sort_unstable();
            prop_assert_eq!(top_candidates(&scores, wanted), order);
        }
    }

    #[test]
    fn parameters_are_checked() {
        let ok = LshParams::default();
        assert!(ok.check().is_ok());
        for bad in [
            LshParams { functions: 0, ..ok },
            LshParams { bits: 25, ..ok },
            LshParams { rotation_bins: 3, ..ok },
            LshParams { rotation_bins: 32, ..ok },
            LshParams { functions: 1024, bits: 24, ..ok },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        assert_eq!(LshParams { rotation_bins: 8, ..ok }.max_templates(), 1 << 29);
    }

    #[test]
    fn sectors_cover_the_circle() {
        let index = CylinderIndex::new(LshParams::default(), &Matcher::default()).unwrap();
        assert_eq!(index.sector(0.0), 0);
        assert_eq!(index.sector(std::f32::consts::PI), 4);
        assert_eq!(index.sector(std::f32::consts::TAU - 1e-6), 7);
        assert_eq!(index.sector(std::f32::consts::TAU), 0);
        assert_eq!(index.sector(-0.1), 7);
    }
}
