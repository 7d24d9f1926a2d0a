//! Allele designations as they appear in real files, parsed into one small value type, plus the Prüm
//! conversions (Council Decision 2008/616/JHA, annex, chapter 1, section 1.1).

use std::fmt;

use super::loci::{self, LocusId};

/// Largest repeat number accepted (SE33 and FGA alleles stay below 60; larger is a typing error).
pub const MAX_REPEAT: u16 = 199;

/// One allele designation.
///
/// Repeat numbers are held in tenths so that a microvariant `x.y` (`9.3`) is one integer (`93`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Allele {
    /// A sized allele `x` or microvariant `x.y`, in tenths of a repeat.
    Repeat(u16),
    /// Off-ladder below the lowest ladder allele `x` (`<x`), in tenths.
    Below(u16),
    /// Off-ladder above the highest ladder allele `x` (`>x`), in tenths.
    Above(u16),
    /// Off-ladder without a size (`OL`).
    OffLadder,
    /// Amelogenin X.
    X,
    /// Amelogenin Y.
    Y,
    /// The Prüm wildcard `*`: matches any allele at its locus.
    Wildcard,
}

/// Why an allele designation was not accepted; `reason()` is the sentence written to `rejects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlleleReject {
    /// Nothing in the cell.
    Empty,
    /// Not a number, microvariant, off-ladder code or wildcard (`abc`, `12.34.5`).
    NotAnAllele(String),
    /// A negative repeat number.
    Negative(String),
    /// A repeat number above [`MAX_REPEAT`].
    TooLarge(String),
    /// `X`/`Y` away from Amelogenin, or a number at Amelogenin.
    WrongLocus(String, &'static str),
}

impl AlleleReject {
    /// The sentence a person reads in `rejects`.
    pub fn reason(&self) -> String {
        match self {
            AlleleReject::Empty => "empty allele".to_owned(),
            AlleleReject::NotAnAllele(s) => {
                format!("allele '{s}' is not a repeat number, microvariant x.y, off-ladder code or wildcard")
            }
            AlleleReject::Negative(s) => format!("allele '{s}' is negative"),
            AlleleReject::TooLarge(s) => format!("allele '{s}' is larger than {MAX_REPEAT} repeats"),
            AlleleReject::WrongLocus(s, l) => format!("allele '{s}' is not possible at {l}"),
        }
    }
}

/// Non-numeric codes that the Prüm annex converts to the wildcard ("o", "f", "r", "na", "nr", "un": 'any
/// non-numerical value except amelogenin ... has to be automatically converted ... to a wild card (*)').
const PRUM_WILDCARD_CODES: &[&str] = &["*", "O", "F", "R", "NA", "NR", "UN"];

/// Parses a repeat number `x` or `x.y` into tenths.
fn parse_tenths(text: &str, original: &str) -> Result<u16, AlleleReject> {
    let bad = || AlleleReject::NotAnAllele(original.to_owned());
    if let Some(rest) = text.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(AlleleReject::Negative(original.to_owned()));
        }
        return Err(bad());
    }
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    if int.is_empty() || int.len() > 4 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u16 = int.parse().map_err(|_| bad())?;
    // A microvariant has exactly one digit after the point (`9.3`); `12.34` or `12.3.4` is a typo.
    let tenth = match frac {
        None => 0,
        Some(f) if f.len() == 1 && f.as_bytes()[0].is_ascii_digit() => u16::from(f.as_bytes()[0] - b'0'),
        Some(_) => return Err(bad()),
    };
    if whole > MAX_REPEAT {
        return Err(AlleleReject::TooLarge(original.to_owned()));
    }
    Ok(whole * 10 + tenth)
}

/// Parses one designation at a locus. Numbers `0`, `1` and `99` and the non-numeric Prüm codes become the
/// wildcard, as the Prüm annex prescribes; `X`/`Y` are accepted only at Amelogenin.
pub fn parse(text: &str, locus: LocusId) -> Result<Allele, AlleleReject> {
    let t = text.trim();
    if t.is_empty() {
        return Err(AlleleReject::Empty);
    }
    let upper = t.to_ascii_uppercase();
    if locus == loci::AMELOGENIN {
        return match upper.as_str() {
            "X" => Ok(Allele::X),
            "Y" => Ok(Allele::Y),
            _ => Err(AlleleReject::WrongLocus(t.to_owned(), "Amelogenin")),
        };
    }
    if upper == "X" || upper == "Y" {
        return Err(AlleleReject::WrongLocus(t.to_owned(), loci::name(locus)));
    }
    if PRUM_WILDCARD_CODES.contains(&upper.as_str()) {
        return Ok(Allele::Wildcard);
    }
    if upper == "OL" {
        return Ok(Allele::OffLadder);
    }
    if let Some(rest) = upper.strip_prefix('<') {
        return parse_tenths(rest.trim(), t).map(Allele::Below);
    }
    if let Some(rest) = upper.strip_prefix('>') {
        return parse_tenths(rest.trim(), t).map(Allele::Above);
    }
    let tenths = parse_tenths(&upper, t)?;
    // Prüm annex: 'numerical values 0, 1 or 99 ... have to be automatically converted ... to a wild card'.
    if matches!(tenths, 0 | 10 | 990) {
        return Ok(Allele::Wildcard);
    }
    Ok(Allele::Repeat(tenths))
}

/// How an allele compares under the Prüm rule: its equivalent whole repeat number, or anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrumValue {
    /// Compared as this whole repeat number.
    Repeat(u16),
    /// Matches any allele (wildcards and every non-numeric designation).
    Any,
}

impl Allele {
    /// The Prüm comparison value. Annex 1.1: pentanucleotide microvariants (Penta D, Penta E, CD4) match as
    /// x.1 = x, x.2 = x, x.3 = x+1, x.4 = x+1; tetranucleotide microvariants (all other loci) as x.1 = x,
    /// x.2 = x, x.3 = x, x.4 = x+1. Off-ladder codes are non-numeric and become the wildcard.
    pub fn prum_value(self, locus: LocusId) -> PrumValue {
        match self {
            Allele::Repeat(t) => {
                let (whole, tenth) = (t / 10, t % 10);
                let penta = loci::info(locus).is_some_and(|l| l.repeat == 5);
                let up = if penta { tenth >= 3 } else { tenth >= 4 };
                PrumValue::Repeat(whole + u16::from(up))
            }
            Allele::X | Allele::Y => PrumValue::Repeat(0),
            Allele::Below(_) | Allele::Above(_) | Allele::OffLadder | Allele::Wildcard => PrumValue::Any,
        }
    }

    /// True for `*`.
    pub fn is_wildcard(self) -> bool {
        self == Allele::Wildcard
    }

    /// Sort key that puts Prüm-equivalent designations next to each other (used to lay out allele codes so
    /// that a Prüm class is a contiguous code range).
    pub fn prum_order(self, locus: LocusId) -> (PrumValue, Allele) {
        (self.prum_value(locus), self)
    }

    /// Packs the allele into 32 bits for the index file: tag in the top byte, tenths below.
    pub fn to_bits(self) -> u32 {
        match self {
            Allele::Repeat(t) => u32::from(t),
            Allele::Below(t) => (1 << 24) | u32::from(t),
            Allele::Above(t) => (2 << 24) | u32::from(t),
            Allele::OffLadder => 3 << 24,
            Allele::X => 4 << 24,
            Allele::Y => 5 << 24,
            Allele::Wildcard => 6 << 24,
        }
    }

    /// Inverse of [`Allele::to_bits`]; `None` for bits no allele packs to.
    pub fn from_bits(bits: u32) -> Option<Allele> {
        let t = u16::try_from(bits & 0x00ff_ffff).ok()?;
        let ok = t <= MAX_REPEAT * 10 + 9;
        match bits >> 24 {
            0 if ok => Some(Allele::Repeat(t)),
            1 if ok => Some(Allele::Below(t)),
            2 if ok => Some(Allele::Above(t)),
            3 if t == 0 => Some(Allele::OffLadder),
            4 if t == 0 => Some(Allele::X),
            5 if t == 0 => Some(Allele::Y),
            6 if t == 0 => Some(Allele::Wildcard),
            _ => None,
        }
    }
}

fn write_tenths(f: &mut fmt::Formatter<'_>, t: u16) -> fmt::Result {
    if t.is_multiple_of(10) {
        write!(f, "{}", t / 10)
    } else {
        write!(f, "{}.{}", t / 10, t % 10)
    }
}

impl fmt::Display for Allele {
    /// The designation as written in files (`9.3`, `<8`, `OL`, `X`, `*`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Allele::Repeat(t) => write_tenths(f, t),
            Allele::Below(t) => {
                f.write_str("<")?;
                write_tenths(f, t)
            }
            Allele::Above(t) => {
                f.write_str(">")?;
                write_tenths(f, t)
            }
            Allele::OffLadder => f.write_str("OL"),
            Allele::X => f.write_str("X"),
            Allele::Y => f.write_str("Y"),
            Allele::Wildcard => f.write_str("*"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn th01() -> LocusId {
        loci::lookup("TH01").unwrap()
    }

    #[test]
    fn parses_integers_microvariants_and_codes() {
        let l = th01();
        assert_eq!(parse("9", l), Ok(Allele::Repeat(90)));
        assert_eq!(parse(" 9.3 ", l), Ok(Allele::Repeat(93)));
        assert_eq!(parse("<5", l), Ok(Allele::Below(50)));
        assert_eq!(parse(">13.3", l), Ok(Allele::Above(133)));
        assert_eq!(parse("ol", l), Ok(Allele::OffLadder));
        assert_eq!(parse("*", l), Ok(Allele::Wildcard));
        let amel = loci::AMELOGENIN;
        assert_eq!(parse("x", amel), Ok(Allele::X));
        assert_eq!(parse("Y", amel), Ok(Allele::Y));
    }

    #[test]
    fn prum_conversions_to_wildcard() {
        let l = th01();
        for code in ["0", "1", "99", "o", "f", "r", "na", "NR", "un"] {
            assert_eq!(parse(code, l), Ok(Allele::Wildcard), "{code}");
        }
    }

    #[test]
    fn garbage_is_rejected_with_a_reason() {
        let l = th01();
        assert!(matches!(parse("abc", l), Err(AlleleReject::NotAnAllele(_))));
        assert!(matches!(parse("-3", l), Err(AlleleReject::Negative(_))));
        assert!(matches!(parse("12.34.5", l), Err(AlleleReject::NotAnAllele(_))));
        assert!(matches!(parse("12.34", l), Err(AlleleReject::NotAnAllele(_))));
        assert!(matches!(parse("", l), Err(AlleleReject::Empty)));
        assert!(matches!(parse("X", l), Err(AlleleReject::WrongLocus(..))));
        assert!(matches!(parse("12", loci::AMELOGENIN), Err(AlleleReject::WrongLocus(..))));
        assert!(matches!(parse("500", l), Err(AlleleReject::TooLarge(_))));
        assert!(parse("abc", l).unwrap_err().reason().contains("abc"));
    }

    #[test]
    fn prum_microvariant_rule() {
        let tetra = th01();
        let penta = loci::lookup("Penta D").unwrap();
        let v = |t, l| Allele::Repeat(t).prum_value(l);
        assert_eq!(v(91, tetra), PrumValue::Repeat(9));
        assert_eq!(v(93, tetra), PrumValue::Repeat(9));
        assert_eq!(v(94, tetra), PrumValue::Repeat(10));
        assert_eq!(v(92, penta), PrumValue::Repeat(9));
        assert_eq!(v(93, penta), PrumValue::Repeat(10));
        assert_eq!(Allele::OffLadder.prum_value(tetra), PrumValue::Any);
    }

    #[test]
    fn bits_and_display_round_trip() {
        for a in [
            Allele::Repeat(93),
            Allele::Repeat(120),
            Allele::Below(80),
            Allele::Above(133),
            Allele::OffLadder,
            Allele::X,
            Allele::Y,
            Allele::Wildcard,
        ] {
            assert_eq!(Allele::from_bits(a.to_bits()), Some(a));
            let l = if matches!(a, Allele::X | Allele::Y) { loci::AMELOGENIN } else { th01() };
            assert_eq!(parse(&a.to_string(), l), Ok(a));
        }
        assert_eq!(Allele::from_bits(9 << 24), None);
    }
}
