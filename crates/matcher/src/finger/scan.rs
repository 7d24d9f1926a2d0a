//! Stage 1 of the two-stage 1:N search by exact cylinder similarity (no hashing): the probe's fullest cylinders
//! against every gallery cylinder within the matcher's rotation limit.
//!
//! Two kernels compute the same scores, bit for bit (tested):
//! - **lanes** (the default cylinder layout, 5 words): the probe's cylinders sit in 16 or 32 vector lanes, and
//!   each gallery cylinder is compared with all of them at once: XOR and popcount per word, the similarity, the
//!   implied rotation and its sector, and a masked maximum into a per-sector table, all without a branch. Probe
//!   cylinders outside the rotation window are computed and masked out; that costs less than finding the window.
//!   It is compiled once per instruction set (AVX-512 with VPOPCNTDQ, AVX2, POPCNT, portable) and picked at run
//!   time, like the matcher.
//! - **pairs** (any other layout): one probe cylinder after another, only those within the rotation window.

use std::f32::consts::{PI, TAU};

use rayon::prelude::*;

use super::matcher::{Isa, Matcher};
use super::prefilter::HashedCylinders;

/// Largest number of probe cylinders one scan compares (bounds the per-template scratch on the stack).
pub const SCAN_MAX_PROBE_CYLINDERS: usize = 32;
/// Number of best probe cylinders (each its best gallery cylinder) summed into a scan score; chosen on synthetic
/// seed 7 (3 and 4 tried; 4 kept more mates at 0.5–1 % penetration), never on the development set.
pub const SCAN_TOP: usize = 4;
/// Rotation sectors of the scan over [−δ_θ, δ_θ]; a template's score is its best window of two adjacent ones.
const SCAN_SECTORS: usize = 8;
/// Bit words per cylinder of the layout the lane kernel is compiled for (the matcher's default, N_S = 8, N_D = 6).
const LANE_WORDS: usize = 5;

/// Stage 1 of the two-stage search, prepared from one probe: its cylinders compared with every gallery cylinder
/// by their exact bit similarity, no hashing.
///
/// **Similarity.** The matcher's bit-based one without the common-validity masking,
/// 1 − ‖a ⊕ b‖ / (‖a‖ + ‖b‖), ‖·‖ the square root of the popcount (Cappelli, Ferrara & Maltoni, TPAMI 32(12),
/// 2010, eq. 17 with every cell taken as valid): one POPCNT per word. Masking (four popcounts per word) ranked
/// mates no better on synthetic seed 7 (tried with the sum over every probe cylinder). As in the matcher, only
/// minutiae turned by at most δ_θ are compared.
///
/// **Score.** Each probe cylinder keeps its best similarity per (template, implied rotation sector of
/// [−δ_θ, δ_θ]); a template's score is, over windows of two adjacent sectors, the largest sum of the
/// [`SCAN_TOP`] best probe cylinders. A mate has a few very similar cylinders at one rotation (what LSS-R builds
/// on), while an impostor has many mediocre ones spread over rotations: summing every probe cylinder's best
/// (tried first) drowned the mate's few good pairs in the impostors' many fair ones (with masking, the mate was
/// among the 1 % candidates for 147 of 165 correct exhaustive rank-1 probes on seed 7; 164 with the top 4).
///
/// The probe cylinders scanned are the `cylinders` with the most set bits (most neighbours), ties to the lower
/// index. Every template is scored on its own, so scores do not depend on thread count or gallery batching.
#[derive(Debug, Clone)]
pub struct CylinderScan {
    words: usize,
    /// Probe cylinder bits, `words` per cylinder.
    bits: Vec<u64>,
    /// √popcount of each probe cylinder.
    norms: Vec<f32>,
    angles: Vec<f32>,
    max_rotation: f32,
    isa: Isa,
}

impl CylinderScan {
    /// The scan of `probe`'s `cylinders` fullest cylinders (at most [`SCAN_MAX_PROBE_CYLINDERS`]) for `matcher`'s
    /// cylinder layout and rotation limit δ_θ.
    pub fn new(probe: &impl HashedCylinders, cylinders: usize, matcher: &Matcher) -> Self {
        let n = probe.cylinder_count();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&c| (std::cmp::Reverse(probe.cylinder_popcount(c)), c));
        order.truncate(cylinders.min(SCAN_MAX_PROBE_CYLINDERS));
        // In direction order, so the pair kernel finds the probe cylinders within ±δ_θ of a gallery minutia as
        // one or two index ranges.
        order.sort_by(|&a, &b| probe.cylinder_angle(a).total_cmp(&probe.cylinder_angle(b)).then(a.cmp(&b)));
        let words = matcher.layout().words;
        let mut bits = vec![0; order.len() * words];
        for (slot, &c) in order.iter().enumerate() {
            let src = probe.cylinder_bits(c);
            let m = src.len().min(words);
            bits[slot * words..slot * words + m].copy_from_slice(&src[..m]);
        }
        CylinderScan {
            words,
            bits,
            norms: order.iter().map(|&c| (probe.cylinder_popcount(c) as f32).sqrt()).collect(),
            angles: order.iter().map(|&c| turn_angle(probe.cylinder_angle(c))).collect(),
            max_rotation: matcher.params().max_rotation.clamp(1e-3, PI),
            isa: Isa::detect(),
        }
    }

    /// Number of probe cylinders scanned.
    pub fn len(&self) -> usize {
        self.norms.len()
    }

    /// True when the probe has no usable cylinder (every template then scores 0).
    pub fn is_empty(&self) -> bool {
        self.norms.is_empty()
    }

    /// The scan score of every template (higher = more likely a mate), in parallel over templates.
    pub fn scores<T: HashedCylinders>(&self, templates: &[T]) -> Vec<f32> {
        let mut out = vec![0.0; templates.len()];
        out.par_chunks_mut(256).zip(templates.par_chunks(256)).for_each(|(out, chunk)| self.score_chunk(chunk, out));
        out
    }

    fn score_chunk<T: HashedCylinders>(&self, templates: &[T], out: &mut [f32]) {
        if self.words != LANE_WORDS || self.is_empty() {
            self.score_pairs(templates, out);
        } else if self.len() <= 16 {
            self.score_lanes(&Lanes::<16>::new(self), templates, out);
        } else {
            self.score_lanes(&Lanes::<32>::new(self), templates, out);
        }
    }

    /// The lane kernel compiled for the best instruction set the CPU has (every copy gives the same scores).
    fn score_lanes<T: HashedCylinders, const L: usize>(&self, lanes: &Lanes<L>, templates: &[T], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        match self.isa {
            Isa::Avx512 => {
                #[allow(unsafe_code)]
                // SAFETY: `Isa::detect` returns `Avx512` only when `is_x86_feature_detected!` found every feature
                // enabled on `lanes_avx512`.
                return unsafe { lanes_avx512(lanes, templates, out) };
            }
            Isa::Avx2 => {
                #[allow(unsafe_code)]
                // SAFETY: `Isa::detect` returns `Avx2` only when AVX2 and POPCNT were detected.
                return unsafe { lanes_avx2(lanes, templates, out) };
            }
            Isa::Popcnt => {
                #[allow(unsafe_code)]
                // SAFETY: `Isa::detect` returns `Popcnt` only when POPCNT was detected.
                return unsafe { lanes_popcnt(lanes, templates, out) };
            }
            Isa::Portable => {}
        }
        lanes_body(lanes, templates, out);
    }

    /// The pair kernel: any layout, one probe cylinder at a time (also the lane kernel's reference in tests).
    fn score_pairs<T: HashedCylinders>(&self, templates: &[T], out: &mut [f32]) {
        let k = self.norms.len();
        let words = self.words.max(1);
        let to_sector = SCAN_SECTORS as f32 / (2.0 * self.max_rotation);
        let probe: Vec<(&[u64], (f32, f32))> =
            self.bits.chunks_exact(words).zip(self.norms.iter().copied().zip(self.angles.iter().copied())).collect();
        for (t, score) in templates.iter().zip(out.iter_mut()) {
            let mut best = [[0.0_f32; SCAN_MAX_PROBE_CYLINDERS]; SCAN_SECTORS];
            for g in 0..t.cylinder_count() {
                let (gbits, gangle) = (t.cylinder_bits(g), turn_angle(t.cylinder_angle(g)));
                let gnorm = (t.cylinder_popcount(g) as f32).sqrt();
                // Probe cylinders (sorted by direction) whose direction is within ±δ_θ of this one: up to two
                // ranges; the exact test below still decides at the edges.
                let below = |v: f32| self.angles.iter().map(|&a| usize::from(a < v)).sum::<usize>();
                let (lo, hi) = (gangle - self.max_rotation - 1e-4, gangle + self.max_rotation + 1e-4);
                let ranges = if self.max_rotation >= PI - 1e-3 {
                    [(0, k), (0, 0)]
                } else if lo < 0.0 {
                    [(0, below(hi)), (below(lo + TAU), k)]
                } else if hi >= TAU {
                    [(below(lo), k), (0, below(hi - TAU))]
                } else {
                    [(below(lo), below(hi)), (0, 0)]
                };
                for (from, to) in ranges {
                    for (p, &(pbits, (pnorm, pangle))) in probe.iter().enumerate().take(to).skip(from) {
                        let d = wrapped_turn(pangle - gangle);
                        let norms = pnorm + gnorm;
                        if d.abs() > self.max_rotation || norms == 0.0 {
                            continue;
                        }
                        let differ: u32 = pbits.iter().zip(gbits).map(|(a, b)| (a ^ b).count_ones()).sum();
                        let sim = 1.0 - (differ as f32).sqrt() / norms;
                        let sector = ((d + self.max_rotation) * to_sector).min((SCAN_SECTORS - 1) as f32) as usize;
                        if sim > best[sector][p] {
                            best[sector][p] = sim;
                        }
                    }
                }
            }
            *score = window_score(&best, k);
        }
    }
}

/// A direction in [0, 2π): `rem_euclid`, whose `fmod` call would cost as much as the comparisons, only for a
/// value outside (prepared templates' directions are already inside, and then it is the identity).
#[allow(clippy::inline_always)]
#[inline(always)]
fn turn_angle(a: f32) -> f32 {
    if (0.0..TAU).contains(&a) {
        a
    } else {
        a.rem_euclid(TAU)
    }
}

/// A rotation difference moved into (−π, π] (the operands lie in [0, 2π), so one turn is enough).
#[allow(clippy::inline_always)]
#[inline(always)]
fn wrapped_turn(d: f32) -> f32 {
    let d = if d > PI { d - TAU } else { d };
    if d <= -PI {
        d + TAU
    } else {
        d
    }
}

/// Over windows of two adjacent sectors, the largest sum of the [`SCAN_TOP`] best of the first `k` probe
/// cylinders' similarities (`best[sector][probe cylinder]`).
#[allow(clippy::inline_always)]
#[inline(always)]
fn window_score<const L: usize>(best: &[[f32; L]; SCAN_SECTORS], k: usize) -> f32 {
    let mut window_best = 0.0_f32;
    for r in 0..SCAN_SECTORS - 1 {
        let mut kept = [0.0_f32; SCAN_TOP];
        for (&a, &b) in best[r].iter().zip(&best[r + 1]).take(k) {
            let v = a.max(b);
            // Insertion into the descending list of the SCAN_TOP largest so far.
            if v > kept[SCAN_TOP - 1] {
                let mut i = SCAN_TOP - 1;
                while i > 0 && kept[i - 1] < v {
                    kept[i] = kept[i - 1];
                    i -= 1;
                }
                kept[i] = v;
            }
        }
        window_best = window_best.max(kept.iter().sum());
    }
    window_best
}

/// The probe's cylinders in `L` vector lanes, word-major; unused lanes have an infinite direction, so they fall
/// outside every rotation window.
struct Lanes<const L: usize> {
    bits: [[u64; L]; LANE_WORDS],
    norms: [f32; L],
    angles: [f32; L],
    k: usize,
    max_rotation: f32,
    to_sector: f32,
}

impl<const L: usize> Lanes<L> {
    fn new(scan: &CylinderScan) -> Self {
        let mut lanes = Lanes {
            bits: [[0; L]; LANE_WORDS],
            norms: [0.0; L],
            angles: [f32::INFINITY; L],
            k: scan.len().min(L),
            max_rotation: scan.max_rotation,
            to_sector: SCAN_SECTORS as f32 / (2.0 * scan.max_rotation),
        };
        for (l, cylinder) in scan.bits.chunks_exact(LANE_WORDS).take(L).enumerate() {
            for (w, &word) in cylinder.iter().enumerate() {
                lanes.bits[w][l] = word;
            }
            lanes.norms[l] = scan.norms[l];
            lanes.angles[l] = scan.angles[l];
        }
        lanes
    }
}

/// [`lanes_body`] with AVX-512 intrinsics (written out: the compiler's vectorisation of the portable loop used
/// gathers and scalar conversions and took twice as long): VPOPCNTDQ counts eight lanes' words at
/// once, similarity and sector run on sixteen lanes, and a mask per sector updates the table. The same numbers
/// as the portable loop (tested): integer popcounts, then √, the division and the sector in IEEE single
/// precision, each rounded once as there (no fused multiply-add).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,popcnt")]
fn lanes_avx512<T: HashedCylinders, const L: usize>(lanes: &Lanes<L>, templates: &[T], out: &mut [f32]) {
    use std::arch::x86_64::{
        __m512, __m512i, _mm512_abs_ps, _mm512_add_epi64, _mm512_add_ps, _mm512_castsi256_si512, _mm512_cmp_ps_mask,
        _mm512_cmpeq_epi32_mask, _mm512_cvtepi32_ps, _mm512_cvtepi64_epi32, _mm512_cvttps_epi32, _mm512_div_ps,
        _mm512_inserti64x4, _mm512_loadu_epi64, _mm512_loadu_ps, _mm512_mask_add_ps, _mm512_mask_max_ps,
        _mm512_mask_sub_ps, _mm512_max_ps, _mm512_min_ps, _mm512_mul_ps, _mm512_popcnt_epi64, _mm512_set1_epi32,
        _mm512_set1_epi64, _mm512_set1_ps, _mm512_setzero_ps, _mm512_sqrt_ps, _mm512_sub_ps, _mm512_xor_si512,
        _CMP_GT_OQ, _CMP_LE_OQ, _CMP_NEQ_OQ,
    };
    // Up to 32 lanes: 4 groups of eight 64-bit words, 2 halves of sixteen floats.
    const GROUPS: usize = SCAN_MAX_PROBE_CYLINDERS / 8;
    const HALVES: usize = SCAN_MAX_PROBE_CYLINDERS / 16;
    let halves = L / 16;
    let zero = _mm512_setzero_ps();
    let mut probe = [[_mm512_set1_epi64(0); GROUPS]; LANE_WORDS];
    for (vectors, words) in probe.iter_mut().zip(&lanes.bits) {
        for (v, chunk) in vectors.iter_mut().zip(words.chunks_exact(8)) {
            // SAFETY: `chunk` is 8 `u64`, 64 readable bytes; the load has no alignment requirement.
            *v = unsafe { _mm512_loadu_epi64(chunk.as_ptr().cast()) };
        }
    }
    let mut norms = [zero; HALVES];
    let mut angles = [zero; HALVES];
    for h in 0..halves {
        // SAFETY: lanes `16h..16h + 16` lie inside the `L`-lane arrays (h < L / 16): 64 readable bytes each.
        norms[h] = unsafe { _mm512_loadu_ps(lanes.norms[16 * h..16 * h + 16].as_ptr()) };
        // SAFETY: as above.
        angles[h] = unsafe { _mm512_loadu_ps(lanes.angles[16 * h..16 * h + 16].as_ptr()) };
    }
    let (pi, tau, minus_pi) = (_mm512_set1_ps(PI), _mm512_set1_ps(TAU), _mm512_set1_ps(-PI));
    let (max_rotation, to_sector) = (_mm512_set1_ps(lanes.max_rotation), _mm512_set1_ps(lanes.to_sector));
    let (one, last_sector) = (_mm512_set1_ps(1.0), _mm512_set1_ps((SCAN_SECTORS - 1) as f32));
    let sector_ids: [__m512i; SCAN_SECTORS] = std::array::from_fn(|s| _mm512_set1_epi32(s as i32));
    for (t, score) in templates.iter().zip(out.iter_mut()) {
        let mut best: [[__m512; HALVES]; SCAN_SECTORS] = [[zero; HALVES]; SCAN_SECTORS];
        for g in 0..t.cylinder_count() {
            let Some(gbits) = t.cylinder_bits(g).first_chunk::<LANE_WORDS>() else {
                continue;
            };
            let gallery: [__m512i; LANE_WORDS] = std::array::from_fn(|w| _mm512_set1_epi64(gbits[w] as i64));
            let gangle = _mm512_set1_ps(turn_angle(t.cylinder_angle(g)));
            let gnorm = _mm512_set1_ps((t.cylinder_popcount(g) as f32).sqrt());
            for h in 0..halves {
                // Popcount of probe ⊕ gallery for the two groups of eight lanes of this half, narrowed to 32 bits.
                let count = |group: usize| {
                    let mut sum = _mm512_popcnt_epi64(_mm512_xor_si512(probe[0][group], gallery[0]));
                    for w in 1..LANE_WORDS {
                        sum = _mm512_add_epi64(sum, _mm512_popcnt_epi64(_mm512_xor_si512(probe[w][group], gallery[w])));
                    }
                    _mm512_cvtepi64_epi32(sum)
                };
                let differ = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(count(2 * h)), count(2 * h + 1));
                let sum_norms = _mm512_add_ps(norms[h], gnorm);
                let sim = _mm512_sub_ps(one, _mm512_div_ps(_mm512_sqrt_ps(_mm512_cvtepi32_ps(differ)), sum_norms));
                // The turn probe − gallery moved into (−π, π], as `wrapped_turn`.
                let d = _mm512_sub_ps(angles[h], gangle);
                let d = _mm512_mask_sub_ps(d, _mm512_cmp_ps_mask::<_CMP_GT_OQ>(d, pi), d, tau);
                let d = _mm512_mask_add_ps(d, _mm512_cmp_ps_mask::<_CMP_LE_OQ>(d, minus_pi), d, tau);
                let inside = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(_mm512_abs_ps(d), max_rotation)
                    & _mm512_cmp_ps_mask::<_CMP_NEQ_OQ>(sum_norms, zero);
                let position = _mm512_mul_ps(_mm512_add_ps(d, max_rotation), to_sector);
                let sector = _mm512_cvttps_epi32(_mm512_min_ps(_mm512_max_ps(position, zero), last_sector));
                for (row, id) in best.iter_mut().zip(&sector_ids) {
                    let m = inside & _mm512_cmpeq_epi32_mask(sector, *id);
                    row[h] = _mm512_mask_max_ps(row[h], m, row[h], sim);
                }
            }
        }
        *score = window_score_avx512(&best, halves);
    }
}

/// [`window_score`] on the vector table: the [`SCAN_TOP`] largest lanes of each window taken one by one by a
/// horizontal maximum (the first lane holding it is then set to −1, so equal values count as often as they
/// occur), summed in the same order as there, so the same number. Unused lanes hold 0, as in the scalar table.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,popcnt")]
fn window_score_avx512(
    best: &[[std::arch::x86_64::__m512; SCAN_MAX_PROBE_CYLINDERS / 16]; SCAN_SECTORS],
    halves: usize,
) -> f32 {
    use std::arch::x86_64::{
        _mm512_cmp_ps_mask, _mm512_mask_mov_ps, _mm512_max_ps, _mm512_reduce_max_ps, _mm512_set1_ps, _CMP_EQ_OQ,
    };
    let removed = _mm512_set1_ps(-1.0);
    let mut window_best = 0.0_f32;
    for pair in best.windows(2) {
        let mut v = pair[0];
        for h in 0..halves {
            v[h] = _mm512_max_ps(pair[0][h], pair[1][h]);
        }
        let mut sum = 0.0_f32;
        for i in 0..SCAN_TOP {
            let mut all = v[0];
            for lanes in &v[1..halves] {
                all = _mm512_max_ps(all, *lanes);
            }
            let m = _mm512_reduce_max_ps(all);
            for lanes in &mut v[..halves] {
                let holding = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(*lanes, _mm512_set1_ps(m));
                if holding != 0 {
                    *lanes = _mm512_mask_mov_ps(*lanes, holding & holding.wrapping_neg(), removed);
                    break;
                }
            }
            sum = if i == 0 { m } else { sum + m };
        }
        window_best = window_best.max(sum);
    }
    window_best
}

/// [`lanes_body`] with AVX2 and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
fn lanes_avx2<T: HashedCylinders, const L: usize>(lanes: &Lanes<L>, templates: &[T], out: &mut [f32]) {
    lanes_body(lanes, templates, out);
}

/// [`lanes_body`] with the POPCNT instruction (the x86-64 baseline lacks it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn lanes_popcnt<T: HashedCylinders, const L: usize>(lanes: &Lanes<L>, templates: &[T], out: &mut [f32]) {
    lanes_body(lanes, templates, out);
}

// Always inlined so each instruction-set copy above gets its own code generation. The loops run over whole
// lanes with selects instead of branches, which the compiler turns into vector code.
#[allow(clippy::inline_always)]
#[inline(always)]
fn lanes_body<T: HashedCylinders, const L: usize>(lanes: &Lanes<L>, templates: &[T], out: &mut [f32]) {
    let (max_rotation, to_sector) = (lanes.max_rotation, lanes.to_sector);
    for (t, score) in templates.iter().zip(out.iter_mut()) {
        let mut best = [[0.0_f32; L]; SCAN_SECTORS];
        for g in 0..t.cylinder_count() {
            let Some(gbits) = t.cylinder_bits(g).first_chunk::<LANE_WORDS>() else {
                continue;
            };
            let gangle = turn_angle(t.cylinder_angle(g));
            let gnorm = (t.cylinder_popcount(g) as f32).sqrt();
            let mut differ = [0_u32; L];
            for (probe_word, &gallery_word) in lanes.bits.iter().zip(gbits) {
                for (d, &p) in differ.iter_mut().zip(probe_word) {
                    *d += (p ^ gallery_word).count_ones();
                }
            }
            // Similarity and sector per lane; a lane outside the rotation window (or with no bits on either
            // side) gets −1, below every similarity (≥ 0) and the table's initial 0.
            let mut sim = [0.0_f32; L];
            let mut sector = [0_u32; L];
            for l in 0..L {
                let norms = lanes.norms[l] + gnorm;
                let s = 1.0 - (differ[l] as f32).sqrt() / norms;
                let d = wrapped_turn(lanes.angles[l] - gangle);
                let inside = d.abs() <= max_rotation && norms != 0.0;
                sim[l] = if inside { s } else { -1.0 };
                // In [0, 8] inside the window; clamped so the conversion never saturates.
                sector[l] = ((d + max_rotation) * to_sector).clamp(0.0, (SCAN_SECTORS - 1) as f32) as u32;
            }
            for (s, row) in best.iter_mut().enumerate() {
                for l in 0..L {
                    let v = if sector[l] == s as u32 { sim[l] } else { -1.0 };
                    row[l] = if v > row[l] { v } else { row[l] };
                }
            }
        }
        *score = window_score(&best, lanes.k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finger::matcher::PreparedTemplate;
    use crate::finger::synth::{dataset, ImpressionParams, SynthParams};

    /// Two impressions of one finger of each of `subjects` synthetic subjects.
    fn prepared(seed: u64, subjects: u32) -> (Matcher, Vec<PreparedTemplate>) {
        let matcher = Matcher::default();
        let records = dataset(seed, subjects, 1, 2, &SynthParams::default(), &ImpressionParams::default());
        let prepared = records.iter().map(|r| matcher.prepare(&r.template)).collect();
        (matcher, prepared)
    }

    fn pair_scores(scan: &CylinderScan, templates: &[PreparedTemplate]) -> Vec<f32> {
        let mut out = vec![0.0; templates.len()];
        scan.score_pairs(templates, &mut out);
        out
    }

    #[test]
    fn a_template_scores_itself_highest() {
        let (matcher, prepared) = prepared(3, 6);
        for (i, probe) in prepared.iter().enumerate() {
            let scan = CylinderScan::new(probe, SCAN_MAX_PROBE_CYLINDERS, &matcher);
            assert_eq!(scan.len(), probe.len().min(SCAN_MAX_PROBE_CYLINDERS));
            let scores = scan.scores(&prepared);
            // Every scanned cylinder finds itself (similarity 1, rotation 0), so the score is SCAN_TOP.
            if scan.len() >= SCAN_TOP {
                assert!((scores[i] - SCAN_TOP as f32).abs() < 1e-5, "{}", scores[i]);
            }
            assert!(scores.iter().all(|&s| (0.0..=SCAN_TOP as f32 + 1e-5).contains(&s)));
            assert!(scores.iter().all(|&s| s <= scores[i]), "probe {i} scores itself highest");
        }
        // Fewer scanned cylinders: the fullest ones, so a scan of 1 keeps the cylinder with most bits.
        let one = CylinderScan::new(&prepared[0], 1, &matcher);
        let fullest = (0..prepared[0].len()).map(|c| prepared[0].cylinders.count(c)).max().unwrap();
        assert_eq!(one.norms, vec![(fullest as f32).sqrt()]);
        assert!(CylinderScan::new(&PreparedTemplate::default(), 8, &matcher).is_empty());
        assert!(CylinderScan::new(&PreparedTemplate::default(), 8, &matcher)
            .scores(&prepared)
            .iter()
            .all(|&s| s == 0.0));
    }

    #[test]
    fn every_lane_kernel_copy_equals_the_pair_kernel_bit_for_bit() {
        let (matcher, prepared) = prepared(5, 8);
        let detected = Isa::detect();
        for probe in &prepared {
            // 1–16 cylinders use 16 lanes, more use 32; both and every instruction set this CPU runs.
            for cylinders in [1, 5, 16, 17, 32] {
                let reference = CylinderScan::new(probe, cylinders, &matcher);
                let expected: Vec<u32> = pair_scores(&reference, &prepared).iter().map(|s| s.to_bits()).collect();
                for isa in [Isa::Portable, Isa::Popcnt, Isa::Avx2, Isa::Avx512].into_iter().filter(|&i| i <= detected) {
                    let scan = CylinderScan { isa, ..reference.clone() };
                    let got: Vec<u32> = scan.scores(&prepared).iter().map(|s| s.to_bits()).collect();
                    assert_eq!(got, expected, "{isa:?}, {cylinders} cylinders");
                }
            }
        }
    }

    #[test]
    fn a_narrow_rotation_limit_is_applied_by_both_kernels() {
        use crate::finger::matcher::ConsolidationParams;
        use crate::finger::mcc::MccParams;
        let (_, prepared) = prepared(9, 4);
        for max_rotation in [0.3, PI / 2.0, PI] {
            let matcher =
                Matcher::new(MccParams { max_rotation, ..MccParams::default() }, ConsolidationParams::default());
            let scan = CylinderScan::new(&prepared[0], 32, &matcher);
            let pairs = pair_scores(&scan, &prepared);
            assert_eq!(scan.scores(&prepared), pairs, "δθ = {max_rotation}");
        }
    }
}
