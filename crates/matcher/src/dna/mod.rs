//! DNA STR-profile matching: the loci catalogue, allele parsing with the Prüm conversions, profiles and
//! their compact scan layout, Prüm and CODIS match rules, match statistics (NRC II), kinship indices for
//! familial search, the index with its searches and file format, and CODIS CMF XML.

// Genotype formulas name alleles a, b, c, d and frequencies p, q as the population-genetics literature does.
#![allow(clippy::many_single_char_names)]

pub mod allele;
pub mod cmf;
pub mod index;
pub mod kinship;
pub mod loci;
pub mod profile;
pub mod rules;
mod scan;
pub mod stats;

pub use index::{DnaIndex, Hit, KinshipHit};
pub use profile::{parse_long, ParsedProfiles, Profile, ProfileKind};
pub use rules::{MatchClass, MatchRules, Stringency};
pub use stats::AlleleFrequencies;
