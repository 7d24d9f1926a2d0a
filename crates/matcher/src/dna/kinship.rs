//! Kinship indices for familial searching: how much more likely two genotypes are if the people are
//! related as stated than if they are unrelated.
//!
//! Per locus KI = k0 + k1·X + k2·Y, with (k0, k1, k2) the probabilities that the two people share 0, 1 or
//! 2 alleles identical by descent (parent–child: 0, 1, 0; full siblings: ¼, ½, ¼), X the likelihood ratio
//! given one shared allele and Y the ratio given two (Y = 1/P(G2) when the genotypes are identical, else 0).
//! X for genotypes G1 (probe) and G2 (candidate), allele frequencies p (no θ correction; mutation not
//! modelled, so a parent–child exclusion at a locus gives KI = 0):
//!
//! | G1 | G2 | X |
//! |----|----|---|
//! | aa | aa | 1/p_a |
//! | aa | ab | 1/(2 p_a) |
//! | ab | aa | 1/(2 p_a) |
//! | ab | ab | (p_a + p_b)/(4 p_a p_b) |
//! | ab | ac | 1/(4 p_a) |
//! | any | no allele shared | 0 |
//!
//! (Standard identity-by-descent formulas; e.g. Butler, *Advanced Topics in Forensic DNA Typing:
//! Interpretation*, 2015, chapter on kinship.)

use super::allele::Allele;
use super::loci::{LocusId, AMELOGENIN};
use super::profile::Profile;
use super::stats::AlleleFrequencies;
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

/// X and Y of the table above for one locus.
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
    rel: Relationship,
    freqs: &AlleleFrequencies,
) -> Option<f64> {
    if locus == AMELOGENIN {
        return None;
    }
    let (g1, g2) = (pair(probe)?, pair(candidate)?);
    freqs.floor(locus)?;
    let f = |a: Allele| freqs.frequency(locus, a).unwrap_or(1.0);
    let (x, y) = x_and_y(g1, g2, f);
    let (k0, k1, k2) = rel.k();
    Some(k0 + k1 * x + k2 * y)
}

/// Kinship index over all loci typed in both: the product of the per-locus indices (loci independent),
/// with the number of loci used.
pub fn kinship_index(probe: &Profile, candidate: &Profile, rel: Relationship, freqs: &AlleleFrequencies) -> (f64, u32) {
    let mut ki = 1.0;
    let mut used = 0;
    for t in &probe.loci {
        if let Some(other) = candidate.alleles(t.locus) {
            if let Some(k) = locus_ki(t.locus, &t.alleles, other, rel, freqs) {
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
}
