//! The 1:1 matcher against a straightforward re-implementation of the same algorithm (MCC bit cylinders +
//! LSS-R, Cappelli et al. 2010) written for clarity — cell by cell, full matrices, full sorts, exact
//! exponentials — and the properties a user relies on: self-match is the top score, rigid motions do not
//! change the score, the score is symmetric.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::many_single_char_names, clippy::float_cmp)]

use std::f32::consts::{PI, TAU};

use cgi_match_core::finger::matcher::{cylinder_ranks, matcher_points, segment_heading, sigmoid, ConsolidationParams};
use cgi_match_core::finger::mcc::{angle_diff, convex_hull, erf, inside_dilated, MccParams, Point};
use cgi_match_core::finger::{Matcher, MinutiaKind, Template};
use proptest::prelude::*;

/// One cylinder of the reference: per cell `None` (invalid) or the `nd` bits.
type RefCylinder = Vec<Option<Vec<bool>>>;

fn reference_cylinders(t: &Template, p: &MccParams) -> Vec<(Point, RefCylinder)> {
    // Input normalisation (frame, repeated minutiae dropped) is shared; the algorithm below is not.
    let mut pts: Vec<Point> = matcher_points(t);
    // The algorithm defines ties between equal similarities by the minutiae's direction order.
    pts.sort_by(|a, b| a.angle.total_cmp(&b.angle).then(a.x.total_cmp(&b.x)).then(a.y.total_cmp(&b.y)));
    let hull = convex_hull(&pts);
    let step = 2.0 * p.radius / p.ns as f32;
    let half = f32::midpoint(p.ns as f32, 1.0);
    let delta_d = TAU / p.nd as f32;
    let mut out = Vec::new();
    for (i, m) in pts.iter().enumerate() {
        let near = pts
            .iter()
            .enumerate()
            .filter(|&(j, t)| j != i && (t.x - m.x).hypot(t.y - m.y) <= p.radius + 3.0 * p.sigma_s)
            .count();
        if near < p.min_neighbours {
            continue;
        }
        let (sin, cos) = m.angle.sin_cos();
        let mut cells = Vec::new();
        let (mut inside, mut valid) = (0, 0);
        for ci in 1..=p.ns {
            for cj in 1..=p.ns {
                let (dx, dy) = ((ci as f32 - half) * step, (cj as f32 - half) * step);
                if dx.hypot(dy) > p.radius {
                    continue;
                }
                inside += 1;
                let (px, py) = (m.x + dx * cos - dy * sin, m.y + dx * sin + dy * cos);
                if !inside_dilated(&hull, px, py, p.omega) {
                    cells.push(None);
                    continue;
                }
                valid += 1;
                let mut bits = Vec::new();
                for k in 0..p.nd {
                    let mut sum = 0.0_f32;
                    for (j, t) in pts.iter().enumerate() {
                        if j == i || (t.x - m.x).hypot(t.y - m.y) > p.radius + 3.0 * p.sigma_s {
                            continue;
                        }
                        let d2 = (t.x - px) * (t.x - px) + (t.y - py) * (t.y - py);
                        if d2 > 9.0 * p.sigma_s * p.sigma_s {
                            continue;
                        }
                        let cs = (-d2 / (2.0 * p.sigma_s * p.sigma_s)).exp() / (p.sigma_s * TAU.sqrt());
                        let bin = -PI + (k as f32 + 0.5) * delta_d;
                        let alpha = angle_diff(bin, angle_diff(m.angle, t.angle));
                        let s = p.sigma_d * std::f32::consts::SQRT_2;
                        let cd = 0.5 * (erf((alpha + delta_d / 2.0) / s) - erf((alpha - delta_d / 2.0) / s));
                        sum += cs * cd;
                    }
                    bits.push(sum >= p.mu_psi);
                }
                cells.push(Some(bits));
            }
        }
        if (valid as f32) < (p.min_valid_cells * inside as f32).ceil() {
            continue;
        }
        out.push((*m, cells));
    }
    out
}

fn reference_similarity(a: &RefCylinder, b: &RefCylinder, p: &MccParams) -> f32 {
    let (mut common, mut na, mut nb, mut nx) = (0, 0, 0, 0);
    for (x, y) in a.iter().zip(b) {
        if let (Some(x), Some(y)) = (x, y) {
            common += 1;
            for (u, v) in x.iter().zip(y) {
                na += u32::from(*u);
                nb += u32::from(*v);
                nx += u32::from(u != v);
            }
        }
    }
    if (common as f32) < (p.min_matchable * a.len() as f32).ceil() || na + nb == 0 {
        return 0.0;
    }
    1.0 - (nx as f32).sqrt() / ((na as f32).sqrt() + (nb as f32).sqrt())
}

fn reference_score(a: &Template, b: &Template, p: &MccParams, c: &ConsolidationParams) -> f32 {
    let ca = reference_cylinders(a, p);
    let cb = reference_cylinders(b, p);
    if ca.is_empty() || cb.is_empty() {
        return 0.0;
    }
    let mut pairs = Vec::new();
    for (i, (ma, xa)) in ca.iter().enumerate() {
        for (j, (mb, xb)) in cb.iter().enumerate() {
            if angle_diff(ma.angle, mb.angle).abs() > p.max_rotation {
                continue;
            }
            let l = reference_similarity(xa, xb, p);
            if l > 0.0 {
                pairs.push((l, i, j));
            }
        }
    }
    // Ties: by cylinder rank (popcount, spread of the nearest neighbours; see `cylinder_ranks`), smaller rank,
    // larger rank, then which side had the smaller one.
    let rank_of = |cyl: &[(Point, RefCylinder)]| -> Vec<usize> {
        let n = cyl.len();
        let counts: Vec<u32> =
            cyl.iter().map(|(_, c)| c.iter().flatten().flatten().map(|&b| u32::from(b)).sum()).collect();
        let dist: Vec<f32> =
            (0..n * n).map(|k| (cyl[k % n].0.x - cyl[k / n].0.x).hypot(cyl[k % n].0.y - cyl[k / n].0.y)).collect();
        let mut rank = vec![0; n];
        for (r, c) in cylinder_ranks(&counts, &dist).into_iter().enumerate() {
            rank[c] = r;
        }
        rank
    };
    let (rank_a, rank_b) = (rank_of(&ca), rank_of(&cb));
    let tie = |&(_, i, j): &(f32, usize, usize)| {
        let (ri, rj) = (rank_a[i], rank_b[j]);
        (ri.min(rj), ri.max(rj), ri > rj)
    };
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(tie(x).cmp(&tie(y))));
    let nr = ca.len().min(cb.len()).min(pairs.len());
    pairs.truncate(nr);
    if nr == 0 {
        return 0.0;
    }
    let n_min = ca.len().min(cb.len()) as f32;
    let np = c.min_np + (sigmoid(n_min, c.mu_p, c.tau_p) * (c.max_np - c.min_np) as f32).round() as usize;
    let rho = |r: usize, k: usize| -> f32 {
        let ((_, i1, j1), (_, i2, j2)) = (pairs[r], pairs[k]);
        let (a1, a2, b1, b2) = (ca[i1].0, ca[i2].0, cb[j1].0, cb[j2].0);
        let d1 = ((a2.x - a1.x).hypot(a2.y - a1.y) - (b2.x - b1.x).hypot(b2.y - b1.y)).abs();
        let d2 = angle_diff(angle_diff(a1.angle, a2.angle), angle_diff(b1.angle, b2.angle)).abs();
        let ha = segment_heading(&a1, &a2);
        let hb = segment_heading(&b1, &b2);
        let d3 = angle_diff(angle_diff(a1.angle, ha), angle_diff(b1.angle, hb)).abs();
        [d1, d2, d3].iter().enumerate().map(|(t, &d)| sigmoid(d, c.rho_mu[t], c.rho_tau[t])).product()
    };
    let initial: Vec<f32> = pairs.iter().map(|p| p.0).collect();
    let mut lambda = initial.clone();
    for _ in 0..c.n_rel {
        let next: Vec<f32> = (0..nr)
            .map(|r| {
                let support: f32 = (0..nr).filter(|&k| k != r).map(|k| rho(r, k) * lambda[k]).sum();
                let spread = if nr > 1 { (1.0 - c.w_r) / (nr - 1) as f32 } else { 0.0 };
                c.w_r * lambda[r] + spread * support
            })
            .collect();
        lambda = next;
    }
    let mut order: Vec<(f32, usize)> = (0..nr).map(|r| (lambda[r] / initial[r], r)).collect();
    order.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let total: f32 = order.iter().take(np.min(nr)).map(|&(_, r)| lambda[r]).sum();
    (total / np as f32).clamp(0.0, 1.0)
}

/// Usable cylinders below which the invariance properties are not asserted (see `rigid_motion…`).
const MIN_CYLINDERS: usize = 8;

/// Minutiae spread like a real print: 15–60 of them in a 300 × 400 pixel area.
///
/// Minutiae closer than one ridge period (≈ 9 px at 500 ppi) to an earlier one are dropped, as in a real print,
/// so shrinking cannot pile minutiae onto one spot: near-identical cylinders tie, ties are broken by index, and
/// index order is not rotation invariant. Each minutia also gets a turn by its index so directions stay varied.
fn minutiae() -> impl Strategy<Value = Vec<(f32, f32, f32)>> {
    prop::collection::vec((40.0_f32..340.0, 40.0_f32..440.0, 0.0_f32..360.0), 15..60).prop_map(|v| {
        let mut out: Vec<(f32, f32, f32)> = Vec::new();
        for (k, (x, y, a)) in v.into_iter().enumerate() {
            if out.iter().all(|&(u, w, _)| (u - x).hypot(w - y) >= 10.0) {
                out.push((x, y, (a + k as f32 * 23.3) % 360.0));
            }
        }
        out
    })
}

fn template(src: &[(f32, f32, f32)]) -> Template {
    let src: Vec<_> = src.iter().map(|&(x, y, a)| (x, y, a, MinutiaKind::Ending, 50)).collect();
    Template::from_source(&src, 500.0, 500.0).unwrap()
}

/// A rigid motion of a template (rotation by `deg` about the print's centre, then a shift), as a rotated or
/// shifted capture of the same finger would give; image y points down, so a visual counter-clockwise turn
/// adds to the ISO angle.
fn moved(src: &[(f32, f32, f32)], deg: f32, dx: f32, dy: f32) -> Template {
    let (sin, cos) = deg.to_radians().sin_cos();
    let (cx, cy) = (190.0, 240.0);
    let out: Vec<_> = src
        .iter()
        .map(|&(x, y, a)| {
            let (u, v) = (x - cx, -(y - cy));
            let (u, v) = (u * cos - v * sin, u * sin + v * cos);
            (cx + u + dx + 300.0, cy - v + dy + 300.0, a + deg)
        })
        .collect();
    template(&out)
}

proptest! {
    // A fixed seed keeps `make test` deterministic. Random search with other seeds (4 × 300 cases, rotations up
    // to ±85°) passes since ties are broken by a rotation-invariant cylinder rank; before that, sparse cylinders
    // tying at similarity 1 were ordered by direction, which a rotation past 0 reorders.
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED_F1A6),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn prepared_path_equals_the_reference(a in minutiae(), b in minutiae(), jitter in 0.0_f32..6.0) {
        let m = Matcher::default();
        // b shares half its minutiae with a (jittered), so scores cover the whole range.
        let mixed: Vec<_> = a.iter().take(a.len() / 2).map(|&(x, y, t)| (x + jitter, y - jitter, t + jitter))
            .chain(b.iter().copied()).take(60).collect();
        for (x, y) in [(template(&a), template(&b)), (template(&a), template(&mixed)), (template(&a), template(&a))] {
            let fast = m.compare(&m.prepare(&x), &m.prepare(&y));
            let slow = reference_score(&x, &y, m.params(), m.consolidation());
            // Equal up to float rounding (summation order, angle differences taken in another order, tabulated
            // sigmoids with errors < 1e-5), which can swap two nearly tied pairs in a selection: seen up to 2e-3.
            prop_assert!((fast - slow).abs() < 5e-3, "prepared {fast} vs reference {slow}");
        }
    }

    #[test]
    fn a_template_matches_itself_best(a in minutiae(), others in prop::collection::vec(minutiae(), 1..4)) {
        let m = Matcher::default();
        let pa = m.prepare(&template(&a));
        let own = m.compare(&pa, &pa);
        prop_assert!(pa.len() < 2 || own > 0.0, "self score {own}");
        for o in &others {
            let other = m.compare(&pa, &m.prepare(&template(o)));
            prop_assert!(own >= other, "self {own} < other {other}");
        }
    }

    /// Within ±60° (real captures stay within ±30°): MCC does not compare minutiae turned by more than
    /// δ_θ = 90° (Cappelli 2010, eq. 14), so a print captured upside down is not matched.
    #[test]
    fn rigid_motion_does_not_change_the_score(
        a in minutiae(), b in minutiae(), deg in -60.0_f32..60.0, dx in -100.0_f32..100.0, dy in -100.0_f32..100.0
    ) {
        let m = Matcher::default();
        let (pa, pb) = (m.prepare(&template(&a)), m.prepare(&template(&b)));
        let pm = m.prepare(&moved(&a, deg, dx, dy));
        // A template with a handful of usable cylinders (shrunk inputs: piles of identical minutiae) sits on
        // the validity thresholds, where float rounding of the rotated copy flips a cylinder; not a print.
        prop_assume!(pa.len() >= MIN_CYLINDERS && pb.len() >= MIN_CYLINDERS);
        let (own, own_moved) = (m.compare(&pa, &pa), m.compare(&pa, &pm));
        prop_assert!((own - own_moved).abs() < 0.05, "self {own}, moved copy {own_moved}");
        let (other, other_moved) = (m.compare(&pb, &pa), m.compare(&pb, &pm));
        prop_assert!((other - other_moved).abs() < 0.05, "other {other}, moved {other_moved}");
    }

    #[test]
    fn the_score_is_symmetric(a in minutiae(), b in minutiae(), jitter in 0.0_f32..6.0) {
        let m = Matcher::default();
        let near: Vec<_> = a.iter().map(|&(x, y, t)| (x + jitter, y + jitter / 2.0, t - jitter)).collect();
        for (x, y) in [(template(&a), template(&b)), (template(&a), template(&near))] {
            let (px, py) = (m.prepare(&x), m.prepare(&y));
            if px.len() < MIN_CYLINDERS || py.len() < MIN_CYLINDERS {
                continue;
            }
            let (s, t) = (m.compare(&px, &py), m.compare(&py, &px));
            prop_assert!((s - t).abs() < 0.02, "{s} vs {t}");
        }
    }
}

#[test]
fn empty_and_tiny_templates_score_zero() {
    let m = Matcher::default();
    let empty = m.prepare(&Template::default());
    let one = m.prepare(&template(&[(100.0, 100.0, 30.0)]));
    let full = m.prepare(&template(&[(100.0, 100.0, 30.0), (120.0, 130.0, 50.0), (150.0, 90.0, 200.0)]));
    assert_eq!(m.compare(&empty, &full), 0.0);
    assert_eq!(m.compare(&one, &one), 0.0);
    assert!(m.compare(&full, &full) <= 1.0);
}
