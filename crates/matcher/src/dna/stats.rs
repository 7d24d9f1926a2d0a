//! Match statistics from allele frequency tables: random match probability (NRC II recommendations 4.1
//! and 4.10), the likelihood ratio of a full match and the expected number of adventitious matches in a
//! database search.
//!
//! NRC II = National Research Council, *The Evaluation of Forensic DNA Evidence* (1996).

use std::collections::HashMap;

use crate::error::{MatchError, MatchResult};

use super::allele::Allele;
use super::loci::{self, LocusId, AMELOGENIN};
use super::profile::Profile;

/// Allele frequencies per locus, with the sample size each locus was estimated from when known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlleleFrequencies {
    /// Name of the table (e.g. `nist1036-cauc`), recorded in outputs.
    pub name: String,
    tables: HashMap<LocusId, LocusFrequencies>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct LocusFrequencies {
    alleles: HashMap<Allele, f64>,
    /// Number of individuals typed (2N alleles), when the source gives it.
    individuals: Option<u32>,
}

impl AlleleFrequencies {
    /// Builds a table from parallel columns. Frequencies must lie in (0, 1]; a locus's listed
    /// frequencies must not sum above 1 (1.02 allowed for rounding); `individuals` (N) is per row and
    /// must agree within a locus.
    pub fn from_rows(
        name: &str,
        loci_col: &[LocusId],
        alleles: &[Allele],
        frequencies: &[f64],
        individuals: &[Option<u32>],
    ) -> MatchResult<AlleleFrequencies> {
        let n = loci_col.len();
        if alleles.len() != n || frequencies.len() != n || individuals.len() != n {
            return Err(MatchError::invalid("frequency columns must have the same length"));
        }
        let mut tables: HashMap<LocusId, LocusFrequencies> = HashMap::new();
        for i in 0..n {
            let (locus, allele, f) = (loci_col[i], alleles[i], frequencies[i]);
            if !(f.is_finite() && f > 0.0 && f <= 1.0) {
                return Err(MatchError::invalid(format!(
                    "frequency of {} {allele} is {f}, not in (0, 1]",
                    loci::name(locus)
                )));
            }
            let t = tables.entry(locus).or_default();
            if let Some(k) = individuals[i] {
                if k == 0 {
                    return Err(MatchError::invalid(format!("sample size of {} is 0", loci::name(locus))));
                }
                match t.individuals {
                    Some(prev) if prev != k => {
                        return Err(MatchError::invalid(format!(
                            "sample size of {} given as both {prev} and {k}",
                            loci::name(locus)
                        )))
                    }
                    _ => t.individuals = Some(k),
                }
            }
            *t.alleles.entry(allele).or_default() += f;
        }
        for (locus, t) in &tables {
            let total: f64 = t.alleles.values().sum();
            if total > 1.02 {
                return Err(MatchError::invalid(format!(
                    "frequencies of {} sum to {total:.4}, more than 1",
                    loci::name(*locus)
                )));
            }
        }
        Ok(AlleleFrequencies { name: name.to_owned(), tables })
    }

    /// Loci the table covers.
    pub fn loci(&self) -> Vec<LocusId> {
        let mut l: Vec<_> = self.tables.keys().copied().collect();
        l.sort_unstable();
        l
    }

    /// The minimum allele frequency at a locus: 5/2N (NRC II, section 4.2 "the minimum allele
    /// frequency should be 5/2N") when N is known, otherwise the smallest frequency the table lists there
    /// (population tables such as EuropaDB already floor rare alleles and give no N).
    pub fn floor(&self, locus: LocusId) -> Option<f64> {
        let t = self.tables.get(&locus)?;
        match t.individuals {
            Some(n) => Some(5.0 / (2.0 * f64::from(n))),
            None => t.alleles.values().copied().reduce(f64::min),
        }
    }

    /// Frequency used for an allele: the table's value raised to the floor; `None` when the table does not
    /// cover the locus (that locus is then left out of the statistic).
    pub fn frequency(&self, locus: LocusId, allele: Allele) -> Option<f64> {
        let floor = self.floor(locus)?;
        let listed = self.tables.get(&locus).and_then(|t| t.alleles.get(&allele)).copied().unwrap_or(0.0);
        Some(listed.max(floor))
    }
}

/// Genotype probability at one locus. With `theta` = 0 this is NRC II recommendation 4.1 (p² for a
/// homozygote, 2pq for a heterozygote); with `theta` > 0 it is the Balding–Nichols conditional match
/// probability of NRC II recommendation 4.10 (equations 4.10a and 4.10b):
/// homozygote `[2θ + (1−θ)p][3θ + (1−θ)p] / [(1+θ)(1+2θ)]`,
/// heterozygote `2[θ + (1−θ)p][θ + (1−θ)q] / [(1+θ)(1+2θ)]`.
pub fn genotype_probability(p: f64, q: Option<f64>, theta: f64) -> f64 {
    let denom = (1.0 + theta) * (1.0 + 2.0 * theta);
    match q {
        None => (2.0 * theta + (1.0 - theta) * p) * (3.0 * theta + (1.0 - theta) * p) / denom,
        Some(q) => 2.0 * (theta + (1.0 - theta) * p) * (theta + (1.0 - theta) * q) / denom,
    }
}

/// Checks `theta` (the coancestry coefficient F_ST): finite and in [0, 0.5).
pub fn check_theta(theta: f64) -> MatchResult<()> {
    if theta.is_finite() && (0.0..0.5).contains(&theta) {
        Ok(())
    } else {
        Err(MatchError::invalid(format!("theta must be in [0, 0.5), got {theta}")))
    }
}

/// Probability of the genotype at one locus, `None` when it cannot be evaluated (wildcard, off-ladder
/// without size, more than two alleles, or a locus the table does not cover).
pub fn locus_probability(locus: LocusId, alleles: &[Allele], freqs: &AlleleFrequencies, theta: f64) -> Option<f64> {
    if locus == AMELOGENIN || alleles.iter().any(|a| a.is_wildcard()) {
        return None;
    }
    match alleles {
        [a] => Some(genotype_probability(freqs.frequency(locus, *a)?, None, theta)),
        [a, b] => Some(genotype_probability(freqs.frequency(locus, *a)?, Some(freqs.frequency(locus, *b)?), theta)),
        _ => None,
    }
}

/// Random match probability of a single-source profile over the loci accepted by `include`: the product
/// of the per-locus genotype probabilities (product rule across loci, NRC II 4.1/4.10). Loci that cannot
/// be evaluated are left out; `None` when none is left.
pub fn random_match_probability(
    profile: &Profile,
    freqs: &AlleleFrequencies,
    theta: f64,
    include: impl Fn(LocusId) -> bool,
) -> Option<f64> {
    let mut rmp = 1.0;
    let mut used = 0;
    for t in &profile.loci {
        if !include(t.locus) {
            continue;
        }
        if let Some(p) = locus_probability(t.locus, &t.alleles, freqs, theta) {
            rmp *= p;
            used += 1;
        }
    }
    (used > 0).then_some(rmp)
}

/// Likelihood ratio of a full match, prosecution vs defence hypothesis (same source vs an unrelated
/// person): 1 / RMP.
pub fn likelihood_ratio(rmp: f64) -> f64 {
    1.0 / rmp
}

/// Expected number of unrelated profiles in a database of `database_size` that match by chance
/// (NRC II section 5.3: N × RMP).
pub fn expected_adventitious_matches(rmp: f64, database_size: u64) -> f64 {
    rmp * database_size as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        ((a - b) / b).abs() < 1e-12
    }

    fn table() -> AlleleFrequencies {
        let th01 = loci::lookup("TH01").unwrap();
        let fga = loci::lookup("FGA").unwrap();
        AlleleFrequencies::from_rows(
            "t",
            &[th01, th01, fga],
            &[Allele::Repeat(60), Allele::Repeat(93), Allele::Repeat(220)],
            &[0.2, 0.3, 0.1],
            &[Some(100), Some(100), None],
        )
        .unwrap()
    }

    #[test]
    fn nrc_ii_4_1_without_theta() {
        assert!(close(genotype_probability(0.2, None, 0.0), 0.04));
        assert!(close(genotype_probability(0.2, Some(0.3), 0.0), 0.12));
    }

    #[test]
    fn nrc_ii_4_10_hand_computed() {
        // Homozygote p = 0.1, θ = 0.01: (0.02 + 0.099)(0.03 + 0.099) / (1.01 · 1.02)
        //   = 0.119 · 0.129 / 1.0302 = 0.015351 / 1.0302 = 0.014901…
        let hom = genotype_probability(0.1, None, 0.01);
        assert!(close(hom, 0.119 * 0.129 / 1.0302));
        assert!((hom - 0.014_901).abs() < 1e-6);
        // Heterozygote p = 0.1, q = 0.2: 2 (0.01 + 0.099)(0.01 + 0.198) / 1.0302 = 2 · 0.109 · 0.208 / 1.0302
        let het = genotype_probability(0.1, Some(0.2), 0.01);
        assert!(close(het, 2.0 * 0.109 * 0.208 / 1.0302));
    }

    #[test]
    fn floor_is_five_over_two_n() {
        let t = table();
        let th01 = loci::lookup("TH01").unwrap();
        assert!(close(t.frequency(th01, Allele::Repeat(70)).unwrap(), 5.0 / 200.0));
        assert!(close(t.frequency(th01, Allele::Repeat(60)).unwrap(), 0.2));
        let fga = loci::lookup("FGA").unwrap();
        assert!(close(t.floor(fga).unwrap(), 0.1), "no N: smallest listed frequency");
        assert_eq!(t.frequency(loci::lookup("vWA").unwrap(), Allele::Repeat(170)), None);
    }

    #[test]
    fn profile_rmp_lr_and_expected_matches() {
        let t = table();
        let th01 = loci::lookup("TH01").unwrap();
        let fga = loci::lookup("FGA").unwrap();
        let p = Profile::new(
            super::super::profile::ProfileKind::Reference,
            [(th01, vec![Allele::Repeat(60), Allele::Repeat(93)]), (fga, vec![Allele::Repeat(220)])],
        );
        let rmp = random_match_probability(&p, &t, 0.0, |_| true).unwrap();
        assert!(close(rmp, 2.0 * 0.2 * 0.3 * 0.01));
        assert!(close(likelihood_ratio(rmp), 1.0 / rmp));
        assert!(close(expected_adventitious_matches(rmp, 1_000_000), rmp * 1e6));
    }

    #[test]
    fn bad_tables_and_theta_are_refused() {
        let th01 = loci::lookup("TH01").unwrap();
        assert!(AlleleFrequencies::from_rows("t", &[th01], &[Allele::Repeat(60)], &[1.5], &[None]).is_err());
        assert!(AlleleFrequencies::from_rows(
            "t",
            &[th01, th01],
            &[Allele::Repeat(60), Allele::Repeat(70)],
            &[0.7, 0.7],
            &[None, None]
        )
        .is_err());
        assert!(check_theta(-0.1).is_err());
        assert!(check_theta(f64::NAN).is_err());
        assert!(check_theta(0.01).is_ok());
    }
}
