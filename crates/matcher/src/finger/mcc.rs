//! Minutia Cylinder-Code local structures (R. Cappelli, M. Ferrara, D. Maltoni, "Minutia Cylinder-Code: a new
//! representation and matching technique for fingerprint recognition", IEEE TPAMI 32(12), 2010), bit-based
//! variant: every minutia gets a cylinder of `ns × ns` spatial cells times `nd` direction bins describing
//! where its neighbours are and how they are turned, relative to the minutia itself. Cylinders are therefore
//! invariant to rotation and translation; two are compared by popcount over the cells valid in both.
//!
//! All lengths are 500 ppi pixels, the internal frame every reader converts to, so the parameters of the
//! paper (tuned at 500 ppi) hold whatever the source resolution.

use std::f32::consts::{PI, TAU};

/// Parameters of the cylinders; defaults are the values published in Cappelli et al. 2010 (table 1,
/// bit-based MCC) except `ns`, see [`MccParams::default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MccParams {
    /// Cylinder radius R, pixels.
    pub radius: f32,
    /// Spatial cells along a side, N_S.
    pub ns: usize,
    /// Direction bins, N_D.
    pub nd: usize,
    /// σ_S of the spatial Gaussian, pixels.
    pub sigma_s: f32,
    /// σ_D of the directional Gaussian, radians.
    pub sigma_d: f32,
    /// μ_Ψ: a cell bit is set when its summed contribution reaches this value.
    pub mu_psi: f32,
    /// ω: how far beyond the convex hull of the minutiae a cell still counts as valid, pixels.
    pub omega: f32,
    /// min_VC: fraction of a cylinder's cells that must be valid for the cylinder to be kept.
    pub min_valid_cells: f32,
    /// min_M: neighbours within R + 3σ_S a minutia needs for its cylinder to be kept.
    pub min_neighbours: usize,
    /// min_ME: fraction of cells that must be valid in both cylinders for them to be compared.
    pub min_matchable: f32,
    /// δ_θ: cylinders of minutiae whose directions differ by more than this are not compared, radians.
    pub max_rotation: f32,
}

impl Default for MccParams {
    /// Cappelli 2010's parameters with `ns = 8` (the paper's "MCC 8b"): a quarter of the bits of
    /// `ns = 16` for a small accuracy cost in the paper's tables, which buys the 1:1 speed target.
    fn default() -> Self {
        MccParams {
            radius: 70.0,
            ns: 8,
            nd: 6,
            sigma_s: 28.0 / 3.0,
            sigma_d: 2.0 * PI / 9.0,
            mu_psi: 0.01,
            omega: 50.0,
            min_valid_cells: 0.75,
            min_neighbours: 2,
            min_matchable: 0.6,
            max_rotation: PI / 2.0,
        }
    }
}

/// A minutia in the matcher's frame: x right, y **up** (the image's y negated) and the angle counter-clockwise,
/// so rotations are the textbook ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// x, pixels.
    pub x: f32,
    /// y, pixels, upwards.
    pub y: f32,
    /// Direction, radians in `[0, 2π)`.
    pub angle: f32,
}

/// Where the cells of a cylinder lie in the minutia's own frame; built once per parameter set.
#[derive(Debug, Clone)]
pub struct CylinderLayout {
    /// Offsets of the cells whose centre lies inside the radius (the only cells that can be valid).
    pub cells: Vec<(f32, f32)>,
    /// u64 words per cylinder (cell bits × `nd`).
    pub words: usize,
    /// u64 words of the per-cell validity mask.
    pub cell_words: usize,
    /// Direction bins.
    pub nd: usize,
}

impl CylinderLayout {
    /// The layout for `p`: cell (i, j) has its centre at ((i − (N_S+1)/2)·Δ_S, (j − (N_S+1)/2)·Δ_S),
    /// Δ_S = 2R/N_S (paper eq. 2), and is kept when that centre is within R of the minutia.
    pub fn new(p: &MccParams) -> Self {
        let ns = p.ns.max(1);
        let step = 2.0 * p.radius / ns as f32;
        let half = f32::midpoint(ns as f32, 1.0);
        let mut cells = Vec::new();
        for i in 1..=ns {
            for j in 1..=ns {
                let (dx, dy) = ((i as f32 - half) * step, (j as f32 - half) * step);
                if dx.hypot(dy) <= p.radius {
                    cells.push((dx, dy));
                }
            }
        }
        let nd = p.nd.max(1);
        let words = (cells.len() * nd).div_ceil(64);
        let cell_words = cells.len().div_ceil(64);
        CylinderLayout { cells, words, cell_words, nd }
    }
}

/// The kept cylinders of one template, one contiguous record per cylinder so a comparison reads one run of
/// memory per cylinder: `words` bit words (cell bits, direction bin fastest), `words` words of the bits'
/// validity mask (each valid cell's bits), `cell_words` words of the per-cell validity mask, then one word
/// holding the popcount of the bits. Default layout (N_S = 8, N_D = 6): 5 + 5 + 1 + 1 words = 96 bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cylinders {
    /// The records, `stride` words each.
    records: Vec<u64>,
    /// Bit words per cylinder.
    words: usize,
    /// Cell-mask words per cylinder.
    cell_words: usize,
    /// The minutia each kept cylinder is centred on.
    pub points: Vec<Point>,
}

impl Cylinders {
    /// Number of kept cylinders.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when no minutia had a usable cylinder (too few minutiae or neighbours).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Words of one record: bits, bit mask, cell mask, popcount.
    #[inline]
    pub fn stride(&self) -> usize {
        2 * self.words + self.cell_words + 1
    }

    /// The whole record of cylinder `c` (see the type's doc for its layout).
    #[inline]
    pub fn record(&self, c: usize) -> &[u64] {
        let s = self.stride();
        &self.records[c * s..(c + 1) * s]
    }

    /// The cell bits of cylinder `c` (what the gallery's hashing samples).
    #[inline]
    pub fn bits(&self, c: usize) -> &[u64] {
        let s = self.stride();
        &self.records[c * s..c * s + self.words]
    }

    /// Popcount of cylinder `c`'s bits.
    #[inline]
    pub fn count(&self, c: usize) -> u32 {
        let s = self.stride();
        // The popcount of at most 64 × `words` bits fits a u32 for any layout a `CylinderLayout` can hold.
        self.records[c * s + s - 1] as u32
    }

    /// Record `c` as a fixed-size array when a record has `S` words (the layout's stride), for
    /// [`similarity_record`]; `None` for any other layout.
    #[inline]
    pub fn record_as<const S: usize>(&self, c: usize) -> Option<&[u64; S]> {
        self.records.get(c * S..(c + 1) * S).filter(|_| self.stride() == S).and_then(|r| r.try_into().ok())
    }

    /// Records `range` as fixed-size arrays when a record has `S` words; `None` for any other layout.
    #[inline]
    pub fn records_as<const S: usize>(
        &self,
        range: std::ops::Range<usize>,
    ) -> Option<impl Iterator<Item = &[u64; S]> + '_> {
        if self.stride() != S {
            return None;
        }
        let words = self.records.get(range.start * S..range.end * S)?;
        Some(words.chunks_exact(S).filter_map(|r| <&[u64; S]>::try_from(r).ok()))
    }

    /// Cylinder `c` for [`similarity_with`].
    #[inline]
    pub fn view(&self, c: usize) -> CylinderView<'_> {
        let (w, cw) = (self.words, self.cell_words);
        let r = self.record(c);
        CylinderView { bits: &r[..w], mask: &r[w..2 * w], cells: &r[2 * w..2 * w + cw], count: r[2 * w + cw] as u32 }
    }

    /// Heap bytes held (records and minutiae), for memory budgets of large galleries.
    pub fn heap_bytes(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<u64>() + self.points.capacity() * std::mem::size_of::<Point>()
    }
}

/// Builds the cylinders of a set of minutiae (already in the matcher's frame), ordered by the direction of
/// their minutia so a matcher can find the cylinders within a rotation range by binary search.
pub fn build(points: &[Point], p: &MccParams, layout: &CylinderLayout) -> Cylinders {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.angle.total_cmp(&b.angle).then(a.x.total_cmp(&b.x)).then(a.y.total_cmp(&b.y)));
    let points = &sorted[..];
    let hull = convex_hull(points);
    let nd = layout.nd;
    let delta_d = TAU / nd as f32;
    let reach = p.radius + 3.0 * p.sigma_s;
    let cell_reach_sq = (3.0 * p.sigma_s) * (3.0 * p.sigma_s);
    let gauss_norm = 1.0 / (p.sigma_s * (TAU).sqrt());
    let two_var = 2.0 * p.sigma_s * p.sigma_s;
    let needed_cells = (p.min_valid_cells * layout.cells.len() as f32).ceil() as usize;
    let (w, cw) = (layout.words, layout.cell_words);
    let mut out = Cylinders { words: w, cell_words: cw, ..Cylinders::default() };
    let stride = out.stride();
    let mut record = vec![0_u64; stride];
    let mut neighbours: Vec<(f32, f32, [f32; 16])> = Vec::new();
    let mut sums = vec![0.0_f32; nd];
    for (i, m) in points.iter().enumerate() {
        neighbours.clear();
        for (j, t) in points.iter().enumerate() {
            if i == j || (t.x - m.x).hypot(t.y - m.y) > reach {
                continue;
            }
            // Directional contribution (paper eq. 6): the area of the Gaussian G_D over bin k, centred on
            // the difference between the bin's angle and the neighbour's direction relative to m.
            let rel = angle_diff(m.angle, t.angle);
            let mut cd = [0.0_f32; 16];
            for (k, v) in cd.iter_mut().enumerate().take(nd.min(16)) {
                let bin = -PI + (k as f32 + 0.5) * delta_d;
                let alpha = angle_diff(bin, rel);
                *v = gaussian_area(alpha - delta_d / 2.0, alpha + delta_d / 2.0, p.sigma_d);
            }
            neighbours.push((t.x, t.y, cd));
        }
        if neighbours.len() < p.min_neighbours {
            continue;
        }
        let (sin, cos) = m.angle.sin_cos();
        record.fill(0);
        let (bits, rest) = record.split_at_mut(w);
        let (mask, rest) = rest.split_at_mut(w);
        let (cell_mask, count) = rest.split_at_mut(cw);
        let mut valid = 0;
        for (c, &(dx, dy)) in layout.cells.iter().enumerate() {
            let (px, py) = (m.x + dx * cos - dy * sin, m.y + dx * sin + dy * cos);
            if !inside_dilated(&hull, px, py, p.omega) {
                continue;
            }
            valid += 1;
            cell_mask[c / 64] |= 1 << (c % 64);
            sums.fill(0.0);
            for (nx, ny, cd) in &neighbours {
                let d2 = (nx - px) * (nx - px) + (ny - py) * (ny - py);
                if d2 > cell_reach_sq {
                    continue;
                }
                // Spatial contribution (paper eq. 5): the Gaussian of the neighbour's distance to the cell.
                let cs = gauss_norm * (-d2 / two_var).exp();
                for (s, v) in sums.iter_mut().zip(cd) {
                    *s += cs * v;
                }
            }
            for (k, s) in sums.iter().enumerate() {
                let bit = c * nd + k;
                mask[bit / 64] |= 1 << (bit % 64);
                // Bit-based MCC: Ψ(v) ≥ ½ exactly when v ≥ μ_Ψ (paper section 5).
                if *s >= p.mu_psi {
                    bits[bit / 64] |= 1 << (bit % 64);
                }
            }
        }
        if valid < needed_cells {
            continue;
        }
        count[0] = bits.iter().map(|x| u64::from(x.count_ones())).sum();
        out.records.extend_from_slice(&record);
        out.points.push(*m);
    }
    out.records.shrink_to_fit();
    out.points.shrink_to_fit();
    out
}

/// One cylinder's words as [`similarity_with`] reads them.
#[derive(Debug, Clone, Copy)]
pub struct CylinderView<'a> {
    /// Cell bits.
    pub bits: &'a [u64],
    /// Bit validity mask.
    pub mask: &'a [u64],
    /// Cell validity mask.
    pub cells: &'a [u64],
    /// Popcount of `bits`.
    pub count: u32,
}

/// Bit-based cylinder similarity (paper eq. 17 with popcounts): 1 − ‖a⊕b‖ / (‖a‖ + ‖b‖) over the cells valid
/// in both, where ‖·‖ is the square root of the popcount; 0 when too few cells are valid in both. Square roots are looked up in `sqrt` (`sqrt[k]` = √k for every possible
/// popcount), and when one cylinder's valid cells all lie inside the other's, its popcount over the common
/// cells is its precomputed total, so most pairs (minutiae away from the print's edge) need one popcount per word.
#[inline]
pub fn similarity_with(a: CylinderView<'_>, b: CylinderView<'_>, min_common_cells: u32, sqrt: &[f32]) -> f32 {
    let (mut common, mut a_inside, mut b_inside) = (0, true, true);
    for (x, y) in a.cells.iter().zip(b.cells) {
        common += (x & y).count_ones();
        a_inside &= x & !y == 0;
        b_inside &= y & !x == 0;
    }
    if common < min_common_cells {
        return 0.0;
    }
    let (na, nb, nx) = if a_inside && b_inside {
        let nx: u32 = a.bits.iter().zip(b.bits).map(|(x, y)| (x ^ y).count_ones()).sum();
        (a.count, b.count, nx)
    } else {
        let (mut na, mut nb, mut nx) = (0_u32, 0_u32, 0_u32);
        for (((ab, am), bb), bm) in a.bits.iter().zip(a.mask).zip(b.bits).zip(b.mask) {
            let x = ab & bm;
            let y = bb & am;
            na += x.count_ones();
            nb += y.count_ones();
            nx += (x ^ y).count_ones();
        }
        (na, nb, nx)
    };
    let root = |k: u32| sqrt.get(k as usize).copied().unwrap_or_else(|| (k as f32).sqrt());
    let denominator = root(na) + root(nb);
    if denominator == 0.0 {
        0.0
    } else {
        1.0 - root(nx) / denominator
    }
}

/// Square roots of popcounts for [`similarity_record`]: `ROOTS[k]` = √k for k < 512, enough for any layout of up
/// to 7 bit words (the default has 5), indexed with a mask so no bounds check is needed.
pub const ROOT_TABLE: usize = 512;

/// The table of [`ROOT_TABLE`] square roots.
pub fn root_table() -> Box<[f32; ROOT_TABLE]> {
    let mut t = Box::new([0.0_f32; ROOT_TABLE]);
    for (k, v) in t.iter_mut().enumerate() {
        *v = (k as f32).sqrt();
    }
    t
}

/// [`similarity_with`] on two whole records (see [`Cylinders`]) of a layout known at compile time: `W` bit
/// words, `C` cell words, `S` = 2W + C + 1 record words, `W` ≤ 7. Same result as the general function; the
/// loops unroll and no index is checked at run time.
#[inline]
pub fn similarity_record<const W: usize, const C: usize, const S: usize>(
    a: &[u64; S],
    b: &[u64; S],
    min_common_cells: u32,
    roots: &[f32; ROOT_TABLE],
) -> f32 {
    let mut common = 0;
    for k in 0..C {
        common += (a[2 * W + k] & b[2 * W + k]).count_ones();
    }
    if common < min_common_cells {
        return 0.0;
    }
    // Always the masked popcounts: when both cylinders are valid on the same cells the unmasked shortcut would
    // give the same numbers, but choosing between the two is a branch the predictor misses on ~30 % of pairs.
    let (mut na, mut nb, mut nx) = (0_u32, 0_u32, 0_u32);
    for k in 0..W {
        let x = a[k] & b[W + k];
        let y = b[k] & a[W + k];
        na += x.count_ones();
        nb += y.count_ones();
        nx += (x ^ y).count_ones();
    }
    let root = |k: u32| roots[k as usize & (ROOT_TABLE - 1)];
    let denominator = root(na) + root(nb);
    if denominator == 0.0 {
        0.0
    } else {
        1.0 - root(nx) / denominator
    }
}

/// Cylinders side by side in groups of [`LANES`]: word `k` of eight consecutive records next to each other, so
/// one record is compared with eight at a time in vector registers (with AVX-512 VPOPCNTDQ one instruction counts
/// the bits of eight words; see the matcher). Built per comparison from the other template's records (a few
/// hundred word copies); lanes past the last cylinder are zero and score 0.
#[derive(Debug, Clone, Copy)]
pub struct CylinderBlock<const W: usize, const C: usize> {
    /// Bit words.
    pub bits: [[u64; LANES]; W],
    /// Bit-validity mask words.
    pub mask: [[u64; LANES]; W],
    /// Cell-validity mask words.
    pub cells: [[u64; LANES]; C],
}

impl<const W: usize, const C: usize> Default for CylinderBlock<W, C> {
    fn default() -> Self {
        CylinderBlock { bits: [[0; LANES]; W], mask: [[0; LANES]; W], cells: [[0; LANES]; C] }
    }
}

/// Cylinders per [`CylinderBlock`].
pub const LANES: usize = 8;

/// Fills `blocks` with the records of `cylinders` (layout `W` bit words, `C` cell words), [`LANES`] per block.
/// Returns `false` (and leaves `blocks` empty) when the layout is another one.
pub fn fill_blocks<const W: usize, const C: usize>(
    cylinders: &Cylinders,
    blocks: &mut Vec<CylinderBlock<W, C>>,
) -> bool {
    blocks.clear();
    if cylinders.words != W || cylinders.cell_words != C {
        return false;
    }
    blocks.resize(cylinders.len().div_ceil(LANES), CylinderBlock::default());
    for (c, record) in cylinders.records.chunks_exact(cylinders.stride()).enumerate() {
        let (block, lane) = (&mut blocks[c / LANES], c % LANES);
        for k in 0..W {
            block.bits[k][lane] = record[k];
            block.mask[k][lane] = record[W + k];
        }
        for k in 0..C {
            block.cells[k][lane] = record[2 * W + k];
        }
    }
    true
}

/// Difference of two angles, `a − b`, brought into `[−π, π)` (the paper's d_φ); exact for any `a − b` in
/// (−3π, 3π), i.e. for two angles in [−π, 2π). Written as two selects so the hot loops do not branch.
#[inline]
pub fn angle_diff(a: f32, b: f32) -> f32 {
    let d = a - b;
    if d < -PI {
        d + TAU
    } else if d >= PI {
        d - TAU
    } else {
        d
    }
}

/// Area under the zero-mean normal density of standard deviation `sigma` between `lo` and `hi`.
fn gaussian_area(lo: f32, hi: f32, sigma: f32) -> f32 {
    let s = sigma * std::f32::consts::SQRT_2;
    0.5 * (erf(hi / s) - erf(lo / s))
}

/// Error function, Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7), enough for bin areas.
pub fn erf(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = f64::from(x.abs());
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t + 0.254_829_592)
            * t
            * (-x * x).exp();
    sign * y as f32
}

/// Convex hull of the minutiae, counter-clockwise (Andrew's monotone chain); fewer than three distinct
/// points give a degenerate hull that [`inside_dilated`] treats as a point or a segment.
pub fn convex_hull(points: &[Point]) -> Vec<(f32, f32)> {
    let mut pts: Vec<(f32, f32)> = points.iter().map(|p| (p.x, p.y)).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: (f32, f32), a: (f32, f32), b: (f32, f32)| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let mut hull: Vec<(f32, f32)> = Vec::with_capacity(pts.len() * 2);
    // Lower chain left to right, then upper chain right to left; the upper chain never pops into the lower.
    for (pass, chain) in [pts.clone(), pts.iter().rev().copied().collect()].into_iter().enumerate() {
        let floor = if pass == 0 { 0 } else { hull.len() };
        for p in chain {
            while hull.len() >= floor + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// True when (x, y) lies inside the convex hull or within `omega` of it (the cell validity test, eq. 3).
pub fn inside_dilated(hull: &[(f32, f32)], x: f32, y: f32, omega: f32) -> bool {
    match hull.len() {
        0 => false,
        1 => (hull[0].0 - x).hypot(hull[0].1 - y) <= omega,
        _ => {
            let mut inside = hull.len() >= 3;
            let mut nearest = f32::INFINITY;
            for (k, &a) in hull.iter().enumerate() {
                let b = hull[(k + 1) % hull.len()];
                let (ex, ey) = (b.0 - a.0, b.1 - a.1);
                if ex * (y - a.1) - ey * (x - a.0) < 0.0 {
                    inside = false;
                }
                let len2 = ex * ex + ey * ey;
                let t = if len2 > 0.0 { (((x - a.0) * ex + (y - a.1) * ey) / len2).clamp(0.0, 1.0) } else { 0.0 };
                nearest = nearest.min((a.0 + t * ex - x).hypot(a.1 + t * ey - y));
            }
            inside || nearest <= omega
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        assert!(erf(0.0).abs() < 1e-6);
        assert!((erf(1.0) - 0.842_700_8).abs() < 1e-6);
        assert!((erf(-2.0) + 0.995_322_3).abs() < 1e-6);
    }

    #[test]
    fn layout_keeps_the_cells_inside_the_radius() {
        let l = CylinderLayout::new(&MccParams { ns: 16, ..MccParams::default() });
        // π·8² ≈ 201 cells of the 16×16 grid have their centre inside the circle.
        assert!((190..=210).contains(&l.cells.len()), "{}", l.cells.len());
        assert_eq!(l.words, (l.cells.len() * 6).div_ceil(64));
    }

    #[test]
    fn hull_and_dilation() {
        let pts: Vec<Point> = [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0), (50.0, 50.0)]
            .iter()
            .map(|&(x, y)| Point { x, y, angle: 0.0 })
            .collect();
        let hull = convex_hull(&pts);
        assert_eq!(hull.len(), 4);
        assert!(inside_dilated(&hull, 50.0, 50.0, 0.0));
        assert!(inside_dilated(&hull, 140.0, 50.0, 50.0));
        assert!(!inside_dilated(&hull, 160.0, 50.0, 50.0));
    }

    fn view<'a>(bits: &'a [u64], mask: &'a [u64], cells: &'a [u64]) -> CylinderView<'a> {
        CylinderView { bits, mask, cells, count: bits.iter().map(|w| w.count_ones()).sum() }
    }

    #[test]
    fn similarity_follows_the_formula() {
        let sqrt: Vec<f32> = (0..=128).map(|k| (k as f32).sqrt()).collect();
        let full = [u64::MAX, u64::MAX];
        let a = view(&[0b1011, 7], &full, &[0b1111]);
        assert!((similarity_with(a, a, 1, &sqrt) - 1.0).abs() < 1e-6);
        // na = 6, nb = 1, a xor b has 7 bits: 1 − √7 / (√6 + 1).
        let b = view(&[0b0100, 0], &full, &[0b1111]);
        let want = 1.0 - 7_f32.sqrt() / (6_f32.sqrt() + 1.0);
        assert!((similarity_with(a, b, 1, &sqrt) - want).abs() < 1e-6);
        assert!((similarity_with(b, a, 1, &sqrt) - want).abs() < 1e-6);
        // Too few cells valid in both: not comparable.
        assert!(similarity_with(a, b, 5, &sqrt).abs() < f32::EPSILON);
        // Only the bits of cells valid in both count: b's mask hides a's second word.
        let half = view(&[0b1011, 0], &[u64::MAX, 0], &[0b0011]);
        assert!((similarity_with(a, half, 1, &sqrt) - 1.0).abs() < 1e-6);
    }
}
