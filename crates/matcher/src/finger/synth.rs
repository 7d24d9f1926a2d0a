//! Synthetic fingerprint minutiae: master sets of a finger and impressions of a master, with ground truth.
//!
//! Used for scale tests (1:N over a million templates) and accuracy curves beside the real development set.
//! Everything is deterministic from a seed: the same seed gives the same template on any machine and with
//! any thread count, because every master and impression draws from its own generator seeded by
//! [`seed_for`] from the base seed and its ids, never from a shared stream.
//!
//! # Master model (one finger, the whole pad)
//! * **Pattern class** drawn with the natural class frequencies that Wilson, Candela & Watson (NIST) report
//!   and the *Handbook of Fingerprint Recognition* (Maltoni et al.) reproduces: arch 3.7 %, tented arch
//!   2.9 %, left loop 33.8 %, right loop 31.7 %, whorl 27.9 %.
//! * **Orientation field** from the zero-pole model of Sherlock & Monro (1993, "A model for interpreting
//!   fingerprint topology"): the ridge orientation at a point `z` is
//!   `½·(Σ arg(z − core) − Σ arg(z − delta))`; loops have one core and one delta below it (offset to the side
//!   that gives the loop its slant), whorls two cores and two deltas, tented arches a core right above a
//!   delta. Plain arches have no singular point and use a smooth arch-shaped field of our own.
//! * **Minutiae** are placed by rejection sampling inside the elliptical pad with a minimum spacing of about
//!   one ridge period (the *Handbook* gives an inter-ridge distance of about 9 pixels at 500 ppi), with a
//!   density raised near singular points. Their count is normal around 75 (sd 15) for the whole pad — a
//!   full rolled finger shows several dozen minutiae, up to about a hundred, and a plain impression fewer —
//!   so a plain-sized impression of the defaults carries 34 on average (the real FVC2002 DB2_B development
//!   templates carry 41: the defaults are not fitted to them).
//! * **Direction**: the ridge orientation at the minutia, plus 0 or π (which way the ending points or the
//!   fork opens is not given by the orientation field). **Type**: endings are the commonest type in
//!   published frequency studies; the default split (58 % endings, 40 % bifurcations, 2 % other) is a
//!   modelling choice, not a measured figure.
//!
//! # Impression model (one capture of the master)
//! 1. **Elastic distortion** in the spirit of Cappelli, Maio & Maltoni (2001, "Modelling plastic distortion
//!    in fingerprint images"): a close-contact disc around the contact centre does not move; outside it a
//!    small rigid motion (rotation, translation) is applied with a weight `1 − exp(−d²/2k²)` that rises
//!    smoothly from 0, `d` being the distance from the disc (our choice of brake function). This bends
//!    ridges non-linearly, as pressing and twisting a finger does; with the defaults the periphery moves by
//!    about 10–20 pixels (0.5–1 mm).
//! 2. **Rotation** (normal, default sd 10°, clipped at ±30°) about the contact centre and **translation**
//!    (the contact centre lands off the window centre, sd 25 px).
//! 3. **Partial area**: only minutiae inside the sensor window and an elliptical contact area (random
//!    size) survive; with a given probability a straight edge (finger tip lifted, or placed off the
//!    sensor) cuts off a further part.
//! 4. **Missing** true minutiae (default 15 %) and **spurious** ones (default 10 % of the visible count,
//!    oriented along the local flow of their neighbours), **type flips** ending ↔ bifurcation (default
//!    10 %: pressure turns one into the other), **position noise** (sd 2 px ≈ 0.1 mm) and **angle noise**
//!    (sd 5°).
//!
//! The figures above are model parameters ([`SynthParams`], [`ImpressionParams`]); where no source is named
//! they are our modelling choices. None is fitted to the development set. With the defaults, two
//! impressions of one finger share 18 master minutiae on average (2,000 pairs; see the tests).

use std::f32::consts::{PI, TAU};

use rayon::prelude::*;

use super::template::{wrap_angle, FingerPosition, Minutia, MinutiaKind, Template, INTERNAL_PPI, MAX_MINUTIAE};

/// Fingerprint pattern class of the Henry system, which fixes the singular points of the orientation field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PatternClass {
    /// Plain arch: no core, no delta.
    Arch = 0,
    /// Tented arch: a core right above a delta.
    TentedArch = 1,
    /// Left loop: ridges enter and leave on the left, delta on the right.
    LeftLoop = 2,
    /// Right loop: ridges enter and leave on the right, delta on the left.
    RightLoop = 3,
    /// Whorl: two cores, two deltas.
    Whorl = 4,
}

impl PatternClass {
    const ALL: [PatternClass; 5] = [
        PatternClass::Arch,
        PatternClass::TentedArch,
        PatternClass::LeftLoop,
        PatternClass::RightLoop,
        PatternClass::Whorl,
    ];
}

/// Parameters of master minutiae sets (one per finger); see the module doc for the model and sources.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthParams {
    /// Width of the finger pad canvas, internal (500 ppi) pixels.
    pub width: u16,
    /// Height of the finger pad canvas, internal pixels.
    pub height: u16,
    /// Mean number of minutiae on the whole pad.
    pub mean_minutiae: f32,
    /// Standard deviation of that number.
    pub sd_minutiae: f32,
    /// Smallest distance between two minutiae, internal pixels (about one ridge period).
    pub min_distance: f32,
    /// Share of bifurcations; endings take the rest after `other_share`.
    pub bifurcation_share: f32,
    /// Share of minutiae of type "other".
    pub other_share: f32,
    /// Relative frequency of arch, tented arch, left loop, right loop, whorl.
    pub class_weights: [f32; 5],
}

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams {
            width: 400,
            height: 500,
            mean_minutiae: 75.0,
            sd_minutiae: 15.0,
            min_distance: 10.0,
            bifurcation_share: 0.40,
            other_share: 0.02,
            // Wilson, Candela & Watson (NIST), as reproduced in the Handbook of Fingerprint Recognition.
            class_weights: [0.037, 0.029, 0.338, 0.317, 0.279],
        }
    }
}

/// Parameters of one impression (capture) of a master; see the module doc for the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ImpressionParams {
    /// Sensor window width, internal pixels (the impression's image width).
    pub width: u16,
    /// Sensor window height, internal pixels.
    pub height: u16,
    /// Standard deviation of the rotation, degrees.
    pub rotation_sd_deg: f32,
    /// Largest rotation, degrees (the normal draw is clipped).
    pub max_rotation_deg: f32,
    /// Standard deviation of where the contact centre lands relative to the window centre, pixels.
    pub placement_sd: f32,
    /// Standard deviation of where the contact centre lies on the pad relative to the pad centre, pixels.
    pub contact_sd: f32,
    /// Radius of the undistorted close-contact disc, pixels.
    pub contact_radius: f32,
    /// Brake constant `k` of the distortion weight `1 − exp(−d²/2k²)`, pixels.
    pub distortion_brake: f32,
    /// Standard deviation of the distortion's rotation, degrees.
    pub distortion_rotation_sd_deg: f32,
    /// Standard deviation of the distortion's translation per axis, pixels.
    pub distortion_translation_sd: f32,
    /// Semi-axes of the elliptical contact area as a fraction of the window's half sizes: smallest value.
    pub contact_axes_min: f32,
    /// Largest value of that fraction.
    pub contact_axes_max: f32,
    /// Probability that a straight edge cuts away part of the contact area.
    pub partial_probability: f32,
    /// Probability that a visible true minutia is not extracted.
    pub missing_rate: f32,
    /// Mean number of spurious minutiae as a share of the visible true ones.
    pub spurious_rate: f32,
    /// Probability that an ending is read as a bifurcation or the other way round.
    pub type_flip_rate: f32,
    /// Standard deviation of position noise per axis, pixels.
    pub position_sd: f32,
    /// Standard deviation of angle noise, degrees.
    pub angle_sd_deg: f32,
}

impl Default for ImpressionParams {
    fn default() -> Self {
        ImpressionParams {
            width: 288,
            height: 384,
            rotation_sd_deg: 10.0,
            max_rotation_deg: 30.0,
            placement_sd: 25.0,
            contact_sd: 30.0,
            contact_radius: 60.0,
            distortion_brake: 80.0,
            distortion_rotation_sd_deg: 2.5,
            distortion_translation_sd: 6.0,
            contact_axes_min: 0.80,
            contact_axes_max: 1.05,
            partial_probability: 0.2,
            missing_rate: 0.15,
            spurious_rate: 0.10,
            type_flip_rate: 0.10,
            position_sd: 2.0,
            angle_sd_deg: 5.0,
        }
    }
}

/// A master minutiae set with what generated it (ground truth for tests and evaluation).
#[derive(Debug, Clone, PartialEq)]
pub struct Master {
    /// The master minutiae on the pad canvas, as a template at 500 ppi.
    pub template: Template,
    /// The pattern class drawn for it.
    pub class: PatternClass,
    /// Core positions (x, y), internal pixels.
    pub cores: Vec<(f32, f32)>,
    /// Delta positions (x, y), internal pixels.
    pub deltas: Vec<(f32, f32)>,
}

/// One template of a synthetic data set with its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRecord {
    /// Subject (person) id, 0-based.
    pub subject: u32,
    /// Finger position code 1–10 (ISO 19794-2: 1 right thumb … 10 left little).
    pub finger: u8,
    /// Impression number, 0-based.
    pub impression: u16,
    /// The impression.
    pub template: Template,
}

/// Derives the seed of one master or impression from a base seed and its ids, so that every item has its
/// own random stream and a data set is the same whatever order or thread generates it.
pub fn seed_for(base: u64, parts: &[u64]) -> u64 {
    let mut s = base ^ 0x9E37_79B9_7F4A_7C15;
    let mut h = splitmix64(&mut s);
    for &p in parts {
        let mut t = h ^ p.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        h = splitmix64(&mut t);
    }
    h
}

/// The master minutiae set of one finger (finger position 0 = unknown; see [`master_of`] for more).
pub fn master(seed: u64, params: &SynthParams) -> Template {
    master_of(seed, params).template
}

/// The master minutiae set of one finger with its pattern class and singular points.
pub fn master_of(seed: u64, params: &SynthParams) -> Master {
    let mut rng = Rng::new(seed);
    let (w, h) = (f32::from(params.width.max(64)), f32::from(params.height.max(64)));
    let class = PatternClass::ALL[rng.weighted(&params.class_weights)];
    let field = OrientationField::draw(class, w, h, &mut rng);
    let (cx, cy, ax, ay) = (w / 2.0, h / 2.0, 0.48 * w, 0.49 * h);
    let target =
        rng.normal_with(params.mean_minutiae, params.sd_minutiae).round().clamp(8.0, MAX_MINUTIAE as f32) as usize;
    let min_d2 = params.min_distance.max(0.0).powi(2);
    let mut minutiae: Vec<Minutia> = Vec::with_capacity(target);
    let mut attempts = 0;
    while minutiae.len() < target && attempts < target * 60 {
        attempts += 1;
        let (x, y) = (rng.uniform(cx - ax, cx + ax), rng.uniform(cy - ay, cy + ay));
        if ((x - cx) / ax).powi(2) + ((y - cy) / ay).powi(2) > 1.0 {
            continue;
        }
        // Denser near singular points, where ridges end and fork more often: accept with w / w_max.
        let near = field.singular_distance(x, y);
        let weight = 1.0 + (-(near * near) / (2.0 * 70.0 * 70.0)).exp();
        if rng.unit() * 2.0 > weight {
            continue;
        }
        if minutiae.iter().any(|m| (m.x - x).powi(2) + (m.y - y).powi(2) < min_d2) {
            continue;
        }
        let flip = if rng.unit() < 0.5 { 0.0 } else { PI };
        let kind = draw_kind(&mut rng, params.bifurcation_share, params.other_share);
        let quality = 40 + (rng.unit() * 61.0) as u8;
        minutiae.push(Minutia {
            x,
            y,
            angle: wrap_angle(field.orientation(x, y) + flip),
            kind,
            quality: quality.min(100),
        });
    }
    let template = Template {
        minutiae,
        finger: FingerPosition(0),
        width: params.width.max(64),
        height: params.height.max(64),
        resolution_x_ppi: INTERNAL_PPI,
        resolution_y_ppi: INTERNAL_PPI,
        view_quality: 0,
        impression: 1, // a master is the whole pad, as a rolled impression
    };
    Master { template, class, cores: field.cores, deltas: field.deltas }
}

/// One impression of `master`: distorted, rotated, shifted, cropped to the sensor, with missing, spurious and
/// noisy minutiae, in the coordinates of a `params.width × params.height` image at 500 ppi.
pub fn impression(master: &Template, seed: u64, params: &ImpressionParams) -> Template {
    impression_with_sources(master, seed, params).0
}

/// [`impression`] plus, for each of its minutiae, the index of the master minutia it shows (`None` for a
/// spurious one): the ground-truth pairing, for checking a matcher's correspondences.
pub fn impression_with_sources(
    master: &Template,
    seed: u64,
    params: &ImpressionParams,
) -> (Template, Vec<Option<u16>>) {
    let mut rng = Rng::new(seed);
    let (ww, wh) = (f32::from(params.width.max(16)), f32::from(params.height.max(16)));
    let (mw, mh) = (f32::from(master.width), f32::from(master.height));
    // Contact centre on the pad, a little above the middle where fingers meet the sensor.
    let c = (mw / 2.0 + rng.normal() * params.contact_sd, mh * 0.47 + rng.normal() * params.contact_sd);
    let rot = (rng.normal() * params.rotation_sd_deg)
        .clamp(-params.max_rotation_deg.abs(), params.max_rotation_deg.abs())
        .to_radians();
    let dest = (ww / 2.0 + rng.normal() * params.placement_sd, wh / 2.0 + rng.normal() * params.placement_sd);
    let d_rot = (rng.normal() * params.distortion_rotation_sd_deg).to_radians();
    let d_t = (rng.normal() * params.distortion_translation_sd, rng.normal() * params.distortion_translation_sd);
    let k2 = 2.0 * params.distortion_brake.max(1.0).powi(2);
    let lo = params.contact_axes_min.min(params.contact_axes_max);
    let hi = params.contact_axes_max.max(params.contact_axes_min);
    let (ex, ey) = (rng.uniform(lo, hi) * ww / 2.0, rng.uniform(lo, hi) * wh / 2.0);
    let ecentre = (ww / 2.0 + rng.normal() * 0.05 * ww, wh / 2.0 + rng.normal() * 0.05 * wh);
    // A lifted or off-sensor part: keep points on one side of a line through a point near the centre.
    let cut = if rng.unit() < params.partial_probability {
        let a = rng.uniform(0.0, TAU);
        let off = rng.uniform(0.15, 0.5) * ww.min(wh) / 2.0;
        Some((a.cos(), a.sin(), off))
    } else {
        None
    };
    let visible = |x: f32, y: f32| -> bool {
        if !(0.0..ww).contains(&x) || !(0.0..wh).contains(&y) {
            return false;
        }
        if ((x - ecentre.0) / ex).powi(2) + ((y - ecentre.1) / ey).powi(2) > 1.0 {
            return false;
        }
        cut.is_none_or(|(nx, ny, off)| (x - ww / 2.0) * nx + (y - wh / 2.0) * ny < off)
    };
    let (sr, cr) = rot.sin_cos();
    let (sd, cd) = d_rot.sin_cos();
    let mut out: Vec<Minutia> = Vec::with_capacity(master.minutiae.len());
    let mut sources: Vec<Option<u16>> = Vec::with_capacity(master.minutiae.len());
    for (index, m) in master.minutiae.iter().enumerate() {
        // 1. elastic distortion: a rigid motion about c, braked to nothing inside the close-contact disc.
        let (dx, dy) = (m.x - c.0, m.y - c.1);
        let dist = ((dx * dx + dy * dy).sqrt() - params.contact_radius).max(0.0);
        let wgt = 1.0 - (-(dist * dist) / k2).exp();
        let (tx, ty) = rotate(dx, dy, sd, cd);
        let (px, py) = (dx + wgt * (tx + d_t.0 - dx), dy + wgt * (ty + d_t.1 - dy));
        // 2. rigid rotation about the contact centre, then placement in the window.
        let (qx, qy) = rotate(px, py, sr, cr);
        let (x, y) = (qx + dest.0, qy + dest.1);
        if !visible(x, y) || rng.unit() < params.missing_rate {
            continue;
        }
        let angle = m.angle + rot + wgt * d_rot;
        let kind = match m.kind {
            MinutiaKind::Ending if rng.unit() < params.type_flip_rate => MinutiaKind::Bifurcation,
            MinutiaKind::Bifurcation if rng.unit() < params.type_flip_rate => MinutiaKind::Ending,
            k => k,
        };
        out.push(Minutia { x, y, angle, kind, quality: m.quality });
        sources.push(Some(index as u16));
    }
    // Spurious minutiae: anywhere in the visible area, along the flow of the nearest true minutiae.
    let spurious = rng.poisson(params.spurious_rate.max(0.0) * out.len().max(5) as f32);
    let true_count = out.len();
    let mut tries = 0;
    let mut added = 0;
    while added < spurious && tries < spurious * 50 {
        tries += 1;
        let (x, y) = (rng.uniform(0.0, ww), rng.uniform(0.0, wh));
        if !visible(x, y) {
            continue;
        }
        let flow = local_flow(&out[..true_count], x, y).unwrap_or_else(|| rng.uniform(0.0, PI));
        let flip = if rng.unit() < 0.5 { 0.0 } else { PI };
        let kind = if rng.unit() < 0.5 { MinutiaKind::Ending } else { MinutiaKind::Bifurcation };
        let quality = 20 + (rng.unit() * 41.0) as u8;
        out.push(Minutia { x, y, angle: flow + flip, kind, quality });
        sources.push(None);
        added += 1;
    }
    // 4. measurement noise, kept inside the image.
    let angle_sd = params.angle_sd_deg.to_radians();
    for m in &mut out {
        m.x = (m.x + rng.normal() * params.position_sd).clamp(0.0, ww - 1.0);
        m.y = (m.y + rng.normal() * params.position_sd).clamp(0.0, wh - 1.0);
        m.angle = wrap_angle(m.angle + rng.normal() * angle_sd);
    }
    // Extractors list minutiae in their own order; shuffle so that no matcher can lean on the order.
    for i in (1..out.len()).rev() {
        let j = rng.below(i + 1);
        out.swap(i, j);
        sources.swap(i, j);
    }
    out.truncate(MAX_MINUTIAE);
    sources.truncate(MAX_MINUTIAE);
    let template = Template {
        minutiae: out,
        finger: master.finger,
        width: params.width.max(16),
        height: params.height.max(16),
        resolution_x_ppi: INTERNAL_PPI,
        resolution_y_ppi: INTERNAL_PPI,
        view_quality: 0,
        impression: 0, // live-scan plain
    };
    (template, sources)
}

/// Two template indices of a comparison, the smaller first.
pub type IndexPair = (usize, usize);

/// Genuine and impostor index pairs `(a, b)`, a < b, of `templates` ordered finger by finger with `impressions`
/// each (what [`dataset`] gives with one impression count): every pair of one finger's impressions is genuine,
/// every cross-finger pair an impostor, as in the FVC protocol the evaluation applies; for the measuring tools.
pub fn protocol_pairs(templates: usize, impressions: usize) -> (Vec<IndexPair>, Vec<IndexPair>) {
    let per_finger = impressions.max(1);
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for a in 0..templates {
        for b in (a + 1)..templates {
            if a / per_finger == b / per_finger {
                genuine.push((a, b));
            } else {
                impostor.push((a, b));
            }
        }
    }
    (genuine, impostor)
}

/// A whole data set: `subjects × fingers` masters and `impressions` impressions of each, generated in
/// parallel (rayon), ordered by subject, finger, impression; identical for a given seed on any thread count.
pub fn dataset(
    seed: u64,
    subjects: u32,
    fingers: u8,
    impressions: u16,
    master_params: &SynthParams,
    impression_params: &ImpressionParams,
) -> Vec<SynthRecord> {
    let fingers = fingers.clamp(1, 10);
    let fingers_total = u64::from(subjects) * u64::from(fingers);
    (0..fingers_total)
        .into_par_iter()
        .flat_map_iter(|i| {
            let subject = (i / u64::from(fingers)) as u32;
            let finger = (i % u64::from(fingers)) as u8 + 1;
            let mut m = master(seed_for(seed, &[u64::from(subject), u64::from(finger)]), master_params);
            m.finger = FingerPosition(finger);
            (0..impressions).map(move |k| SynthRecord {
                subject,
                finger,
                impression: k,
                template: impression(
                    &m,
                    seed_for(seed, &[u64::from(subject), u64::from(finger), u64::from(k) + 1]),
                    impression_params,
                ),
            })
        })
        .collect()
}

fn rotate(x: f32, y: f32, sin: f32, cos: f32) -> (f32, f32) {
    // Counter-clockwise as seen on the image (y points down), the ISO angle convention: a direction at
    // angle a becomes a + θ.
    (x * cos + y * sin, -x * sin + y * cos)
}

/// Orientation (mod π) of the ridge flow at (x, y) from the three nearest true minutiae, weighted by distance
/// (doubled-angle average, since orientations are axial).
fn local_flow(minutiae: &[Minutia], x: f32, y: f32) -> Option<f32> {
    let mut best: [(f32, f32); 3] = [(f32::INFINITY, 0.0); 3];
    for m in minutiae {
        let d2 = (m.x - x).powi(2) + (m.y - y).powi(2);
        if d2 < best[2].0 {
            best[2] = (d2, m.angle);
            best.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
    }
    let (mut sin_sum, mut cos_sum) = (0.0, 0.0);
    for &(d2, a) in best.iter().filter(|b| b.0.is_finite()) {
        let weight = 1.0 / (1.0 + d2.sqrt());
        sin_sum += weight * (2.0 * a).sin();
        cos_sum += weight * (2.0 * a).cos();
    }
    (sin_sum != 0.0 || cos_sum != 0.0).then(|| wrap_angle(sin_sum.atan2(cos_sum) / 2.0) % PI)
}

fn draw_kind(rng: &mut Rng, bifurcation: f32, other: f32) -> MinutiaKind {
    let u = rng.unit();
    if u < other {
        MinutiaKind::Other
    } else if u < other + bifurcation {
        MinutiaKind::Bifurcation
    } else {
        MinutiaKind::Ending
    }
}

/// Zero-pole orientation field (Sherlock & Monro 1993), or a smooth arch for plain arches.
struct OrientationField {
    class: PatternClass,
    cores: Vec<(f32, f32)>,
    deltas: Vec<(f32, f32)>,
    width: f32,
    height: f32,
}

impl OrientationField {
    fn draw(class: PatternClass, w: f32, h: f32, rng: &mut Rng) -> Self {
        let (cx, cy) = (w / 2.0 + rng.normal() * 0.05 * w, h * 0.42 + rng.normal() * 0.05 * h);
        let (cores, deltas) = match class {
            PatternClass::Arch => (vec![], vec![]),
            PatternClass::TentedArch => {
                let gap = rng.uniform(0.12, 0.2) * h;
                (vec![(cx, cy)], vec![(cx + rng.normal() * 5.0, cy + gap)])
            }
            PatternClass::LeftLoop | PatternClass::RightLoop => {
                // A left loop's delta lies to the right of its core (seen on the image), a right loop's to the left.
                let side = if class == PatternClass::LeftLoop { 1.0 } else { -1.0 };
                let dx = side * rng.uniform(0.2, 0.32) * w;
                let dy = rng.uniform(0.22, 0.34) * h;
                (vec![(cx, cy)], vec![(cx + dx, cy + dy)])
            }
            PatternClass::Whorl => {
                let half = rng.uniform(0.03, 0.08) * h;
                let tilt = rng.normal() * 0.05 * w;
                let spread = rng.uniform(0.25, 0.36) * w;
                let dy = rng.uniform(0.24, 0.32) * h;
                (
                    vec![(cx - tilt, cy - half), (cx + tilt, cy + half)],
                    vec![(cx - spread, cy + dy), (cx + spread, cy + dy + rng.normal() * 8.0)],
                )
            }
        };
        OrientationField { class, cores, deltas, width: w, height: h }
    }

    /// Ridge orientation at (x, y), radians mod π, counter-clockwise as seen on the image.
    fn orientation(&self, x: f32, y: f32) -> f32 {
        if self.class == PatternClass::Arch {
            // Ridges y = y0 − b·exp(−(x − cx)²/s²), bulging upwards more near the top of the pad.
            let (cx, spread) = (self.width / 2.0, 0.3 * self.width);
            let bulge = 0.25 * self.height * (1.0 - y / self.height).clamp(0.1, 1.0);
            let u = (x - cx) / spread;
            let slope = 2.0 * bulge * u / spread * (-(u * u)).exp(); // dy/dx on the image (y down)
            return wrap_angle((-slope).atan()) % PI;
        }
        // Zero-pole model in mathematical axes (y up), which makes the angle counter-clockwise on the image.
        let mut angle = 0.0;
        for &(px, py) in &self.cores {
            angle += (-(y - py)).atan2(x - px);
        }
        for &(px, py) in &self.deltas {
            angle -= (-(y - py)).atan2(x - px);
        }
        wrap_angle(angle / 2.0) % PI
    }

    fn singular_distance(&self, x: f32, y: f32) -> f32 {
        self.cores
            .iter()
            .chain(&self.deltas)
            .map(|&(px, py)| ((x - px).powi(2) + (y - py).powi(2)).sqrt())
            .fold(f32::INFINITY, f32::min)
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** (Blackman & Vigna 2018): small, fast and statistically sound for simulation; seeded by
/// SplitMix64 as its authors recommend. Written here so the data sets do not change with a crate's version.
struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut sm = seed;
        Rng { s: [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)] }
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 24 bits, the precision of an f32.
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1_u64 << 24) as f32
    }

    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    fn below(&mut self, n: usize) -> usize {
        // Multiply-shift (Lemire); the bias is below 2⁻³² for the sizes used here.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Standard normal by Box–Muller.
    fn normal(&mut self) -> f32 {
        let u1 = (1.0 - self.unit()).max(f32::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }

    fn normal_with(&mut self, mean: f32, sd: f32) -> f32 {
        mean + sd * self.normal()
    }

    /// Poisson by inversion (means here are small, < 50).
    fn poisson(&mut self, mean: f32) -> usize {
        if mean.is_nan() || mean <= 0.0 {
            return 0;
        }
        if mean > 60.0 {
            return self.normal_with(mean, mean.sqrt()).round().max(0.0) as usize;
        }
        let limit = (-mean).exp();
        let mut p = self.unit();
        let mut k = 0;
        while p > limit {
            p *= self.unit();
            k += 1;
        }
        k
    }

    fn weighted(&mut self, weights: &[f32]) -> usize {
        let total: f32 = weights.iter().map(|w| w.max(0.0)).sum();
        if total <= 0.0 || total.is_nan() {
            return 0;
        }
        let mut u = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            u -= w.max(0.0);
            if u < 0.0 {
                return i;
            }
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic() {
        let p = SynthParams::default();
        let m = master(7, &p);
        assert_eq!(m, master(7, &p));
        assert_ne!(m, master(8, &p));
        let ip = ImpressionParams::default();
        assert_eq!(impression(&m, 3, &ip), impression(&m, 3, &ip));
    }

    #[test]
    fn protocol_pairs_split_every_pair_once() {
        // The dev set's protocol: 10 fingers × 8 impressions give 280 genuine and 2,880 impostor pairs.
        let (genuine, impostor) = protocol_pairs(80, 8);
        assert_eq!((genuine.len(), impostor.len()), (280, 2880));
        assert!(genuine.iter().all(|&(a, b)| a < b && a / 8 == b / 8));
        assert!(impostor.iter().all(|&(a, b)| a < b && a / 8 != b / 8));
        assert_eq!(protocol_pairs(3, 0), (vec![], vec![(0, 1), (0, 2), (1, 2)]));
    }

    #[test]
    fn masters_look_like_fingers() {
        let p = SynthParams::default();
        let mut total = 0;
        let mut bif = 0;
        for seed in 0..200 {
            let m = master(seed, &p);
            assert!(m.minutiae.len() >= 8 && m.minutiae.len() <= MAX_MINUTIAE);
            for (i, a) in m.minutiae.iter().enumerate() {
                assert!(a.x >= 0.0 && a.x < f32::from(m.width) && a.y >= 0.0 && a.y < f32::from(m.height));
                assert!((0.0..TAU).contains(&a.angle));
                for b in &m.minutiae[i + 1..] {
                    assert!((a.x - b.x).hypot(a.y - b.y) >= p.min_distance - 1e-3);
                }
            }
            total += m.minutiae.len();
            bif += m.minutiae.iter().filter(|m| m.kind == MinutiaKind::Bifurcation).count();
        }
        let mean = total as f32 / 200.0;
        assert!((60.0..90.0).contains(&mean), "mean minutiae {mean}");
        let share = bif as f32 / total as f32;
        assert!((0.33..0.47).contains(&share), "bifurcation share {share}");
    }

    #[test]
    fn orientation_field_is_coherent() {
        // Neighbouring minutiae (within 20 px) have orientations mod π that mostly agree within 30°.
        let p = SynthParams::default();
        let (mut close, mut agree) = (0, 0);
        for seed in 0..50 {
            let m = master(seed, &p);
            for (i, a) in m.minutiae.iter().enumerate() {
                for b in &m.minutiae[i + 1..] {
                    if (a.x - b.x).hypot(a.y - b.y) < 20.0 {
                        close += 1;
                        let d = (a.angle - b.angle).rem_euclid(PI);
                        if d.min(PI - d) < 30_f32.to_radians() {
                            agree += 1;
                        }
                    }
                }
            }
        }
        assert!(close > 50 && agree * 10 >= close * 7, "{agree} of {close}");
    }

    #[test]
    fn impressions_keep_true_minutiae_in_a_plain_sized_window() {
        let p = SynthParams::default();
        let ip = ImpressionParams::default();
        let mut counts = Vec::new();
        for seed in 0..100 {
            let m = master(seed, &p);
            let t = impression(&m, seed_for(seed, &[1]), &ip);
            for a in &t.minutiae {
                assert!(a.x >= 0.0 && a.x < f32::from(ip.width) && a.y >= 0.0 && a.y < f32::from(ip.height));
                assert!((0.0..TAU).contains(&a.angle));
            }
            counts.push(t.minutiae.len());
        }
        let mean = counts.iter().sum::<usize>() as f32 / counts.len() as f32;
        assert!((25.0..60.0).contains(&mean), "mean impression minutiae {mean}");
    }

    #[test]
    fn an_undisturbed_impression_is_a_rigid_motion_of_the_master() {
        // With every nuisance switched off except rotation and placement, pairwise distances are kept.
        let m = master(11, &SynthParams::default());
        let ip = ImpressionParams {
            width: 1000,
            height: 1000,
            distortion_rotation_sd_deg: 0.0,
            distortion_translation_sd: 0.0,
            contact_axes_min: 10.0,
            contact_axes_max: 10.0,
            partial_probability: 0.0,
            missing_rate: 0.0,
            spurious_rate: 0.0,
            type_flip_rate: 0.0,
            position_sd: 0.0,
            angle_sd_deg: 0.0,
            ..ImpressionParams::default()
        };
        let t = impression(&m, 5, &ip);
        assert_eq!(t.minutiae.len(), m.minutiae.len());
        let spread = |v: &[Minutia]| {
            let mut d: Vec<f32> = Vec::new();
            for (i, a) in v.iter().enumerate() {
                for b in &v[i + 1..] {
                    d.push((a.x - b.x).hypot(a.y - b.y));
                }
            }
            d.sort_by(f32::total_cmp);
            d
        };
        for (a, b) in spread(&m.minutiae).iter().zip(spread(&t.minutiae)) {
            assert!((a - b).abs() < 1e-2, "{a} vs {b}");
        }
    }

    #[test]
    fn genuine_impressions_share_true_minutiae() {
        // Two impressions of one finger must overlap enough to be matchable, as plain impressions do: on
        // average well over a dozen master minutiae seen in both, and most minutiae true ones.
        let (p, ip) = (SynthParams::default(), ImpressionParams::default());
        let (mut common, mut true_share) = (0.0, 0.0);
        let n = 100;
        for seed in 0..n {
            let m = master(seed, &p);
            let (a, sa) = impression_with_sources(&m, seed_for(seed, &[1]), &ip);
            let (_, sb) = impression_with_sources(&m, seed_for(seed, &[2]), &ip);
            assert_eq!(a.minutiae.len(), sa.len());
            let in_b: std::collections::HashSet<u16> = sb.iter().flatten().copied().collect();
            common += sa.iter().flatten().filter(|i| in_b.contains(i)).count() as f32;
            true_share += sa.iter().flatten().count() as f32 / sa.len().max(1) as f32;
        }
        let (common, true_share) = (common / n as f32, true_share / n as f32);
        assert!((12.0..35.0).contains(&common), "mean common minutiae {common}");
        assert!((0.8..0.95).contains(&true_share), "true share {true_share}");
    }

    #[test]
    fn dataset_is_ordered_and_thread_count_independent() {
        let (p, ip) = (SynthParams::default(), ImpressionParams::default());
        let a = dataset(42, 5, 2, 3, &p, &ip);
        assert_eq!(a.len(), 30);
        assert_eq!((a[0].subject, a[0].finger, a[0].impression), (0, 1, 0));
        assert_eq!((a[29].subject, a[29].finger, a[29].impression), (4, 2, 2));
        let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let b = single.install(|| dataset(42, 5, 2, 3, &p, &ip));
        assert_eq!(a, b);
        assert_eq!(a[4].template.finger, FingerPosition(2));
    }
}
