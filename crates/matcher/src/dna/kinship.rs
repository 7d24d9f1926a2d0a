//! Kinship indices for familial searching: how much more likely two genotypes are if the people are
//! related as stated than if they are unrelated.
//!
//! Per locus KI = k0 + k1·X + k2·Y, with (k0, k1, k2) the probabilities that the two people share 0, 1 or
//! 2 alleles identical by descent (parent–child: 0, 1, 0; full siblings: ¼, ½, ¼), X = P(G2 | G1, one
//! allele IBD) / P(G2 | G1, unrelated) and Y = P(G2 | G1, two IBD) / P(G2 | G1, unrelated), multiplied
//! over loci.
//!
//! **Population structure (θ)**: the probabilities of the alleles not shared by descent are the
//! Balding–Nichols sampling probabilities given the alleles already seen — after `n` alleles of which `m`
//! are `x`, the next is `x` with probability `[mθ + (1−θ)p_x] / [1 + (n−1)θ]` — the rule behind NRC II
//! recommendation 4.10 and its formulas for relatives (NRC II ch. 4, e.g. parent and offspring,
//! heterozygote `[2θ + (1−θ)(p+q)] / [2(1+θ)]`). With θ = 0 the index reduces to the classic table:
//!
//! | G1 | G2 | X (θ = 0, no mutation) |
//! |----|----|---|
//! | aa | aa | 1/p_a |
//! | aa | ab | 1/(2 p_a) |
//! | ab | aa | 1/(2 p_a) |
//! | ab | ab | (p_a + p_b)/(4 p_a p_b) |
//! | ab | ac | 1/(4 p_a) |
//! | any | no allele shared | 0 |
//!
//! (Butler, *Advanced Topics in Forensic DNA Typing: Interpretation*, 2015, chapter on kinship.) With θ,
//! e.g. parent–child ab–ac gives X = (1+2θ) / (4[θ + (1−θ)p_a]).
//!
//! **Mutation (parent–child)**: the allele a parent transmits changes by one repeat unit with probability
//! μ (half up, half down) and stays with 1−μ — the single-step stepwise model; about 97–98 % of STR
//! mutations seen in trio studies are single-step, and larger steps are not modelled (they still give 0).
//! Because the parent may be either person, the parent–child index is the mean of the two directions
//! (identical when no mutation is involved). So an apparent exclusion by one repeat gives a small index
//! (e.g. θ = 0, G1 = 10,12 as parent of G2 = 11,14: X = μ / (4 p_11)) instead of 0. Default μ = 0.002 per
//! meiosis: the AABB parentage-testing data summarised by Butler (*Forensic DNA Typing*, 2nd ed., 2005,
//! table 6.3, from the AABB 2002 annual report) put most core-locus rates at 1–5 per 1000 transfers, and
//! large trio studies find locus-average rates of about 1–1.3 × 10⁻³ (e.g. 1.3 × 10⁻³ over 148,875
//! transfers at 15 loci, Electrophoresis 2019, doi:10.1002/elps.201800491); 0.002 sits above those averages
//! so a true relative with a mutation is not ranked away. One rate for all loci (a per-locus table would be
//! a refinement). Full siblings need no mutation model: they may share nothing by descent (k0 = ¼), so a
//! mismatch never zeroes their index.

use super::allele::Allele;
use super::loci::{LocusId, AMELOGENIN};
use super::profile::Profile;
use super::stats::{self, AlleleFrequencies};
use crate::error::{MatchError, MatchResult};

/// The relationship tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relationship {
    /// Parent and child (k = 0, 1, 0).
    ParentChild,
    /// Full siblings (k = ¼, ½, ¼).
    FullSibling,
}

impl Relationship {
    /// Parses `parent-child` or `full-sibling` (and their usual spellings).
    pub fn parse(name: &str) -> MatchResult<Relationship> {
        match name.trim().to_ascii_lowercase().replace(['_', ' '], "-").as_str() {
            "parent-child" | "parent" | "child" | "pc" => Ok(Relationship::ParentChild),
            "full-sibling" | "full-siblings" | "sibling" | "siblings" | "fs" => Ok(Relationship::FullSibling),
            other => Err(MatchError::invalid(format!(
                "unknown relationship '{other}'; use 'parent-child' or 'full-sibling'"
            ))),
        }
    }

    /// Name written in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Relationship::ParentChild => "parent-child",
            Relationship::FullSibling => "full-sibling",
        }
    }

    /// IBD probabilities (k0, k1, k2).
    pub fn k(self) -> (f64, f64, f64) {
        match self {
            Relationship::ParentChild => (0.0, 1.0, 0.0),
            Relationship::FullSibling => (0.25, 0.5, 0.25),
        }
    }
}

/// Default Balding–Nichols θ of the kinship index (the same default as the match statistics).
pub const DEFAULT_THETA: f64 = 0.01;
/// Default single-step mutation rate per meiosis for parent–child (see the module doc for the source).
pub const DEFAULT_MUTATION_RATE: f64 = 0.002;

/// What a kinship index assumes: the relationship, the population-structure correction θ and the
/// parent–child mutation rate μ. Build with [`KinshipModel::new`] (defaults) or set the fields and
/// [`KinshipModel::validate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KinshipModel {
    /// Relationship tested.
    pub relationship: Relationship,
    /// Balding–Nichols θ in [0, 0.5).
    pub theta: f64,
    /// Single-step mutation rate per meiosis in [0, 0.1] (used for parent–child only).
    pub mutation_rate: f64,
}

impl KinshipModel {
    /// The relationship with the default θ and mutation rate.
    pub fn new(relationship: Relationship) -> KinshipModel {
        KinshipModel { relationship, theta: DEFAULT_THETA, mutation_rate: DEFAULT_MUTATION_RATE }
    }

    /// Checks θ and μ.
    pub fn validate(self) -> MatchResult<KinshipModel> {
        stats::check_theta(self.theta)?;
        if !(self.mutation_rate.is_finite() && (0.0..=0.1).contains(&self.mutation_rate)) {
            return Err(MatchError::invalid(format!("mutation_rate must be in [0, 0.1], got {}", self.mutation_rate)));
        }
        Ok(self)
    }
}

impl From<Relationship> for KinshipModel {
    fn from(relationship: Relationship) -> KinshipModel {
        KinshipModel::new(relationship)
    }
}

/// Balding–Nichols probability that the next allele sampled is `x` (frequency `p`) after the alleles
/// `seen`: `[mθ + (1−θ)p] / [1 + (n−1)θ]`, `m` of the `n` seen alleles being `x`.
fn next_allele(x: Allele, p: f64, seen: &[Allele], theta: f64) -> f64 {
    let m = seen.iter().filter(|&&s| s == x).count() as f64;
    let n = seen.len() as f64;
    (m * theta + (1.0 - theta) * p) / (1.0 + (n - 1.0) * theta)
}

/// P(G2 | G1) for unrelated people: G2's two alleles sampled after G1's.
fn p_unrelated(g1: (Allele, Allele), g2: (Allele, Allele), f: &impl Fn(Allele) -> f64, theta: f64) -> f64 {
    let (a, b) = g1;
    let (c, d) = g2;
    let first = next_allele(c, f(c), &[a, b], theta);
    let second = next_allele(d, f(d), &[a, b, c], theta);
    if c == d {
        first * second
    } else {
        2.0 * first * second
    }
}

/// Probability that a transmitted allele `from` arrives as `to`: 1−μ unchanged, μ/2 one repeat unit up or
/// down (single-step stepwise model), 0 otherwise. Only sized repeat designations can step.
fn transmission(from: Allele, to: Allele, mu: f64) -> f64 {
    if from == to {
        return 1.0 - mu;
    }
    match (from, to) {
        (Allele::Repeat(x), Allele::Repeat(y)) if x.abs_diff(y) == 10 => mu / 2.0,
        _ => 0.0,
    }
}

/// P(G2 | G1, one allele of G2 transmitted from G1): the transmitted allele is either of G1's (½ each),
/// possibly mutated; G2's other allele is sampled after G1's.
fn p_one_ibd(g1: (Allele, Allele), g2: (Allele, Allele), f: &impl Fn(Allele) -> f64, theta: f64, mu: f64) -> f64 {
    let (a, b) = g1;
    let (c, d) = g2;
    let orders: &[(Allele, Allele)] = if c == d { &[(c, d)] } else { &[(c, d), (d, c)] };
    let mut p = 0.0;
    for t in [a, b] {
        for &(u, v) in orders {
            let moved = transmission(t, u, mu);
            if moved > 0.0 {
                p += 0.5 * moved * next_allele(v, f(v), &[a, b], theta);
            }
        }
    }
    p
}

/// Kinship index at one locus between two single-source genotypes, with θ and (parent–child) mutation;
/// `f` gives each allele's frequency. See the module doc for the formulas.
pub fn genotype_ki(g1: (Allele, Allele), g2: (Allele, Allele), f: impl Fn(Allele) -> f64, model: &KinshipModel) -> f64 {
    let theta = model.theta;
    let p0 = p_unrelated(g1, g2, &f, theta);
    match model.relationship {
        Relationship::ParentChild => {
            // Either person may be the parent: the mean of the two directions (equal without mutation).
            let mu = model.mutation_rate;
            let forward = p_one_ibd(g1, g2, &f, theta, mu) / p0;
            let backward = p_one_ibd(g2, g1, &f, theta, mu) / p_unrelated(g2, g1, &f, theta);
            0.5 * (forward + backward)
        }
        Relationship::FullSibling => {
            let (k0, k1, k2) = model.relationship.k();
            let x = p_one_ibd(g1, g2, &f, theta, 0.0) / p0;
            let same = (g1.0.min(g1.1), g1.0.max(g1.1)) == (g2.0.min(g2.1), g2.0.max(g2.1));
            let y = if same { 1.0 / p0 } else { 0.0 };
            k0 + k1 * x + k2 * y
        }
    }
}

/// Normalises a single-source locus to (a, b) with a ≤ b; `None` for wildcards or mixtures.
fn pair(alleles: &[Allele]) -> Option<(Allele, Allele)> {
    if alleles.iter().any(|a| a.is_wildcard()) {
        return None;
    }
    match alleles {
        [a] => Some((*a, *a)),
        [a, b] => Some(((*a).min(*b), (*a).max(*b))),
        _ => None,
    }
}

/// X and Y of the classic table above (θ = 0, no mutation) for one locus: the reference the general
/// [`genotype_ki`] reduces to.
pub fn x_and_y(g1: (Allele, Allele), g2: (Allele, Allele), freq: impl Fn(Allele) -> f64) -> (f64, f64) {
    let f = &freq;
    let (a, b) = g1;
    let (c, d) = g2;
    let identical = g1 == g2;
    let y = if identical {
        if c == d {
            1.0 / (f(c) * f(c))
        } else {
            1.0 / (2.0 * f(c) * f(d))
        }
    } else {
        0.0
    };
    let x = if identical {
        if a == b {
            1.0 / f(a)
        } else {
            (f(a) + f(b)) / (4.0 * f(a) * f(b))
        }
    } else {
        // Shared alleles between non-identical genotypes: at most one distinct allele is shared.
        let shared = [c, d].into_iter().find(|x| *x == a || *x == b);
        match shared {
            None => 0.0,
            Some(s) => {
                let hom1 = a == b;
                let hom2 = c == d;
                if hom1 || hom2 {
                    // aa–ab or ab–aa
                    1.0 / (2.0 * f(s))
                } else {
                    // ab–ac
                    1.0 / (4.0 * f(s))
                }
            }
        }
    };
    (x, y)
}

/// Kinship index at one locus, `None` when the locus cannot be evaluated (wildcard, mixture, Amelogenin,
/// not in the frequency table).
pub fn locus_ki(
    locus: LocusId,
    probe: &[Allele],
    candidate: &[Allele],
    model: &KinshipModel,
    freqs: &AlleleFrequencies,
) -> Option<f64> {
    if locus == AMELOGENIN {
        return None;
    }
    let (g1, g2) = (pair(probe)?, pair(candidate)?);
    freqs.floor(locus)?;
    let f = |a: Allele| freqs.frequency(locus, a).unwrap_or(1.0);
    Some(genotype_ki(g1, g2, f, model))
}

/// Kinship index over all loci typed in both: the product of the per-locus indices (loci independent),
/// with the number of loci used. `model` is a [`KinshipModel`] or a bare [`Relationship`] (defaults).
pub fn kinship_index(
    probe: &Profile,
    candidate: &Profile,
    model: impl Into<KinshipModel>,
    freqs: &AlleleFrequencies,
) -> (f64, u32) {
    let model = model.into();
    let mut ki = 1.0;
    let mut used = 0;
    for t in &probe.loci {
        if let Some(other) = candidate.alleles(t.locus) {
            if let Some(k) = locus_ki(t.locus, &t.alleles, other, &model, freqs) {
                ki *= k;
                used += 1;
            }
        }
    }
    (ki, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        ((a - b) / b).abs() < 1e-12
    }

    #[test]
    fn x_and_y_by_hand() {
        let (a, b, c) = (Allele::Repeat(60), Allele::Repeat(70), Allele::Repeat(80));
        let f = |x: Allele| match x {
            Allele::Repeat(60) => 0.2,
            Allele::Repeat(70) => 0.1,
            _ => 0.05,
        };
        let (x, y) = x_and_y((a, a), (a, a), f);
        assert!(close(x, 1.0 / 0.2) && close(y, 1.0 / 0.04));
        let (x, y) = x_and_y((a, b), (a, b), f);
        assert!(close(x, 0.3 / (4.0 * 0.02)));
        assert!(close(y, 1.0 / (2.0 * 0.02)));
        assert!(close(x_and_y((a, a), (a, b), f).0, 1.0 / 0.4));
        assert!(close(x_and_y((a, b), (a, a), f).0, 1.0 / 0.4));
        assert!(close(x_and_y((a, b), (a, c), f).0, 1.0 / 0.8));
        assert_eq!(x_and_y((a, b), (c, c), f), (0.0, 0.0));
    }

    #[test]
    fn sibling_ki_combines_k() {
        // Identical heterozygotes p_a = 0.2, p_b = 0.1: KI = ¼ + ½·X + ¼·Y with X = 0.3/0.08, Y = 1/0.04.
        let (x, y) = (0.3 / 0.08, 1.0 / 0.04);
        let (k0, k1, k2) = Relationship::FullSibling.k();
        assert!(close(k0 + k1 * x + k2 * y, 0.25 + 0.5 * 3.75 + 0.25 * 25.0));
        assert!(Relationship::parse("full sibling").is_ok());
        assert!(Relationship::parse("cousin").is_err());
    }

    fn freq(x: Allele) -> f64 {
        match x {
            Allele::Repeat(100) => 0.2,
            Allele::Repeat(110) => 0.1,
            Allele::Repeat(120) => 0.25,
            Allele::Repeat(140) => 0.05,
            _ => 0.15,
        }
    }

    fn model(relationship: Relationship, theta: f64, mutation_rate: f64) -> KinshipModel {
        KinshipModel { relationship, theta, mutation_rate }.validate().unwrap()
    }

    #[test]
    fn without_theta_and_mutation_the_classic_table_holds() {
        let alleles = [100, 110, 120, 140].map(Allele::Repeat);
        let genotypes: Vec<(Allele, Allele)> =
            alleles.iter().flat_map(|&a| alleles.iter().filter(move |&&b| b >= a).map(move |&b| (a, b))).collect();
        for &g1 in &genotypes {
            for &g2 in &genotypes {
                let (x, y) = x_and_y(g1, g2, freq);
                let pc = genotype_ki(g1, g2, freq, &model(Relationship::ParentChild, 0.0, 0.0));
                let fs = genotype_ki(g1, g2, freq, &model(Relationship::FullSibling, 0.0, 0.0));
                assert!((pc - x).abs() <= 1e-12 * x.max(1.0), "{g1:?} {g2:?}: {pc} vs {x}");
                let want = 0.25 + 0.5 * x + 0.25 * y;
                assert!((fs - want).abs() <= 1e-12 * want, "{g1:?} {g2:?}: {fs} vs {want}");
            }
        }
    }

    #[test]
    fn theta_by_hand() {
        let (a, b, c) = (Allele::Repeat(100), Allele::Repeat(110), Allele::Repeat(120));
        let t = 0.03;
        let pc = model(Relationship::ParentChild, t, 0.0);
        // Parent–child ab–ac: X = (1+2θ) / (4[θ + (1−θ)p_a]).
        let want = (1.0 + 2.0 * t) / (4.0 * (t + (1.0 - t) * 0.2));
        assert!(close(genotype_ki((a, b), (a, c), freq, &pc), want));
        // Parent–child aa–aa: X = 1 / P(aa | aa) · P(aa | aa, one IBD) with NRC II's parent–offspring
        // homozygote [2θ + (1−θ)p]/(1+θ) over the 4.10a match probability [2θ+(1−θ)p][3θ+(1−θ)p]/[(1+θ)(1+2θ)].
        let p = 0.2;
        let want = ((2.0 * t + (1.0 - t) * p) / (1.0 + t))
            / ((2.0 * t + (1.0 - t) * p) * (3.0 * t + (1.0 - t) * p) / ((1.0 + t) * (1.0 + 2.0 * t)));
        assert!(close(genotype_ki((a, a), (a, a), freq, &pc), want));
        // Full siblings ab–ab: ¼ + ½·X + ¼·Y with P(ab | ab) = 2[θ+(1−θ)p][θ+(1−θ)q]/[(1+θ)(1+2θ)] (4.10b),
        // P(ab | ab, one IBD) = [2θ + (1−θ)(p+q)] / [2(1+θ)].
        let (p, q) = (0.2, 0.1);
        let p0 = 2.0 * (t + (1.0 - t) * p) * (t + (1.0 - t) * q) / ((1.0 + t) * (1.0 + 2.0 * t));
        let p1 = (2.0 * t + (1.0 - t) * (p + q)) / (2.0 * (1.0 + t));
        let want = 0.25 + 0.5 * p1 / p0 + 0.25 / p0;
        assert!(close(genotype_ki((a, b), (a, b), freq, &model(Relationship::FullSibling, t, 0.0)), want));
        // θ makes sharing an allele less surprising, so the index falls.
        let k0 = genotype_ki((a, b), (a, c), freq, &model(Relationship::ParentChild, 0.0, 0.0));
        assert!(genotype_ki((a, b), (a, c), freq, &pc) < k0);
    }

    #[test]
    fn one_step_mutation_by_hand() {
        let (a10, a11, a12, a14) = (Allele::Repeat(100), Allele::Repeat(110), Allele::Repeat(120), Allele::Repeat(140));
        let mu = 0.002;
        let pc = model(Relationship::ParentChild, 0.0, mu);
        // 10,12 and 11,14 share nothing; 11 is one step from 10 and from 12.
        // 10,12 → 11,14: P1 = ½(μ/2·p14) + ½(μ/2·p14) = μ p14 / 2; P0 = 2 p11 p14; X = μ / (4 p11).
        // 11,14 → 10,12: P1 = ½·μ/2·(p12 + p10); P0 = 2 p10 p12; X = μ (p10 + p12) / (8 p10 p12).
        let forward = mu / (4.0 * 0.1);
        let backward = mu * (0.2 + 0.25) / (8.0 * 0.2 * 0.25);
        let want = 0.5 * (forward + backward);
        assert!(close(genotype_ki((a10, a12), (a11, a14), freq, &pc), want));
        assert!(close(genotype_ki((a11, a14), (a10, a12), freq, &pc), want));
        // Two steps apart: still an exclusion.
        assert!(genotype_ki((a10, a10), (a12, a14), freq, &pc) <= 0.0);
        // A shared allele: the untouched transmission weighs 1−μ (ab–ac: (1−μ)/(4 p_a) plus the step terms).
        let shared = genotype_ki((a10, a11), (a10, a14), freq, &pc);
        // 10,11 → 10,14: t=10 gives (1−μ)p14; t=11 gives μ/2·p14 (11→10); P0 = 2 p10 p14.
        let fwd = 0.5 * ((1.0 - mu) * 0.05 + mu / 2.0 * 0.05) / (2.0 * 0.2 * 0.05);
        // 10,14 → 10,11: t=10 gives (1−μ)p11 + μ/2·p10 (10→11, other 10); t=14 nothing; P0 = 2 p10 p11.
        let bwd = 0.5 * ((1.0 - mu) * 0.1 + mu / 2.0 * 0.2) / (2.0 * 0.2 * 0.1);
        assert!(close(shared, 0.5 * (fwd + bwd)));
        // Microvariants step by whole repeats only within their own fraction.
        assert!(transmission(Allele::Repeat(93), Allele::Repeat(103), mu) > 0.0);
        assert!(transmission(Allele::Repeat(93), Allele::Repeat(100), mu) <= 0.0);
    }

    #[test]
    fn model_is_validated() {
        assert!(KinshipModel { theta: 0.6, ..KinshipModel::new(Relationship::ParentChild) }.validate().is_err());
        assert!(KinshipModel { mutation_rate: -0.1, ..KinshipModel::new(Relationship::ParentChild) }
            .validate()
            .is_err());
        assert!(KinshipModel { mutation_rate: f64::NAN, ..KinshipModel::new(Relationship::FullSibling) }
            .validate()
            .is_err());
    }
}
