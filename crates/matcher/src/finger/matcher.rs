//! The 1:1 fingerprint matcher: MCC cylinders (see [`super::mcc`]) compared all against all, then the
//! Local Similarity Sort with Relaxation (LSS-R) of Cappelli, Ferrara & Maltoni 2010 (section 4.2) turns the
//! local similarities into one global score.
//!
//! **Score.** The mean, over the n_P minutia pairs that best keep their similarity through relaxation, of
//! their relaxed local similarity; n_P grows from 4 to 12 with the smaller template's size (paper eq. 23).
//! It lies in [0, 1]: 0 when no cylinder pair is alike, close to 1 for two identical templates, and pairs whose
//! neighbours do not agree geometrically (distances, relative directions) are pulled towards 0. It is a
//! similarity, not a probability: decide thresholds from the threshold table of an evaluation (score at FMR
//! 1 %, 0.1 %, 0.01 %), see `cgi-match eval fingerprints`.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::f32::consts::{PI, TAU};

use super::mcc::{self, angle_diff, CylinderLayout, Cylinders, MccParams, Point};
use super::template::Template;

/// Parameters of the global consolidation, LSS-R; defaults from Cappelli et al. 2010, table 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsolidationParams {
    /// min_{n_P}: pairs averaged for the smallest templates.
    pub min_np: usize,
    /// max_{n_P}: pairs averaged for large templates.
    pub max_np: usize,
    /// μ_P of the sigmoid that moves n_P from min to max with the template size.
    pub mu_p: f32,
    /// τ_P of that sigmoid.
    pub tau_p: f32,
    /// w_R: weight of a pair's own similarity in each relaxation step.
    pub w_r: f32,
    /// n_rel: relaxation iterations.
    pub n_rel: usize,
    /// μ and τ of the sigmoids for the three compatibility terms (distance, direction difference, radial angle).
    pub rho_mu: [f32; 3],
    /// See `rho_mu`.
    pub rho_tau: [f32; 3],
}

impl Default for ConsolidationParams {
    fn default() -> Self {
        ConsolidationParams {
            min_np: 4,
            max_np: 12,
            mu_p: 20.0,
            tau_p: 0.4,
            w_r: 0.5,
            n_rel: 5,
            rho_mu: [5.0, PI / 12.0, PI / 12.0],
            rho_tau: [-1.6, -30.0, -30.0],
        }
    }
}

/// A template pre-processed once for many comparisons: its cylinders (one compact record each, see
/// [`Cylinders`]) and a tie-breaking rank per cylinder. The relaxation's pairwise distances and angles are not
/// stored: a comparison computes them for the ≤ n_R selected pairs only, which keeps a template at a few kB
/// (≈ 110 bytes per kept minutia) for million-template galleries. Immutable, `Send + Sync`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreparedTemplate {
    /// Kept cylinders and their minutiae.
    pub cylinders: Cylinders,
    /// Rotation-invariant rank of each cylinder (see [`cylinder_ranks`]), used to break ties.
    rank: Vec<u8>,
    /// The cylinder at each rank.
    by_rank: Vec<u8>,
}

impl PreparedTemplate {
    /// Number of usable cylinders (minutiae with enough valid neighbourhood).
    pub fn len(&self) -> usize {
        self.cylinders.len()
    }

    /// True when the template has no usable cylinder; it then scores 0 against everything.
    pub fn is_empty(&self) -> bool {
        self.cylinders.is_empty()
    }

    /// The cell bits of cylinder `c` (what a gallery's locality-sensitive hashing samples).
    pub fn cylinder_bits(&self, c: usize) -> &[u64] {
        self.cylinders.bits(c)
    }

    /// Bytes this template occupies in memory, its own size plus its heap buffers (for gallery memory budgets).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.cylinders.heap_bytes() + self.rank.capacity() + self.by_rank.capacity()
    }
}

/// A matcher with its parameters and the tables derived from them; build once, share freely.
#[derive(Debug, Clone)]
pub struct Matcher {
    params: MccParams,
    consolidation: ConsolidationParams,
    layout: CylinderLayout,
    min_common_cells: u32,
    rho: [Sigmoid; 3],
    d1_cutoff: f32,
    angle_cutoff: [f32; 2],
    sqrt: Vec<f32>,
    roots: Box<[f32; mcc::ROOT_TABLE]>,
    isa: Isa,
}

/// Which compiled copy of the comparison this CPU runs (detected at run time; all give the same scores). Each
/// level implies the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Isa {
    /// Baseline x86-64 or another architecture.
    Portable,
    /// x86-64 with the POPCNT instruction.
    Popcnt,
    /// x86-64 with AVX2 and POPCNT.
    Avx2,
    /// x86-64 with AVX-512 (F, VL, BW, DQ) and VPOPCNTDQ.
    Avx512,
}

impl Isa {
    /// The best copy this CPU can run.
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512vpopcntdq")
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("popcnt")
            {
                return Isa::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("popcnt") {
                return Isa::Avx2;
            }
            if is_x86_feature_detected!("popcnt") {
                return Isa::Popcnt;
            }
        }
        Isa::Portable
    }
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher::new(MccParams::default(), ConsolidationParams::default())
    }
}

/// Cylinder blocks of the default layout (N_S = 8, N_D = 6: 5 bit words, 1 cell word).
type Block = mcc::CylinderBlock<5, 1>;

/// A kernel comparing one record with a block of eight (see [`block_avx512`]).
type BlockKernel = fn(&[u64; 12], &Block, &[u64; mcc::LANES], u64, u8, &mut [u64; mcc::LANES]) -> usize;

/// A relaxation computed another way than [`Matcher::relax_sparse`] (same inputs, same results).
type Relaxation = fn(&mut Scratch, usize, f32);

/// A way to move a subset that holds the n smallest keys to the front of the keys (see [`narrow_avx512`]).
type Narrowing = fn(&mut [u64], usize) -> usize;

/// Per-thread working memory of [`Matcher::compare`], so comparisons do not allocate.
#[derive(Debug, Default)]
struct Scratch {
    pairs: Vec<u64>,
    blocks: Vec<Block>,
    block_ranks: Vec<[u64; mcc::LANES]>,
    ends: Vec<PairEnds>,
    soa: [Vec<f32>; 5],
    near: Vec<(f32, f32)>,
    geometry: [Vec<f32>; 5],
    candidates: Vec<u32>,
    forward: Vec<(u32, f32)>,
    backward: Vec<Link>,
    row_ranges: Vec<(u32, u32)>,
    incoming: Vec<u32>,
    fill: Vec<u32>,
    sorted: Vec<(u32, f32)>,
    rows: Vec<(u32, u32, u32, u32, u32)>,
    initial: Vec<f32>,
    lambda: Vec<f32>,
    next: Vec<f32>,
    order: Vec<(f32, usize)>,
    upper: Vec<f32>,
    lower: Vec<f32>,
    upper_chunks: Vec<u32>,
    lower_chunks: Vec<u32>,
    survivors: [Vec<f32>; 8],
    survivor_ends: [Vec<u32>; 2],
    columns: Vec<u32>,
    column_ranges: Vec<(u32, u32, u32)>,
}

/// Writes the keys of the cylinder pairs of non-zero similarity to the front of a buffer that has room for
/// every cylinder pair (no capacity check per pair, unlike `Vec::push`).
struct Collector<'a> {
    buf: &'a mut [u64],
    len: usize,
}

impl Collector<'_> {
    #[inline]
    fn offer(&mut self, l: f32, rank_a: u8, rank_b: u8) {
        if l <= 0.0 {
            return;
        }
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = pair_key(l, rank_a, rank_b);
            self.len += 1;
        }
    }
}

/// A non-negligible compatibility ρ(to, from) between two selected pairs, pre-multiplied by the relaxation's
/// spread factor (1 − w_R) / (n_R − 1). Links with `to` < `from` are kept per row (`to` implied), the others
/// in a list of their own whose consecutive entries update different pairs.
#[derive(Debug, Clone, Copy)]
struct Link {
    to: u32,
    from: u32,
    weight: f32,
}

/// The two minutiae of a selected pair and the rotation that maps one onto the other (θ_a − θ_b).
#[derive(Debug, Clone, Copy)]
struct PairEnds {
    a: Point,
    b: Point,
    rot: f32,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Matcher {
    /// A matcher with explicit parameters.
    pub fn new(params: MccParams, consolidation: ConsolidationParams) -> Self {
        let layout = CylinderLayout::new(&params);
        let min_common_cells = (params.min_matchable * layout.cells.len() as f32).ceil() as u32;
        let [m1, m2, m3] = consolidation.rho_mu;
        let [t1, t2, t3] = consolidation.rho_tau;
        let rho = [Sigmoid::new(m1, t1, 40.0, 4096), Sigmoid::new(m2, t2, PI, 2048), Sigmoid::new(m3, t3, PI, 2048)];
        // Z(d) < 1e-6 ⇔ τ(d − μ) < ln 1e-6 (nearly), with τ < 0: past it a term makes ρ negligible.
        let cutoff = |mu: f32, tau: f32| if tau < 0.0 { mu + (1e-6_f32).ln() / tau } else { f32::INFINITY };
        let d1_cutoff = cutoff(m1, t1);
        let angle_cutoff = [cutoff(m2, t2), cutoff(m3, t3)];
        let sqrt = (0..=layout.words * 64).map(|k| (k as f32).sqrt()).collect();
        let roots = mcc::root_table();
        Matcher {
            params,
            consolidation,
            layout,
            min_common_cells,
            rho,
            d1_cutoff,
            angle_cutoff,
            sqrt,
            roots,
            isa: Isa::detect(),
        }
    }

    /// The cylinder parameters in use.
    pub fn params(&self) -> &MccParams {
        &self.params
    }

    /// Where the cells of the cylinders lie (the gallery's hashing samples them).
    pub fn layout(&self) -> &CylinderLayout {
        &self.layout
    }

    /// The consolidation parameters in use.
    pub fn consolidation(&self) -> &ConsolidationParams {
        &self.consolidation
    }

    /// Pre-processes a template: its cylinders and their tie-breaking ranks.
    pub fn prepare(&self, template: &Template) -> PreparedTemplate {
        let points = matcher_points(template);
        let cylinders = mcc::build(&points, &self.params, &self.layout);
        let n = cylinders.len();
        // The distances are needed only for the ranks here; comparisons recompute the few they need.
        let mut dist = vec![0.0; n * n];
        for (i, a) in cylinders.points.iter().enumerate() {
            for (j, b) in cylinders.points.iter().enumerate() {
                dist[i * n + j] = (b.x - a.x).hypot(b.y - a.y);
            }
        }
        let counts: Vec<u32> = (0..n).map(|c| cylinders.count(c)).collect();
        let by_rank = cylinder_ranks(&counts, &dist);
        let mut rank = vec![0; n];
        for (r, &c) in by_rank.iter().enumerate() {
            rank[c] = r as u8;
        }
        let by_rank = by_rank.into_iter().map(|c| c as u8).collect();
        PreparedTemplate { cylinders, rank, by_rank }
    }

    /// Similarity of two prepared templates in [0, 1] (see the module doc for its meaning).
    pub fn compare(&self, a: &PreparedTemplate, b: &PreparedTemplate) -> f32 {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => self.compare_with(a, b, &mut s),
            // Only reachable if compare were re-entered on one thread; stay correct, just allocate.
            Err(_) => self.compare_with(a, b, &mut Scratch::default()),
        })
    }

    /// Fills `out` with the keys of every cylinder pair of non-zero similarity (the matrix Γ of the paper).
    /// Returns how many keys it wrote to the front of `out`.
    // Always inlined so each instruction-set copy of `compare_with` gets its own code generation.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn local_similarities<K: Fn(&[u64; 12], &Block, &[u64; mcc::LANES], u64, u8, &mut [u64; mcc::LANES]) -> usize>(
        &self,
        a: &PreparedTemplate,
        b: &PreparedTemplate,
        out: &mut Vec<u64>,
        blocks: &mut Vec<Block>,
        ranks: &mut Vec<[u64; mcc::LANES]>,
        kernel: Option<K>,
    ) -> usize {
        // Room for every cylinder pair plus a block's worth (the AVX-512 kernel is handed eight slots and fills
        // those it keeps); the buffer only grows, so this is a no-op after the first comparisons.
        let room = a.len() * b.len() + mcc::LANES;
        if out.len() < room {
            out.resize(room, 0);
        }
        if let Some(kernel) = kernel {
            if mcc::fill_blocks(&b.cylinders, blocks) {
                ranks.clear();
                ranks.resize(blocks.len(), [0; mcc::LANES]);
                for (c, &rank) in b.rank.iter().enumerate() {
                    ranks[c / mcc::LANES][c % mcc::LANES] = u64::from(rank);
                }
                return self.local_similarities_blocks(a, b, out, blocks, ranks, kernel);
            }
        }
        self.local_similarities_body(a, b, out)
    }

    /// The cylinder comparisons of the default layout, one cylinder of `pa` against eight of `pb` at a time
    /// (`blocks` holds `pb`'s records side by side); same keys as [`Self::local_similarities_body`].
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn local_similarities_blocks(
        &self,
        pa: &PreparedTemplate,
        pb: &PreparedTemplate,
        out: &mut [u64],
        blocks: &[Block],
        ranks: &[[u64; mcc::LANES]],
        kernel: impl Fn(&[u64; 12], &Block, &[u64; mcc::LANES], u64, u8, &mut [u64; mcc::LANES]) -> usize,
    ) -> usize {
        let (a, b) = (&pa.cylinders, &pb.cylinders);
        let mut len = 0;
        for (i, point) in a.points.iter().enumerate() {
            let (Some(rec), Some(&rank)) = (a.record_as::<12>(i), pa.rank.get(i)) else { continue };
            for (start, end) in self.window(point.angle, &b.points) {
                if end <= start {
                    continue;
                }
                let first = start / mcc::LANES;
                let blocks = blocks.iter().zip(ranks).enumerate().take(end.div_ceil(mcc::LANES)).skip(first);
                for (g, (block, block_ranks)) in blocks {
                    // Only the lanes inside the window count (the block may reach past either end).
                    let base = g * mcc::LANES;
                    let (from, to) = (start.max(base) - base, end.min(base + mcc::LANES) - base);
                    let lanes = ((1_u32 << to) - (1_u32 << from)) as u8;
                    // `out` has room for every pair plus a block's worth, so this slice always exists (the kernel
                    // keeps at most the pairs of its lanes).
                    let Some(dst) =
                        out.get_mut(len..len + mcc::LANES).and_then(|d| <&mut [u64; mcc::LANES]>::try_from(d).ok())
                    else {
                        break;
                    };
                    len += kernel(rec, block, block_ranks, u64::from(rank), lanes, dst);
                }
            }
        }
        len
    }

    /// The index ranges of `b`'s cylinders (sorted by direction) whose direction is within ±δ_θ of `angle`:
    /// cylinders of minutiae turned by more than δ_θ are not compared (paper eq. 14).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn window(&self, angle: f32, b: &[mcc::Point]) -> [(usize, usize); 2] {
        let delta = self.params.max_rotation;
        let nb = b.len();
        // The cylinders are sorted by direction, so "how many lie below v" is where v would go. Counting them is
        // a few dozen branch-free compares; a binary search over so few mispredicts at every step.
        let first_at_least = |v: f32| b.iter().map(|p| usize::from(p.angle < v)).sum::<usize>();
        let first_above = |v: f32| b.iter().map(|p| usize::from(p.angle <= v)).sum::<usize>();
        let (lo, hi) = (angle - delta, angle + delta);
        if delta >= PI {
            [(0, nb), (0, 0)]
        } else if lo < 0.0 {
            [(0, first_above(hi)), (first_at_least(lo + TAU), nb)]
        } else if hi >= TAU {
            [(first_at_least(lo), nb), (0, first_above(hi - TAU))]
        } else {
            [(first_at_least(lo), first_above(hi)), (0, 0)]
        }
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn local_similarities_body(&self, pa: &PreparedTemplate, pb: &PreparedTemplate, out: &mut [u64]) -> usize {
        let (a, b) = (&pa.cylinders, &pb.cylinders);
        let (rank_a, rank_b) = (&pa.rank, &pb.rank);
        let mut keep = Collector { buf: out, len: 0 };
        for (i, point) in a.points.iter().enumerate() {
            for (start, end) in self.window(point.angle, &b.points) {
                let range = start..end.max(start);
                let ranks = &rank_b[range.clone()];
                // The default layout (N_S = 8: 5 bit words, 1 cell word, 12-word records) gets a copy with
                // fixed-size records, which the compiler unrolls; other layouts take the general loop.
                if self.layout.words == 5 && self.layout.cell_words == 1 {
                    if let (Some(rec), Some(others)) = (a.record_as::<12>(i), b.records_as::<12>(range.clone())) {
                        for (other, &rank) in others.zip(ranks) {
                            let l = mcc::similarity_record::<5, 1, 12>(rec, other, self.min_common_cells, &self.roots);
                            keep.offer(l, rank_a[i], rank);
                        }
                        continue;
                    }
                }
                let ia = a.view(i);
                for (j, &rank) in range.zip(ranks) {
                    let l = mcc::similarity_with(ia, b.view(j), self.min_common_cells, &self.sqrt);
                    keep.offer(l, rank_a[i], rank);
                }
            }
        }
        keep.len
    }

    /// Runs [`Self::compare_body`] compiled for the best instruction set the CPU has (detected once in
    /// [`Matcher::new`]); every copy computes the same score (tested).
    fn compare_with(&self, a: &PreparedTemplate, b: &PreparedTemplate, s: &mut Scratch) -> f32 {
        #[cfg(target_arch = "x86_64")]
        match self.isa {
            Isa::Avx512 => {
                #[allow(unsafe_code)]
                // SAFETY: `Isa::Avx512` is only set when `is_x86_feature_detected!` found every feature enabled
                // on `compare_avx512`.
                return unsafe { self.compare_avx512(a, b, s) };
            }
            Isa::Avx2 => {
                #[allow(unsafe_code)]
                // SAFETY: `Isa::Avx2` is only set when `is_x86_feature_detected!` found AVX2 and POPCNT.
                return unsafe { self.compare_avx2(a, b, s) };
            }
            Isa::Popcnt => {
                #[allow(unsafe_code)]
                // SAFETY: `Isa::Popcnt` is only set when `is_x86_feature_detected!("popcnt")` is true.
                return unsafe { self.compare_popcnt(a, b, s) };
            }
            Isa::Portable => {}
        }
        self.compare_body(a, b, s, None::<BlockKernel>, None::<Relaxation>, None::<Narrowing>)
    }

    /// [`Self::compare_body`] with AVX-512: VPOPCNTDQ counts the bits of eight cylinders' words at once.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,popcnt")]
    fn compare_avx512(&self, a: &PreparedTemplate, b: &PreparedTemplate, s: &mut Scratch) -> f32 {
        let min = self.min_common_cells;
        // The closure inherits this function's target features, so it may call the AVX-512 kernel.
        let kernel =
            |rec: &[u64; 12], block: &Block, ranks: &[u64; mcc::LANES], rank, lanes, out: &mut [u64; mcc::LANES]| {
                block_avx512(rec, block, ranks, rank, lanes, min, out)
            };
        // Likewise for the dense relaxation.
        let relax = |s: &mut Scratch, nr, spread| self.relax_avx512(s, nr, spread);
        self.compare_body(a, b, s, Some(kernel), Some(relax), Some(|keys: &mut [u64], nr| narrow_avx512(keys, nr)))
    }

    /// [`Self::compare_body`] with AVX2 (8-wide float loops in the relaxation's screening) and POPCNT.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,popcnt")]
    fn compare_avx2(&self, a: &PreparedTemplate, b: &PreparedTemplate, s: &mut Scratch) -> f32 {
        self.compare_body(a, b, s, None::<BlockKernel>, None::<Relaxation>, None::<Narrowing>)
    }

    /// [`Self::compare_body`] with the POPCNT instruction (the x86-64 baseline lacks it).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn compare_popcnt(&self, a: &PreparedTemplate, b: &PreparedTemplate, s: &mut Scratch) -> f32 {
        self.compare_body(a, b, s, None::<BlockKernel>, None::<Relaxation>, None::<Narrowing>)
    }

    // Always inlined so each instruction-set copy above really gets its own code generation. Single-letter
    // names follow the paper (a, b, r, k, s for the scratch memory).
    #[allow(clippy::inline_always, clippy::many_single_char_names)]
    #[inline(always)]
    fn compare_body<
        K: Fn(&[u64; 12], &Block, &[u64; mcc::LANES], u64, u8, &mut [u64; mcc::LANES]) -> usize,
        R: Fn(&mut Scratch, usize, f32),
        N: Fn(&mut [u64], usize) -> usize,
    >(
        &self,
        a: &PreparedTemplate,
        b: &PreparedTemplate,
        s: &mut Scratch,
        kernel: Option<K>,
        relax: Option<R>,
        narrow: Option<N>,
    ) -> f32 {
        let (na, nb) = (a.len(), b.len());
        if na == 0 || nb == 0 {
            return 0.0;
        }
        let (ca, cb) = (&a.cylinders, &b.cylinders);
        let found = self.local_similarities(a, b, &mut s.pairs, &mut s.blocks, &mut s.block_ranks, kernel);
        // LSS: the n_R = min(n_A, n_B) most similar pairs; the key's total order (similarity descending, then
        // minutia indices) keeps the choice deterministic.
        let nr = na.min(nb).min(found);
        if nr == 0 {
            return 0.0;
        }
        let pairs = &mut s.pairs[..found];
        let pairs = if nr < found {
            // A copy may first move a smaller set that surely holds the n_R smallest keys to the front.
            let front = narrow.map_or(found, |narrow| narrow(pairs, nr));
            let pairs = &mut pairs[..front];
            if nr < front {
                pairs.select_nth_unstable(nr - 1);
            }
            &mut pairs[..nr]
        } else {
            pairs
        };
        pairs.sort_unstable();
        let c = &self.consolidation;
        let np = c.min_np
            + (sigmoid(na.min(nb) as f32, c.mu_p, c.tau_p) * (c.max_np.saturating_sub(c.min_np)) as f32).round()
                as usize;

        let spread = if nr > 1 { (1.0 - c.w_r) / (nr - 1) as f32 } else { 0.0 };
        // Relaxation (paper eq. 24–27): each pair's similarity is blended with its compatible neighbours'.
        s.lambda.clear();
        s.ends.clear();
        for &key in pairs.iter() {
            let (similarity, ra, rb) = unpack_key(key);
            let (ia, jb) = (usize::from(a.by_rank[ra]), usize::from(b.by_rank[rb]));
            s.lambda.push(similarity);
            // The rotation this pair implies; every angular term of ρ is a difference of these or of headings.
            let (pa, pb) = (ca.points[ia], cb.points[jb]);
            s.ends.push(PairEnds { a: pa, b: pb, rot: angle_diff(pa.angle, pb.angle) });
        }
        // With δ = θ_a − θ_b the rotation a pair implies and turn = heading_a − heading_b of the segments
        // between the two pairs' minutiae: d_2 = |δ_r − δ_k| and d_3(r→k) = |δ_r − turn| (mod 2π). The segments'
        // lengths and their turn are computed here from the minutiae, for the selected pairs only.
        // The pairs' coordinates and rotations as columns, so the screening of a row below (d_1 and d_2 of every
        // later pair) and then the turns of the pairs that pass it run as straight vector code; only the table
        // lookups of ρ stay scalar.
        for (column, field) in s.soa.iter_mut().zip(0..) {
            column.clear();
            column.extend(s.ends.iter().map(|e| match field {
                0 => e.a.x,
                1 => e.a.y,
                2 => e.b.x,
                3 => e.b.y,
                _ => e.rot,
            }));
        }
        match relax {
            Some(relax) => relax(s, nr, spread),
            None => self.relax_sparse(s, nr, spread),
        }
        // Efficiency ε_r = λ_r^{n_rel} / λ_r^0 picks the pairs that kept their similarity best (eq. 28).
        s.order.clear();
        s.order.extend(s.initial.iter().zip(&s.lambda).enumerate().map(|(r, (l0, l))| (l / l0, r)));
        let take = np.min(nr);
        if take < nr {
            s.order.select_nth_unstable_by(take - 1, efficiency_order);
        }
        let total: f32 = s.order[..take].iter().map(|&(_, r)| s.lambda[r]).sum();
        // Divide by n_P even when fewer pairs exist: a handful of pairs is weaker evidence, not stronger.
        (total / np.max(1) as f32).clamp(0.0, 1.0)
    }

    /// [`Self::relax_sparse`] with AVX-512, as vector code throughout: the screening runs sixteen later pairs at
    /// a time and compresses the pairs of pairs that pass it into columns; ρ of those both ways round is computed
    /// sixteen at a time (the tabulated sigmoids read by masked gathers) into two dense n_R × n_R matrices
    /// (links to later pairs, links from earlier pairs; zero where the sparse code keeps no link), and each
    /// relaxation step sweeps their columns over sixteen rows at once, skipping the columns without links.
    /// Between genuine templates most pairs of pairs are compatible (≈ 70 % on the development set), so the
    /// sparse code's per-link scalar work was most of a comparison.
    ///
    /// Same scores to the bit (tested against the portable code): the same IEEE operations in the same order
    /// per lane, no fused multiply-add; a row's sums run over the columns in ascending order, first the links
    /// to later pairs as one sum, then the links from earlier pairs one by one, exactly as the sparse code adds
    /// them; the zeros of absent links add nothing (x + 0 = x, and every λ is positive).
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code, clippy::too_many_lines, clippy::many_single_char_names, clippy::similar_names)]
    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,popcnt")]
    fn relax_avx512(&self, s: &mut Scratch, nr: usize, spread: f32) {
        use std::arch::x86_64::{
            __m512, __mmask16, __mmask8, _mm512_abs_ps, _mm512_add_epi32, _mm512_add_ps, _mm512_castsi512_ps,
            _mm512_castsi512_si256, _mm512_cmp_ps_mask, _mm512_cvtepi32_ps, _mm512_cvttps_epi32, _mm512_div_ps,
            _mm512_extracti32x8_epi32, _mm512_loadu_ps, _mm512_mask_add_ps, _mm512_mask_blend_ps,
            _mm512_mask_i32gather_epi64, _mm512_mask_sub_ps, _mm512_mask_xor_ps, _mm512_maskz_compress_epi32,
            _mm512_maskz_compress_ps, _mm512_maskz_mov_epi32, _mm512_maskz_mov_ps, _mm512_max_epi32, _mm512_mul_ps,
            _mm512_permutex2var_ps, _mm512_set1_epi32, _mm512_set1_ps, _mm512_set_epi32, _mm512_setzero_ps,
            _mm512_setzero_si512, _mm512_sqrt_ps, _mm512_storeu_epi32, _mm512_storeu_ps, _mm512_sub_ps, _CMP_EQ_OQ,
            _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LE_OQ, _CMP_LT_OQ, _CMP_NLT_UQ,
        };
        const L: usize = 16;
        // The per-column chunk bits below are u32: 32 chunks of 16 rows. n_R ≤ 255 (a template keeps at most 255
        // minutiae), so this never happens; it only keeps the code correct for any size.
        if nr > 32 * L {
            self.relax_sparse(s, nr, spread);
            return;
        }
        let c = &self.consolidation;
        let Scratch {
            soa,
            ends,
            lambda,
            next,
            initial,
            upper,
            lower,
            upper_chunks,
            lower_chunks,
            columns,
            column_ranges,
            survivors,
            survivor_ends,
            ..
        } = s;
        // Rows and columns padded to whole vectors; padding lanes hold zeros and are masked out.
        let stride = nr.div_ceil(L) * L;
        for column in soa.iter_mut() {
            column.resize(stride, 0.0);
        }
        upper.clear();
        upper.resize(nr * stride, 0.0);
        lower.clear();
        lower.resize(nr * stride, 0.0);
        // Per column of either matrix, the row chunks it has a link in (bit c: rows 16c..16c + 16), so the
        // relaxation skips the columns without any (most of them between impostors).
        upper_chunks.clear();
        upper_chunks.resize(nr, 0);
        lower_chunks.clear();
        lower_chunks.resize(nr, 0);
        // SAFETY: `chunk` is a slice of L = 16 f32, 64 readable bytes; the load has no alignment requirement.
        let load = |v: &[f32], at: usize| -> __m512 {
            match v.get(at..at + L) {
                Some(chunk) => unsafe { _mm512_loadu_ps(chunk.as_ptr()) },
                None => _mm512_setzero_ps(),
            }
        };
        // SAFETY: `chunk` is a slice of L = 16 f32, 64 writable bytes; no alignment requirement.
        let store = |v: &mut [f32], at: usize, x: __m512| {
            if let Some(chunk) = v.get_mut(at..at + L) {
                unsafe { _mm512_storeu_ps(chunk.as_mut_ptr(), x) };
            }
        };
        let splat = _mm512_set1_ps;
        let le = |x: __m512, y: f32| -> __mmask16 { _mm512_cmp_ps_mask::<_CMP_LE_OQ>(x, splat(y)) };
        // `angle_diff`: a − b brought into [−π, π) by two selects.
        let angle_diff16 = |x: __m512, y: __m512| -> __m512 {
            let d = _mm512_sub_ps(x, y);
            let below = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(d, splat(-PI));
            let above = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(d, splat(PI));
            let d = _mm512_mask_add_ps(d, below, d, splat(TAU));
            _mm512_mask_sub_ps(d, above, d, splat(TAU))
        };
        // `is_point`.
        let is_point16 = |dx: __m512, dy: __m512| -> __mmask16 {
            _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_abs_ps(dx), splat(1e-3))
                & _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_abs_ps(dy), splat(1e-3))
        };
        // `atan2_approx`, select for select.
        let atan2_16 = |y: __m512, x: __m512| -> __m512 {
            let (ax, ay) = (_mm512_abs_ps(x), _mm512_abs_ps(y));
            let steep = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(ax, ay);
            let (lo, hi) = (_mm512_mask_blend_ps(steep, ay, ax), _mm512_mask_blend_ps(steep, ax, ay));
            let flat = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(hi, _mm512_setzero_ps());
            let t = _mm512_mask_blend_ps(flat, _mm512_div_ps(lo, hi), _mm512_setzero_ps());
            let t2 = _mm512_mul_ps(t, t);
            let p = _mm512_sub_ps(splat(0.052_653_32), _mm512_mul_ps(splat(0.011_721_2), t2));
            let p = _mm512_add_ps(splat(-0.116_432_87), _mm512_mul_ps(t2, p));
            let p = _mm512_add_ps(splat(0.193_543_46), _mm512_mul_ps(t2, p));
            let p = _mm512_add_ps(splat(-0.332_623_47), _mm512_mul_ps(t2, p));
            let p = _mm512_add_ps(splat(0.999_977_26), _mm512_mul_ps(t2, p));
            let r = _mm512_mul_ps(t, p);
            let r = _mm512_mask_sub_ps(r, _mm512_cmp_ps_mask::<_CMP_GT_OQ>(ay, ax), splat(PI / 2.0), r);
            let r = _mm512_mask_sub_ps(r, _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, _mm512_setzero_ps()), splat(PI), r);
            _mm512_mask_xor_ps(r, _mm512_cmp_ps_mask::<_CMP_LT_OQ>(y, _mm512_setzero_ps()), r, splat(-0.0))
        };
        // `Sigmoid::eval`: the same interpolation, the two table entries gathered.
        let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        let odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
        let sigmoid16 = |z: &Sigmoid, v: __m512, active: __mmask16| -> __m512 {
            let last = z.table.len() - 1;
            let x = _mm512_mul_ps(v, splat(z.scale));
            let clamp = _mm512_cmp_ps_mask::<_CMP_NLT_UQ>(x, splat(last as f32));
            // Truncation like `as usize` for x ≥ 0; clamped lanes and negative x read entry 0 (then replaced,
            // resp. `as usize` saturates to 0 too), so every index lies in [0, last − 1].
            let k = _mm512_max_epi32(_mm512_maskz_mov_epi32(!clamp, _mm512_cvttps_epi32(x)), _mm512_setzero_si512());
            let f = _mm512_sub_ps(x, _mm512_cvtepi32_ps(k));
            // Entries k and k + 1 as one word per lane (lanes 0–7, then 8–15), then split into two vectors.
            let (low, high) = (_mm512_castsi512_si256(k), _mm512_extracti32x8_epi32::<1>(k));
            let base = z.intervals.as_ptr().cast::<i64>();
            // SAFETY: every lane of `k` is in [0, last − 1] (see above) and `z.intervals` has `last` entries.
            let (g0, g1) = unsafe {
                (
                    _mm512_mask_i32gather_epi64::<8>(_mm512_setzero_si512(), active as __mmask8, low, base),
                    _mm512_mask_i32gather_epi64::<8>(_mm512_setzero_si512(), (active >> 8) as __mmask8, high, base),
                )
            };
            let (g0, g1) = (_mm512_castsi512_ps(g0), _mm512_castsi512_ps(g1));
            let t0 = _mm512_permutex2var_ps(g0, even, g1);
            let t1 = _mm512_permutex2var_ps(g0, odd, g1);
            let r = _mm512_add_ps(t0, _mm512_mul_ps(f, _mm512_sub_ps(t1, t0)));
            _mm512_mask_blend_ps(clamp, r, splat(z.table[last]))
        };
        let [c1, c2, c3] = [self.d1_cutoff, self.angle_cutoff[0], self.angle_cutoff[1]];
        let [ax, ay, bx, by, rot] = &*soa;
        let (vspread, zero) = (splat(spread), _mm512_setzero_ps());
        // Room for every pair of pairs plus one vector (each compress writes a whole vector at the end).
        let room = nr * nr.saturating_sub(1) / 2 + L;
        // Only grown, never cleared: every entry read below is written first.
        for column in survivors.iter_mut() {
            if column.len() < room {
                column.resize(room, 0.0);
            }
        }
        for column in survivor_ends.iter_mut() {
            if column.len() < room {
                column.resize(room, 0);
            }
        }
        let lane_index = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        // Screening, sixteen later pairs at a time: the pairs of pairs that pass it (beyond these distance /
        // rotation mismatches Z_1 or Z_2 < 1e-6) are compressed into columns, so the expensive part below runs on
        // full vectors of survivors (≈ 10 % of the pairs of pairs between impostors, ≈ 70 % between genuine ones).
        let mut found = 0;
        for (r, e1) in ends.iter().enumerate().take(nr) {
            let (px, py, qx, qy, pr) = (splat(e1.a.x), splat(e1.a.y), splat(e1.b.x), splat(e1.b.y), splat(e1.rot));
            for chunk in ((r + 1) / L * L..nr).step_by(L) {
                let (from, to) = ((r + 1).max(chunk) - chunk, nr.min(chunk + L) - chunk);
                let lanes = ((1_u32 << to) - (1_u32 << from)) as __mmask16;
                let (vax, vay) = (_mm512_sub_ps(load(ax, chunk), px), _mm512_sub_ps(load(ay, chunk), py));
                let (vbx, vby) = (_mm512_sub_ps(load(bx, chunk), qx), _mm512_sub_ps(load(by, chunk), qy));
                let la = _mm512_sqrt_ps(_mm512_add_ps(_mm512_mul_ps(vax, vax), _mm512_mul_ps(vay, vay)));
                let lb = _mm512_sqrt_ps(_mm512_add_ps(_mm512_mul_ps(vbx, vbx), _mm512_mul_ps(vby, vby)));
                let d1 = _mm512_abs_ps(_mm512_sub_ps(la, lb));
                let rot_k = load(rot, chunk);
                let d2 = _mm512_abs_ps(angle_diff16(pr, rot_k));
                let survive = lanes & le(d1, c1) & le(d2, c2);
                if survive == 0 {
                    continue;
                }
                for (column, v) in survivors.iter_mut().zip([vax, vay, vbx, vby, pr, rot_k, d1, d2]) {
                    store(column, found, _mm512_maskz_compress_ps(survive, v));
                }
                let later = _mm512_add_epi32(_mm512_set1_epi32(chunk as i32), lane_index);
                for (column, v) in survivor_ends.iter_mut().zip([_mm512_set1_epi32(r as i32), later]) {
                    if let Some(slot) = column.get_mut(found..found + L) {
                        // SAFETY: `slot` is a slice of L = 16 u32, 64 writable bytes; no alignment requirement.
                        unsafe {
                            _mm512_storeu_epi32(slot.as_mut_ptr().cast(), _mm512_maskz_compress_epi32(survive, v));
                        };
                    }
                }
                found += survive.count_ones() as usize;
            }
        }
        // ρ of the survivors both ways round, sixteen at a time; a weight is 0 where d_3 exceeds its cut-off.
        let [vax, vay, vbx, vby, rot_r, rot_k, d1, d2] = &mut *survivors;
        let [rows, cols] = &*survivor_ends;
        for at in (0..found).step_by(L) {
            let active = (((1_u32 << (found - at).min(L)) - 1) & 0xFFFF) as __mmask16;
            let (x1, y1, x2, y2) = (load(vax, at), load(vay, at), load(vbx, at), load(vby, at));
            let (pr, pk, e1, e2) = (load(rot_r, at), load(rot_k, at), load(d1, at), load(d2, at));
            let turn = atan2_16(
                _mm512_sub_ps(_mm512_mul_ps(x2, y1), _mm512_mul_ps(y2, x1)),
                _mm512_add_ps(_mm512_mul_ps(x2, x1), _mm512_mul_ps(y2, y1)),
            );
            let point = active & (is_point16(x1, y1) | is_point16(x2, y2));
            let d3 = _mm512_abs_ps(angle_diff16(pr, turn));
            let back = _mm512_abs_ps(angle_diff16(pk, turn));
            let z12 = _mm512_mul_ps(sigmoid16(&self.rho[0], e1, active), sigmoid16(&self.rho[1], e2, active));
            let sz = _mm512_mul_ps(vspread, z12);
            let keep_f = active & !point & le(d3, c3);
            let keep_b = active & !point & le(back, c3);
            let wf = _mm512_maskz_mov_ps(keep_f, _mm512_mul_ps(sz, sigmoid16(&self.rho[2], d3, keep_f)));
            let wb = _mm512_maskz_mov_ps(keep_b, _mm512_mul_ps(sz, sigmoid16(&self.rho[2], back, keep_b)));
            // The columns are not needed any more: the weights go where the x offsets were.
            store(vax, at, wf);
            store(vay, at, wb);
            // A zero-length segment (rare): its heading is its start minutia's direction, which differs between
            // the two ways round; the sparse code's scalar path.
            let mut m = point;
            if m != 0 {
                let mut z = [0.0_f32; L];
                store(&mut z, 0, z12);
                while m != 0 {
                    let lane = m.trailing_zeros() as usize;
                    m &= m - 1;
                    let (r, later) = (rows[at + lane] as usize, cols[at + lane] as usize);
                    let (e1, e2) = (ends[r], ends[later]);
                    let turn = angle_diff(segment_heading(&e1.a, &e2.a), segment_heading(&e1.b, &e2.b));
                    let turn_back = angle_diff(segment_heading(&e2.a, &e1.a), segment_heading(&e2.b, &e1.b));
                    let d3 = angle_diff(e1.rot, turn).abs();
                    let back = angle_diff(e2.rot, turn_back).abs();
                    vax[at + lane] = if d3 <= c3 { spread * z[lane] * self.rho[2].eval(d3) } else { 0.0 };
                    vay[at + lane] = if back <= c3 { spread * z[lane] * self.rho[2].eval(back) } else { 0.0 };
                }
            }
        }
        // Into the matrices: the link from the later pair k to pair r in row r of the upper matrix (column k),
        // the link from r to k in column r of the lower matrix (row k). A survivor whose weight is 0 adds a zero
        // column entry, which changes no sum.
        for (((&r, &k), &wf), &wb) in rows.iter().zip(cols.iter()).zip(vax.iter()).zip(vay.iter()).take(found) {
            let (r, k) = (r as usize, k as usize);
            if let Some(slot) = upper.get_mut(k * stride + r) {
                *slot = wf;
            }
            if let Some(slot) = lower.get_mut(r * stride + k) {
                *slot = wb;
            }
            upper_chunks[k] |= 1 << (r / L);
            lower_chunks[r] |= 1 << (k / L);
        }
        initial.clear();
        initial.extend_from_slice(&lambda[..nr]);
        lambda.resize(stride, 0.0);
        next.clear();
        next.resize(stride, 0.0);
        // Per row chunk, the columns with a link in it, ascending: those of the upper matrix, then the lower's.
        columns.clear();
        column_ranges.clear();
        for chunk in 0..stride / L {
            let start = columns.len() as u32;
            columns.extend((0..nr as u32).filter(|&k| upper_chunks[k as usize] >> chunk & 1 == 1));
            let middle = columns.len() as u32;
            columns.extend((0..nr as u32).filter(|&j| lower_chunks[j as usize] >> chunk & 1 == 1));
            column_ranges.push((start, middle, columns.len() as u32));
        }
        let w_r = splat(c.w_r);
        for _ in 0..c.n_rel {
            for (chunk, &(start, middle, end)) in column_ranges.iter().enumerate() {
                let rows = chunk * L;
                // Rows of this chunk: Σ over later pairs (the upper matrix, zero at or above the diagonal).
                let mut later = zero;
                for &k in columns.get(start as usize..middle as usize).unwrap_or_default() {
                    let k = k as usize;
                    later = _mm512_add_ps(later, _mm512_mul_ps(load(upper, k * stride + rows), splat(lambda[k])));
                }
                let mut v = _mm512_add_ps(_mm512_mul_ps(w_r, load(lambda, rows)), later);
                // Then the earlier pairs one by one (the lower matrix, zero at or below the diagonal).
                for &j in columns.get(middle as usize..end as usize).unwrap_or_default() {
                    let j = j as usize;
                    v = _mm512_add_ps(v, _mm512_mul_ps(load(lower, j * stride + rows), splat(lambda[j])));
                }
                store(next, rows, v);
            }
            std::mem::swap(lambda, next);
        }
    }

    /// The relaxation's n_rel steps over the links between the selected pairs (paper eq. 24–27), computed sparse:
    /// each row screens the later pairs, keeps those with a non-negligible compatibility ρ and sums over the
    /// kept links only. Reads `s.ends`, `s.soa` and the initial similarities in `s.lambda`; leaves them in
    /// `s.initial` and the relaxed ones in `s.lambda`.
    #[allow(clippy::inline_always, clippy::many_single_char_names)]
    #[inline(always)]
    fn relax_sparse(&self, s: &mut Scratch, nr: usize, spread: f32) {
        let c = &self.consolidation;
        s.row_ranges.clear();
        s.row_ranges.resize(nr, (0, 0));
        let [c1, c2, c3] = [self.d1_cutoff, self.angle_cutoff[0], self.angle_cutoff[1]];
        // Room for every link both ways (plus the slot a rejected link is written to), so links are written
        // without capacity checks and kept or not without a branch.
        let room = nr * nr + 1;
        if s.forward.len() < room {
            s.forward.resize(room, (0, 0.0));
            s.backward.resize(room, Link { to: 0, from: 0, weight: 0.0 });
            s.candidates.resize(room, 0);
        }
        let (mut forward, mut backward) = (0, 0);
        s.rows.clear();
        for r in 0..nr {
            let e1 = s.ends[r];
            let [ax, ay, bx, by, rot] = &s.soa;
            // Screening of every later pair as vector code: beyond these distance / rotation mismatches Z_1 or
            // Z_2 < 1e-6, the pair of pairs contributes nothing measurable.
            s.near.clear();
            s.near.extend(ax.iter().zip(ay).zip(bx).zip(by).zip(rot).skip(r + 1).map(
                |((((&ax, &ay), &bx), &by), &rot)| {
                    let (vax, vay, vbx, vby) = (ax - e1.a.x, ay - e1.a.y, bx - e1.b.x, by - e1.b.y);
                    let d1 = ((vax * vax + vay * vay).sqrt() - (vbx * vbx + vby * vby).sqrt()).abs();
                    (d1, angle_diff(e1.rot, rot).abs())
                },
            ));
            // Compacted without branching on the data.
            let mut found = 0;
            for (k, &(d1, d2)) in s.near.iter().enumerate() {
                if let Some(slot) = s.candidates.get_mut(found) {
                    *slot = k as u32;
                }
                found += usize::from(d1 <= c1 && d2 <= c2);
            }
            // The survivors' segments as columns, then their turn (one polynomial atan2 serves both ways round:
            // reversing both segments adds π to both headings) and d_3 from either pair's side as vector code.
            for column in &mut s.geometry {
                column.clear();
            }
            let [gx, gy, gu, gv, gr] = &mut s.geometry;
            for &k in &s.candidates[..found] {
                let later = r + 1 + k as usize;
                gx.push(ax[later] - e1.a.x);
                gy.push(ay[later] - e1.a.y);
                gu.push(bx[later] - e1.b.x);
                gv.push(by[later] - e1.b.y);
                gr.push(rot[later]);
            }
            let mut points = 0;
            for ((((vax, vay), vbx), vby), rot) in
                gx.iter_mut().zip(gy.iter_mut()).zip(gu.iter_mut()).zip(gv.iter_mut()).zip(gr.iter())
            {
                let turn = atan2_approx(*vbx * *vay - *vby * *vax, *vbx * *vax + *vby * *vay);
                let point = is_point(*vax, *vay) | is_point(*vbx, *vby);
                points += usize::from(point);
                // Reuse the columns: d_3 on this pair's side, d_3 on the later pair's side, zero-length flag.
                *vax = angle_diff(e1.rot, turn).abs();
                *vay = angle_diff(*rot, turn).abs();
                *vbx = if point { 1.0 } else { 0.0 };
            }
            let (g1, g2, g3) = (&s.geometry[0], &s.geometry[1], &s.geometry[2]);
            let row_start = forward;
            for (c, &offset) in s.candidates[..found].iter().enumerate() {
                let later = r + 1 + offset as usize;
                let (d1, d2) = s.near[offset as usize];
                // d_1 and d_2 are symmetric in (r, k); d_3, the angle between a minutia's direction and the
                // segment to the other pair's minutia, is not, so ρ(r, k) and ρ(k, r) differ in it.
                let z12 = self.rho[0].eval(d1) * self.rho[1].eval(d2);
                let (mut d3, mut back) = (g1[c], g2[c]);
                if points > 0 && g3[c] != 0.0 {
                    // A zero-length segment's heading is its start minutia's direction (see segment_heading),
                    // which differs between the two ways round.
                    let e2 = s.ends[later];
                    let turn = angle_diff(segment_heading(&e1.a, &e2.a), segment_heading(&e1.b, &e2.b));
                    let turn_back = angle_diff(segment_heading(&e2.a, &e1.a), segment_heading(&e2.b, &e1.b));
                    d3 = angle_diff(e1.rot, turn).abs();
                    back = angle_diff(e2.rot, turn_back).abs();
                }
                // Written anyway, kept when d_3 is within its cut-off: no branch on the data.
                if let Some(slot) = s.forward.get_mut(forward) {
                    *slot = (later as u32, spread * z12 * self.rho[2].eval(d3));
                }
                forward += usize::from(d3 <= c3);
                if let Some(slot) = s.backward.get_mut(backward) {
                    *slot = Link { to: later as u32, from: r as u32, weight: spread * z12 * self.rho[2].eval(back) };
                }
                backward += usize::from(back <= c3);
            }
            s.row_ranges[r] = (row_start as u32, forward as u32);
        }
        // The links towards each pair, grouped by pair (a counting sort that keeps their order), so a relaxation
        // step sums every row in a register instead of scattering updates to memory.
        s.incoming.clear();
        s.incoming.resize(nr + 1, 0);
        for link in &s.backward[..backward] {
            s.incoming[link.to as usize + 1] += 1;
        }
        for r in 0..nr {
            s.incoming[r + 1] += s.incoming[r];
        }
        if s.sorted.len() < backward {
            s.sorted.resize(backward, (0, 0.0));
        }
        s.fill.clear();
        s.fill.extend_from_slice(&s.incoming[..nr]);
        for link in &s.backward[..backward] {
            let slot = &mut s.fill[link.to as usize];
            s.sorted[*slot as usize] = (link.from, link.weight);
            *slot += 1;
        }
        for r in 0..nr {
            let (fs, fe) = s.row_ranges[r];
            let (bs, be) = (s.incoming[r], s.incoming[r + 1]);
            if fe > fs || be > bs {
                s.rows.push((r as u32, fs, fe, bs, be));
            }
        }
        s.initial.clear();
        s.initial.extend_from_slice(&s.lambda);
        s.next.clear();
        s.next.resize(nr, 0.0);
        for _ in 0..c.n_rel {
            // ρ is sparse (most pairs of pairs are geometrically incompatible, ρ < 1e-6 is dropped), so the
            // support Σ_k ρ(r, k)·λ_k is summed over the kept links only: the links to later pairs as one sum,
            // then those from earlier pairs one by one: the order in which the former scatter loop added them, so
            // the scores did not change by a bit.
            // Rows without links (most of them between impostors) take no loop of their own.
            for (n, l) in s.next.iter_mut().zip(&s.lambda) {
                *n = c.w_r * l;
            }
            for &(r, fs, fe, bs, be) in &s.rows {
                let mut v = s.next[r as usize];
                if fe > fs {
                    let row = s.forward.get(fs as usize..fe as usize).unwrap_or_default();
                    v += row.iter().map(|&(from, w)| w * s.lambda[from as usize]).sum::<f32>();
                }
                for &(from, w) in s.sorted.get(bs as usize..be as usize).unwrap_or_default() {
                    v += w * s.lambda[from as usize];
                }
                s.next[r as usize] = v;
            }
            std::mem::swap(&mut s.lambda, &mut s.next);
        }
    }
}

/// Moves a subset of `keys` that surely holds the `n` smallest to the front and returns its length, so the
/// selection of the n_R most similar cylinder pairs runs over a few dozen keys instead of all of them (usually
/// 20–30× n_R). A threshold is estimated from a sample of 64 keys (a few times the expected share of the `n`
/// smallest); the keys not above it are counted with vector compares and, when they are at least `n`, packed
/// to the front with vector compresses. Otherwise (a skewed sample) nothing moves and all keys are returned.
/// The same set is then selected either way, so the scores do not change.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,popcnt")]
fn narrow_avx512(keys: &mut [u64], n: usize) -> usize {
    use std::arch::x86_64::{
        __m512i, _mm512_cmple_epu64_mask, _mm512_loadu_epi64, _mm512_maskz_compress_epi64, _mm512_set1_epi64,
        _mm512_storeu_epi64,
    };
    const SAMPLE: usize = 64;
    let len = keys.len();
    if n == 0 || len < 4 * SAMPLE || len < 8 * n {
        return len;
    }
    let mut sample = [0_u64; SAMPLE];
    let step = len / SAMPLE;
    for (k, slot) in sample.iter_mut().enumerate() {
        *slot = keys[k * step];
    }
    // Twice the sample rank the n-th smallest key would have, plus two.
    let rank = ((n * SAMPLE).div_ceil(len) * 2 + 2).min(SAMPLE - 1);
    let threshold = *sample.select_nth_unstable(rank).1;
    let limit = _mm512_set1_epi64(threshold as i64);
    // SAFETY: `words` is a `[u64; 8]`, 64 readable bytes; the load has no alignment requirement.
    let load = |words: &[u64; 8]| -> __m512i { unsafe { _mm512_loadu_epi64(words.as_ptr().cast()) } };
    let whole = len / 8 * 8;
    let mut count = keys[whole..].iter().filter(|&&k| k <= threshold).count();
    for chunk in keys[..whole].chunks_exact(8) {
        if let Ok(words) = <&[u64; 8]>::try_from(chunk) {
            count += _mm512_cmple_epu64_mask(load(words), limit).count_ones() as usize;
        }
    }
    if count < n {
        return len;
    }
    // Packed in place: the write position never passes the chunk just read, and a store reaches at most to
    // that chunk's end.
    let mut front = 0;
    for at in (0..whole).step_by(8) {
        let Some(words) = keys.get(at..at + 8).and_then(|c| <&[u64; 8]>::try_from(c).ok()) else { break };
        let v = load(words);
        let keep = _mm512_cmple_epu64_mask(v, limit);
        if let Some(slot) = keys.get_mut(front..front + 8) {
            // SAFETY: `slot` is a slice of 8 u64, 64 writable bytes; no alignment requirement.
            unsafe { _mm512_storeu_epi64(slot.as_mut_ptr().cast(), _mm512_maskz_compress_epi64(keep, v)) };
        }
        front += keep.count_ones() as usize;
    }
    for at in whole..len {
        let key = keys[at];
        if key <= threshold {
            keys[front] = key;
            front += 1;
        }
    }
    front
}

/// [`mcc::similarity_record`] of one record of the default layout against the eight cylinders of a block, with
/// AVX-512 intrinsics (written out: the compiler vectorised a portable lane loop across a record's words, with
/// gathers, and was slower than scalar code). Same numbers as the scalar function (tested): the same integer
/// popcounts, then √ (the scalar table holds correctly rounded √k) and the division in IEEE single precision.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,popcnt")]
#[inline]
fn block_avx512(
    a: &[u64; 12],
    block: &Block,
    ranks: &[u64; mcc::LANES],
    rank: u64,
    lanes: u8,
    min_common_cells: u32,
    out: &mut [u64; mcc::LANES],
) -> usize {
    use std::arch::x86_64::{
        __m512i, _mm256_add_ps, _mm256_castps_si256, _mm256_cmp_ps_mask, _mm256_div_ps, _mm256_set1_ps,
        _mm256_setzero_ps, _mm256_sqrt_ps, _mm256_sub_ps, _mm512_add_epi64, _mm512_and_si512, _mm512_cmpgt_epu64_mask,
        _mm512_cmplt_epu64_mask, _mm512_cvtepu32_epi64, _mm512_cvtepu64_ps, _mm512_loadu_epi64,
        _mm512_maskz_compress_epi64, _mm512_maskz_set1_epi64, _mm512_max_epu64, _mm512_min_epu64, _mm512_or_si512,
        _mm512_popcnt_epi64, _mm512_set1_epi64, _mm512_setzero_si512, _mm512_slli_epi64, _mm512_storeu_epi64,
        _mm512_xor_si512, _CMP_EQ_OQ, _CMP_GT_OQ,
    };
    // SAFETY: `words` is a `[u64; 8]`, 64 readable bytes; the load has no alignment requirement.
    let load = |words: &[u64; mcc::LANES]| -> __m512i { unsafe { _mm512_loadu_epi64(words.as_ptr().cast()) } };
    let common = _mm512_popcnt_epi64(_mm512_and_si512(_mm512_set1_epi64(a[10] as i64), load(&block.cells[0])));
    let (mut na, mut nb, mut nx) = (_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512());
    for k in 0..5 {
        let x = _mm512_and_si512(_mm512_set1_epi64(a[k] as i64), load(&block.mask[k]));
        let y = _mm512_and_si512(load(&block.bits[k]), _mm512_set1_epi64(a[5 + k] as i64));
        na = _mm512_add_epi64(na, _mm512_popcnt_epi64(x));
        nb = _mm512_add_epi64(nb, _mm512_popcnt_epi64(y));
        nx = _mm512_add_epi64(nx, _mm512_popcnt_epi64(_mm512_xor_si512(x, y)));
    }
    let denominator = _mm256_add_ps(_mm256_sqrt_ps(_mm512_cvtepu64_ps(na)), _mm256_sqrt_ps(_mm512_cvtepu64_ps(nb)));
    let l = _mm256_sub_ps(_mm256_set1_ps(1.0), _mm256_div_ps(_mm256_sqrt_ps(_mm512_cvtepu64_ps(nx)), denominator));
    let too_few = _mm512_cmplt_epu64_mask(common, _mm512_set1_epi64(i64::from(min_common_cells)));
    let empty = _mm256_cmp_ps_mask::<_CMP_EQ_OQ>(denominator, _mm256_setzero_ps());
    let positive = _mm256_cmp_ps_mask::<_CMP_GT_OQ>(l, _mm256_setzero_ps());
    // The pairs [`pair_key`] keeps: inside the window, comparable, similarity > 0.
    let keep = lanes & !too_few & !empty & positive;
    // Their keys, as `pair_key` builds them: !similarity bits, then the smaller and larger rank, then a > b.
    let similarity = _mm512_xor_si512(_mm512_cvtepu32_epi64(_mm256_castps_si256(l)), _mm512_set1_epi64(0xFFFF_FFFF));
    let (ra, rb) = (_mm512_set1_epi64(rank as i64), load(ranks));
    let key = _mm512_or_si512(
        _mm512_or_si512(_mm512_slli_epi64::<32>(similarity), _mm512_slli_epi64::<16>(_mm512_min_epu64(ra, rb))),
        _mm512_or_si512(
            _mm512_slli_epi64::<8>(_mm512_max_epu64(ra, rb)),
            _mm512_maskz_set1_epi64(_mm512_cmpgt_epu64_mask(ra, rb), 1),
        ),
    );
    // The kept keys packed to the front of a register, then all eight words stored: a compress straight to
    // memory is microcoded and slow on AMD cores; the words past the kept ones are overwritten by the next call.
    // SAFETY: `out` is a `[u64; 8]`, 64 writable bytes; no alignment requirement.
    unsafe { _mm512_storeu_epi64(out.as_mut_ptr().cast(), _mm512_maskz_compress_epi64(keep, key)) };
    keep.count_ones() as usize
}

/// True for a segment too short to have a direction (the same test as [`segment_heading`]).
#[inline]
fn is_point(dx: f32, dy: f32) -> bool {
    // `&`, not `&&`: both tests are cheap, and one well-predicted branch beats two.
    (dx.abs() < 1e-3) & (dy.abs() < 1e-3)
}

/// atan2(y, x) in [−π, π] with absolute error below 2e-5 rad (tested), without a libm call: the angle is
/// reduced to [0, 1] by octant symmetry and arctan there is a degree-11 odd minimax polynomial. The relaxation
/// needs one per compatible pair of pairs; an error of 2e-5 rad moves its sigmoid (slope ≤ 7.5) by < 2e-4.
#[inline]
pub fn atan2_approx(y: f32, x: f32) -> f32 {
    // Selects only, no branch, so a loop over many angles runs as vector code.
    let (ax, ay) = (x.abs(), y.abs());
    let (lo, hi) = if ax < ay { (ax, ay) } else { (ay, ax) };
    let t = if hi == 0.0 { 0.0 } else { lo / hi };
    let t2 = t * t;
    let r = t
        * (0.999_977_26
            + t2 * (-0.332_623_47
                + t2 * (0.193_543_46 + t2 * (-0.116_432_87 + t2 * (0.052_653_32 - 0.011_721_2 * t2)))));
    let r = if ay > ax { PI / 2.0 - r } else { r };
    let r = if x < 0.0 { PI - r } else { r };
    if y < 0.0 {
        -r
    } else {
        r
    }
}

/// Direction of the segment from `a` to `b`; for two minutiae at the same place (duplicates some extractors
/// emit) it is `a`'s own direction, so the radial angle is 0 whatever the rotation: atan2(0, 0) = 0 would
/// tie the term to the image axes and break rotation invariance.
pub fn segment_heading(a: &Point, b: &Point) -> f32 {
    if (b.x - a.x).abs() < 1e-3 && (b.y - a.y).abs() < 1e-3 {
        a.angle
    } else {
        (b.y - a.y).atan2(b.x - a.x)
    }
}

/// The template's minutiae in the matcher's frame (y upwards, so rotations are counter-clockwise).
///
/// A minutia repeated at the same place with the same direction (within 0.5 px and 1°, as some extractors
/// emit) is kept once: copies would fill the n_R most similar pairs with one minutia and drown the rest.
pub fn matcher_points(template: &Template) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::with_capacity(template.minutiae.len());
    for m in &template.minutiae {
        let p = Point { x: m.x, y: -m.y, angle: m.angle };
        let copy = out.iter().any(|q| {
            (q.x - p.x).abs() < 0.5
                && (q.y - p.y).abs() < 0.5
                && angle_diff(q.angle, p.angle).abs() < 1.0_f32.to_radians()
        });
        if !copy {
            out.push(p);
        }
    }
    out
}

/// Sort key of a cylinder pair: similarity descending, then the smaller and the larger of the two cylinders'
/// ranks, then which side had the smaller one. A positive f32's bits order like the number, so the key is one
/// integer comparison; ranks do not change when a template is rotated or shifted, and swapping the templates
/// swaps (i, j), so ties break the same way after a rigid motion and both ways round. Ranks are below 256
/// (both formats count minutiae in one byte).
fn pair_key(similarity: f32, i: u8, j: u8) -> u64 {
    let (i, j) = (usize::from(i), usize::from(j));
    let (lo, hi) = (i.min(j) as u64 & 0xFF, i.max(j) as u64 & 0xFF);
    (u64::from(!similarity.to_bits()) << 32) | (lo << 16) | (hi << 8) | u64::from(i > j)
}

fn unpack_key(key: u64) -> (f32, usize, usize) {
    let (lo, hi) = (((key >> 16) & 0xFF) as usize, ((key >> 8) & 0xFF) as usize);
    let (i, j) = if key & 1 == 1 { (hi, lo) } else { (lo, hi) };
    (f32::from_bits(!((key >> 32) as u32)), i, j)
}

/// Cylinder indices in a rotation- and translation-invariant order: more set bits first, then a smaller sum of
/// distances to the three nearest other kept minutiae (in 1/16 px), then index. Sparse cylinders can be
/// identical to several others; breaking such ties by index (which follows the minutiae's directions) made the
/// score change when a rotation wrapped directions past 0.
pub fn cylinder_ranks(counts: &[u32], dist: &[f32]) -> Vec<usize> {
    let n = counts.len();
    let spread: Vec<u32> = (0..n)
        .map(|i| {
            let mut row: Vec<f32> = (0..n).filter(|&j| j != i).map(|j| dist[i * n + j]).collect();
            row.sort_by(f32::total_cmp);
            (row.iter().take(3).sum::<f32>() * 16.0).round() as u32
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| counts[y].cmp(&counts[x]).then(spread[x].cmp(&spread[y])).then(x.cmp(&y)));
    order
}

fn efficiency_order(x: &(f32, usize), y: &(f32, usize)) -> Ordering {
    y.0.total_cmp(&x.0).then(x.1.cmp(&y.1))
}

/// The logistic Z(v; μ, τ) = 1 / (1 + e^{−τ(v − μ)}) of the paper.
pub fn sigmoid(v: f32, mu: f32, tau: f32) -> f32 {
    1.0 / (1.0 + (-tau * (v - mu)).exp())
}

/// Z(v; μ, τ) tabulated on [0, max] with linear interpolation (error < 1e-5 at these sizes), because the
/// relaxation evaluates it three times per pair of pairs.
#[derive(Debug, Clone)]
struct Sigmoid {
    table: Vec<f32>,
    /// Entries k and k + 1 of `table` side by side in one word (k in the low half), for k < the last: one
    /// 64-bit gather fetches both ends of an interpolation interval.
    intervals: Vec<u64>,
    scale: f32,
}

impl Sigmoid {
    fn new(mu: f32, tau: f32, max: f32, steps: usize) -> Self {
        let table: Vec<f32> = (0..=steps).map(|k| sigmoid(max * k as f32 / steps as f32, mu, tau)).collect();
        let intervals = table.windows(2).map(|w| u64::from(w[0].to_bits()) | u64::from(w[1].to_bits()) << 32).collect();
        Sigmoid { table, intervals, scale: steps as f32 / max }
    }

    #[inline]
    fn eval(&self, v: f32) -> f32 {
        let x = v * self.scale;
        let last = self.table.len() - 1;
        if x >= last as f32 || x.is_nan() {
            return self.table[last];
        }
        let k = x as usize;
        let f = x - k as f32;
        self.table[k] + f * (self.table[k + 1] - self.table[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximate_atan2_is_within_its_bound() {
        let mut worst = 0.0_f32;
        for k in 0..20_000 {
            let phi = k as f32 / 20_000.0 * TAU - PI;
            for len in [1e-3_f32, 1.0, 37.5, 400.0] {
                let (y, x) = (len * phi.sin(), len * phi.cos());
                let d = angle_diff(atan2_approx(y, x), y.atan2(x)).abs();
                worst = worst.max(d);
            }
        }
        assert!(worst < 2e-5, "{worst}");
        assert!(atan2_approx(0.0, 0.0).abs() < f32::EPSILON);
        assert!((atan2_approx(0.0, -1.0) - PI).abs() < 1e-6);
        assert!((atan2_approx(-1.0, 0.0) + PI / 2.0).abs() < 1e-6);
    }

    #[test]
    fn every_instruction_set_gives_the_same_scores() {
        use crate::finger::synth::{dataset, ImpressionParams, SynthParams};
        let fast = Matcher::default();
        let records = dataset(5, 6, 1, 4, &SynthParams::default(), &ImpressionParams::default());
        let t: Vec<PreparedTemplate> = records.iter().map(|r| fast.prepare(&r.template)).collect();
        // Every copy this CPU can run (the detected one and all below it) against the portable code.
        for isa in [Isa::Portable, Isa::Popcnt, Isa::Avx2, Isa::Avx512].into_iter().filter(|&i| i <= fast.isa) {
            let m = Matcher { isa, ..fast.clone() };
            let portable = Matcher { isa: Isa::Portable, ..fast.clone() };
            for a in &t {
                for b in &t {
                    assert_eq!(m.compare(a, b).to_bits(), portable.compare(a, b).to_bits(), "{isa:?}");
                }
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_scores_with_minutiae_at_one_place() {
        // Two minutiae at the same place with different directions (kept apart: duplicates are only removed
        // when the direction agrees too) give zero-length segments between selected pairs, which the vector
        // relaxation hands to the scalar path: it must still equal the portable code to the bit.
        use crate::finger::synth::{dataset, ImpressionParams, SynthParams};
        let fast = Matcher::default();
        let records = dataset(9, 4, 1, 3, &SynthParams::default(), &ImpressionParams::default());
        let mut templates: Vec<Template> = records.iter().map(|r| r.template.clone()).collect();
        for r in &records {
            let mut t = r.template.clone();
            let copies: Vec<_> = t.minutiae.iter().step_by(3).copied().collect();
            for mut m in copies {
                m.angle = (m.angle + 0.5) % TAU;
                t.minutiae.push(m);
            }
            templates.push(t);
        }
        let t: Vec<PreparedTemplate> = templates.iter().map(|x| fast.prepare(x)).collect();
        let portable = Matcher { isa: Isa::Portable, ..fast.clone() };
        for isa in [Isa::Popcnt, Isa::Avx2, Isa::Avx512].into_iter().filter(|&i| i <= fast.isa) {
            let m = Matcher { isa, ..fast.clone() };
            for a in &t {
                for b in &t {
                    assert_eq!(m.compare(a, b).to_bits(), portable.compare(a, b).to_bits(), "{isa:?}");
                }
            }
        }
    }

    #[test]
    fn narrowing_keeps_the_smallest_keys() {
        #[cfg(target_arch = "x86_64")]
        if Isa::detect() == Isa::Avx512 {
            // Distinct pseudo-random keys (a multiplicative hash of the index), some runs sorted or reversed.
            for (len, n) in [(300, 5), (900, 36), (1000, 1), (517, 60), (2000, 255), (64, 3), (4000, 10)] {
                for order in 0..3 {
                    let mut keys: Vec<u64> =
                        (0..len as u64).map(|k| (k + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 8).collect();
                    match order {
                        1 => keys.sort_unstable(),
                        2 => keys.sort_unstable_by(|x, y| y.cmp(x)),
                        _ => {}
                    }
                    let mut want = keys.clone();
                    want.sort_unstable();
                    want.truncate(n);
                    #[allow(unsafe_code)]
                    // SAFETY: `Isa::detect` found every feature `narrow_avx512` is compiled for.
                    let front = unsafe { narrow_avx512(&mut keys, n) };
                    assert!(front >= n && front <= len, "{len} {n} {order}: {front}");
                    let mut got = keys[..front].to_vec();
                    got.sort_unstable();
                    got.truncate(n);
                    assert_eq!(got, want, "{len} {n} {order}");
                }
            }
        }
    }

    #[test]
    fn tabulated_sigmoid_is_close_to_the_formula() {
        let s = Sigmoid::new(5.0, -1.6, 40.0, 4096);
        for k in 0..1000 {
            let v = k as f32 * 0.05;
            assert!((s.eval(v) - sigmoid(v, 5.0, -1.6)).abs() < 1e-5, "{v}");
        }
        assert!(s.eval(1e9) < 1e-20);
    }
}
