//! Match rules as one validated parameter object with named presets, and the exact comparison of two
//! profiles under a rule (the index's scan only pre-selects candidates; this decides).
//!
//! Sources of the rules:
//! - Prüm: Council Decision 2008/616/JHA, annex, chapter 1, section 1.1 ("Matching rules"): the comparison
//!   uses the loci typed in both profiles; at least six fully designated loci, Amelogenin excluded, must
//!   match; a *full match* when all compared allele values are the same, a *near match* when the value of
//!   only one of all compared alleles differs; wildcards match any value (both permutations are tried);
//!   microvariants and non-numeric codes are converted as in `allele.rs`.
//! - CODIS search stringencies (FBI NDIS Operational Procedures; SWGDAM partial-match recommendations,
//!   Forensic Science Communications 11(4), 2009): *high* — the same alleles at every compared locus;
//!   *moderate* — at each compared locus the alleles of one profile are all among the other's (the routine
//!   search for stains, partial profiles and mixtures); *low* — at least one shared allele per locus.

use crate::error::{MatchError, MatchResult};

use super::allele::{Allele, PrumValue};
use super::loci::{self, LocusId, AMELOGENIN};
use super::profile::Profile;

/// The comparison a rule applies at each locus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stringency {
    /// Prüm: two-allele genotypes, microvariant classes, one differing allele allowed in a near match.
    Prum,
    /// CODIS high: identical allele sets.
    High,
    /// CODIS moderate: one allele set contained in the other.
    Moderate,
    /// CODIS low: at least one shared allele.
    Low,
}

impl Stringency {
    /// Name used in presets and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Stringency::Prum => "prum",
            Stringency::High => "codis-high",
            Stringency::Moderate => "codis-moderate",
            Stringency::Low => "codis-low",
        }
    }
}

/// A validated set of match rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRules {
    /// The per-locus comparison.
    pub stringency: Stringency,
    /// Fewest matching loci for a hit (Amelogenin never counts).
    pub min_loci: u32,
    /// Most mismatching alleles a hit may carry (Prüm near match: 1).
    pub max_mismatches: u32,
    /// Compare only these loci (`None`: every locus typed in both).
    pub loci: Option<Vec<LocusId>>,
}

/// Names of the presets, for error messages and the CLI.
pub const PRESETS: &[&str] = &["prum", "codis-high", "codis-moderate", "codis-low"];

impl MatchRules {
    /// A named preset: `prum` (6 loci, one mismatching allele for a near match), `codis-high`,
    /// `codis-moderate`, `codis-low` (8 loci: the NDIS minimum of original core loci for a forensic
    /// unknown; no mismatch).
    pub fn preset(name: &str) -> MatchResult<MatchRules> {
        let stringency = match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "prum" | "prüm" => Stringency::Prum,
            "codis-high" => Stringency::High,
            "codis-moderate" => Stringency::Moderate,
            "codis-low" => Stringency::Low,
            other => {
                return Err(MatchError::invalid(format!("unknown rules '{other}'; presets are {}", PRESETS.join(", "))))
            }
        };
        let (min_loci, max_mismatches) = if stringency == Stringency::Prum { (6, 1) } else { (8, 0) };
        Ok(MatchRules { stringency, min_loci, max_mismatches, loci: None })
    }

    /// Checks the parameters: at least one locus, mismatches within what a profile can carry, a locus
    /// restriction of known STR loci only.
    pub fn validate(self) -> MatchResult<MatchRules> {
        if self.min_loci == 0 || self.min_loci as usize > loci::CATALOGUE.len() {
            return Err(MatchError::invalid(format!(
                "min_loci must be between 1 and {}, got {}",
                loci::CATALOGUE.len(),
                self.min_loci
            )));
        }
        if self.max_mismatches > 64 {
            return Err(MatchError::invalid(format!("max_mismatches must be at most 64, got {}", self.max_mismatches)));
        }
        if let Some(list) = &self.loci {
            if list.is_empty() {
                return Err(MatchError::invalid("loci restriction is empty"));
            }
            if list.contains(&AMELOGENIN) {
                return Err(MatchError::invalid("Amelogenin is a sex marker and never a matching locus"));
            }
        }
        Ok(self)
    }

    /// Restricts the comparison to named loci (any spelling of the alias table).
    pub fn with_loci(mut self, names: &[&str]) -> MatchResult<MatchRules> {
        let mut ids = Vec::with_capacity(names.len());
        for n in names {
            let id = loci::lookup(n).ok_or_else(|| MatchError::invalid(format!("unknown locus '{n}' in rules")))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        self.loci = Some(ids);
        self.validate()
    }

    /// True when `locus` takes part in comparisons under these rules.
    pub fn compares(&self, locus: LocusId) -> bool {
        locus != AMELOGENIN && self.loci.as_ref().is_none_or(|l| l.binary_search(&locus).is_ok())
    }
}

/// How strong a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchClass {
    /// Every compared allele agrees (Prüm full match, CODIS identical).
    Full = 0,
    /// No mismatch, but some loci agree only by inclusion or sharing (CODIS moderate / low).
    Partial = 1,
    /// Within the allowed mismatching alleles (Prüm near match).
    Near = 2,
}

impl MatchClass {
    /// Name written to `match_class`.
    pub fn name(self) -> &'static str {
        match self {
            MatchClass::Full => "full",
            MatchClass::Partial => "partial",
            MatchClass::Near => "near",
        }
    }
}

/// Outcome of comparing two profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    /// Loci typed in both and compared.
    pub loci_compared: u32,
    /// Compared loci that match and count towards `min_loci`.
    pub loci_matched: u32,
    /// Alleles that differ, summed over compared loci.
    pub mismatched_alleles: u32,
    /// True when every compared locus is identical under the rule's equivalence.
    pub identical: bool,
}

impl Comparison {
    /// The hit class, or `None` when the rules do not call this a hit.
    pub fn class(&self, rules: &MatchRules) -> Option<MatchClass> {
        if self.loci_matched < rules.min_loci || self.mismatched_alleles > rules.max_mismatches {
            return None;
        }
        Some(if self.mismatched_alleles > 0 {
            MatchClass::Near
        } else if self.identical {
            MatchClass::Full
        } else {
            MatchClass::Partial
        })
    }
}

/// Prüm values of a locus as a two-element multiset: a homozygote counts its allele twice; more than two
/// alleles (a stain's mixture locus) follow the annex's third-allele rule (first allele and a wildcard).
fn prum_pair(alleles: &[Allele], locus: LocusId) -> [PrumValue; 2] {
    match alleles {
        [a] => [a.prum_value(locus); 2],
        [a, b] => [a.prum_value(locus), b.prum_value(locus)],
        [a, ..] => [a.prum_value(locus), PrumValue::Any],
        [] => [PrumValue::Any; 2],
    }
}

fn prum_eq(a: PrumValue, b: PrumValue) -> bool {
    a == PrumValue::Any || b == PrumValue::Any || a == b
}

/// Mismatching alleles at one locus under Prüm: 2 minus the best pairing of the two multisets ("when
/// wild card values are provided ... both permutations ... will be searched").
fn prum_locus(p: &[Allele], r: &[Allele], locus: LocusId) -> (u32, bool) {
    let (a, b) = (prum_pair(p, locus), prum_pair(r, locus));
    let straight = u32::from(prum_eq(a[0], b[0])) + u32::from(prum_eq(a[1], b[1]));
    let crossed = u32::from(prum_eq(a[0], b[1])) + u32::from(prum_eq(a[1], b[0]));
    let designated = !a.contains(&PrumValue::Any) && !b.contains(&PrumValue::Any);
    (2 - straight.max(crossed), designated)
}

/// Alleles of `a` not covered by `b` (a wildcard in `b` covers everything).
fn uncovered(a: &[Allele], b: &[Allele]) -> u32 {
    if b.contains(&Allele::Wildcard) {
        return 0;
    }
    a.iter().filter(|x| !x.is_wildcard() && !b.contains(x)).count() as u32
}

/// Outcome at one locus typed in both: (mismatching alleles, counts towards `min_loci`, identical).
pub fn locus_outcome(locus: LocusId, pa: &[Allele], ra: &[Allele], stringency: Stringency) -> (u32, bool, bool) {
    match stringency {
        Stringency::Prum => {
            let (miss, designated) = prum_locus(pa, ra, locus);
            // "At least six full designated loci": a locus matched only through a wildcard is compared
            // but does not count towards the minimum.
            (miss, designated, true)
        }
        Stringency::High => (uncovered(pa, ra) + uncovered(ra, pa), true, true),
        Stringency::Moderate => {
            let (x, y) = (uncovered(pa, ra), uncovered(ra, pa));
            (x.min(y), true, x == 0 && y == 0)
        }
        Stringency::Low => {
            let (x, y) = (uncovered(pa, ra), uncovered(ra, pa));
            let shares = (pa.len() as u32 - x) > 0 || ra.contains(&Allele::Wildcard) || pa.contains(&Allele::Wildcard);
            (if shares { 0 } else { x.min(y).max(1) }, true, x == 0 && y == 0)
        }
    }
}

/// Compares two profiles locus by locus under `rules`.
pub fn compare(probe: &Profile, reference: &Profile, rules: &MatchRules) -> Comparison {
    let mut c = Comparison { loci_compared: 0, loci_matched: 0, mismatched_alleles: 0, identical: true };
    let (mut i, mut j) = (0, 0);
    while i < probe.loci.len() && j < reference.loci.len() {
        let (p, r) = (&probe.loci[i], &reference.loci[j]);
        if p.locus < r.locus {
            i += 1;
            continue;
        }
        if r.locus < p.locus {
            j += 1;
            continue;
        }
        i += 1;
        j += 1;
        let locus = p.locus;
        if !rules.compares(locus) {
            continue;
        }
        c.loci_compared += 1;
        let (miss, counts, identical) = locus_outcome(locus, &p.alleles, &r.alleles, rules.stringency);
        if miss == 0 {
            if counts {
                c.loci_matched += 1;
            }
            c.identical &= identical;
        } else {
            c.mismatched_alleles += miss;
            c.identical = false;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dna::allele::parse;

    /// A profile from `locus: alleles` text, e.g. `"TH01 9,9.3; FGA 22"`.
    pub(crate) fn profile(text: &str) -> Profile {
        let typings = text.split(';').filter(|s| !s.trim().is_empty()).map(|part| {
            let (name, alleles) = part.trim().rsplit_once(' ').unwrap();
            let locus = loci::lookup(name).unwrap();
            (locus, alleles.split(',').map(|a| parse(a, locus).unwrap()).collect::<Vec<_>>())
        });
        Profile::new(super::super::profile::ProfileKind::Reference, typings)
    }

    const SIX: &str = "D3S1358 15,16; vWA 17,18; D8S1179 13,14; D21S11 29,30; D18S51 14,15; TH01 6,9.3";

    fn prum() -> MatchRules {
        MatchRules::preset("prum").unwrap()
    }

    #[test]
    fn self_match_is_full() {
        let p = profile(SIX);
        let c = compare(&p, &p, &prum());
        assert_eq!((c.loci_compared, c.loci_matched, c.mismatched_alleles), (6, 6, 0));
        assert_eq!(c.class(&prum()), Some(MatchClass::Full));
    }

    #[test]
    fn one_differing_allele_is_near_two_is_no_hit() {
        let p = profile(SIX);
        let one = profile(&SIX.replace("TH01 6,9.3", "TH01 7,9.3").replace("FGA", "x"));
        let c = compare(&p, &one, &prum());
        assert_eq!(c.mismatched_alleles, 1);
        assert_eq!(c.class(&prum()), None, "only 5 matched loci left");
        let p7 = profile(&format!("{SIX}; FGA 22,23"));
        let one7 = profile(&format!("{}; FGA 22,23", SIX.replace("TH01 6,9.3", "TH01 7,9.3")));
        assert_eq!(compare(&p7, &one7, &prum()).class(&prum()), Some(MatchClass::Near));
        let two7 = profile(&format!("{}; FGA 22,24", SIX.replace("TH01 6,9.3", "TH01 7,9.3")));
        let c = compare(&p7, &two7, &prum());
        assert_eq!(c.mismatched_alleles, 2);
        assert_eq!(c.class(&prum()), None);
    }

    #[test]
    fn fewer_than_six_loci_is_no_prum_hit() {
        let five = profile("D3S1358 15,16; vWA 17,18; D8S1179 13,14; D21S11 29,30; D18S51 14,15");
        assert_eq!(compare(&five, &five, &prum()).class(&prum()), None);
    }

    #[test]
    fn amelogenin_never_counts() {
        let p = profile(&SIX.replace("; TH01 6,9.3", "; AMEL X,Y"));
        let c = compare(&p, &p, &prum());
        assert_eq!((c.loci_compared, c.loci_matched), (5, 5));
        let q = profile(&SIX.replace("; TH01 6,9.3", "; AMEL X"));
        assert_eq!(compare(&p, &q, &prum()).mismatched_alleles, 0);
    }

    #[test]
    fn loci_missing_on_either_side_are_not_compared() {
        let p = profile(&format!("{SIX}; FGA 22,23"));
        let q = profile(&format!("{SIX}; D2S441 10,11"));
        let c = compare(&p, &q, &prum());
        assert_eq!((c.loci_compared, c.loci_matched), (6, 6));
        assert_eq!(c.class(&prum()), Some(MatchClass::Full));
    }

    #[test]
    fn wildcard_matches_any_allele_but_does_not_count() {
        let p = profile(&format!("{SIX}; FGA 22,23"));
        let q = profile(&format!("{SIX}; FGA 22,*"));
        let c = compare(&p, &q, &prum());
        assert_eq!((c.loci_compared, c.loci_matched, c.mismatched_alleles), (7, 6, 0));
        let r = profile(&format!("{SIX}; FGA 19,*"));
        assert_eq!(compare(&p, &r, &prum()).mismatched_alleles, 1);
        let s = profile(&format!("{SIX}; FGA 23,*"));
        assert_eq!(compare(&p, &s, &prum()).mismatched_alleles, 0, "both permutations are tried");
    }

    #[test]
    fn microvariants_follow_the_prum_conversion() {
        let p = profile(SIX);
        let q = profile(&SIX.replace("TH01 6,9.3", "TH01 6,9"));
        assert_eq!(compare(&p, &q, &prum()).mismatched_alleles, 0);
        let high = MatchRules { min_loci: 6, ..MatchRules::preset("codis-high").unwrap() };
        assert_eq!(compare(&p, &q, &high).mismatched_alleles, 2, "CODIS compares designations exactly");
        let pd = profile("Penta D 9.3");
        let pd10 = profile("Penta D 10");
        assert_eq!(compare(&pd, &pd10, &prum()).mismatched_alleles, 0, "pentanucleotide x.3 = x+1");
    }

    #[test]
    fn homozygote_written_once_or_twice() {
        let a = profile("TH01 9");
        let b = profile("TH01 9,9");
        assert_eq!(a, b);
        let het = profile("TH01 9,10");
        assert_eq!(compare(&a, &het, &prum()).mismatched_alleles, 1);
    }

    #[test]
    fn codis_stringencies() {
        let r = |s| MatchRules { min_loci: 1, ..MatchRules::preset(s).unwrap() };
        let reference = profile("TH01 6,9; FGA 22,23");
        let partial = profile("TH01 6; FGA 22,23");
        let mixture = profile("TH01 6,7,9; FGA 21,22,23");
        let sharing = profile("TH01 6,8; FGA 23,24");
        let cmp = |a: &Profile, s| compare(a, &reference, &r(s)).class(&r(s));
        assert_eq!(cmp(&reference, "codis-high"), Some(MatchClass::Full));
        assert_eq!(cmp(&partial, "codis-high"), None);
        assert_eq!(cmp(&partial, "codis-moderate"), Some(MatchClass::Partial));
        assert_eq!(cmp(&mixture, "codis-moderate"), Some(MatchClass::Partial));
        assert_eq!(cmp(&sharing, "codis-moderate"), None);
        assert_eq!(cmp(&sharing, "codis-low"), Some(MatchClass::Partial));
        assert_eq!(cmp(&profile("TH01 7,8; FGA 23"), "codis-low"), None);
    }

    #[test]
    fn rules_are_validated() {
        assert!(MatchRules::preset("nope").is_err());
        assert!(MatchRules { min_loci: 0, ..prum() }.validate().is_err());
        assert!(prum().with_loci(&["AMEL"]).is_err());
        assert!(prum().with_loci(&["D99"]).is_err());
        let r = prum().with_loci(&["TH01", "vWA"]).unwrap();
        assert!(r.compares(loci::lookup("TH01").unwrap()));
        assert!(!r.compares(loci::lookup("FGA").unwrap()));
    }
}
