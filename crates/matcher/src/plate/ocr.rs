//! OCR-equivalence classes: characters an ANPR camera or a person confuses on a plate (0/O/D/Q, 8/B, …).
//! Matching folds every character to its class representative, so look-alike swaps cost nothing in the
//! candidate index and little in the weighted edit distance.

use crate::error::{MatchError, MatchResult};
use crate::plate::normalise::normalise_plate;

/// The default classes. The first six are the confusions named in the issue (and in every ANPR vendor's
/// confusion table): 0/O/D/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B. The others are the next most frequent confusions of
/// segmenting OCR on worn or dirty plates: 7/T (the crossbar), 4/A (the open top of a 4), U/V (a rounded or
/// pointed base) and E/F (a lost lower bar). Each class must stay small: every extra member widens the
/// folded key space's collisions, which is what makes random reads hit.
pub const DEFAULT_OCR_CLASSES: [&str; 10] = ["0ODQ", "1IL", "2Z", "5S", "6G", "8B", "7T", "4A", "UV", "EF"];

/// Partition of characters into look-alike classes; characters in no class are their own class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrClasses {
    /// The classes as given (normalised, de-duplicated), kept for saving and display.
    classes: Vec<String>,
    /// ASCII fast path: representative of each ASCII character.
    ascii: [char; 128],
    /// `ascii` as bytes: an ASCII character's representative is ASCII too (it is the class's smallest code
    /// point), so ASCII keys can be compared byte by byte without decoding to `char`s.
    ascii_bytes: [u8; 128],
    /// Non-ASCII members and their representatives, sorted by member.
    other: Vec<(char, char)>,
}

impl Default for OcrClasses {
    fn default() -> Self {
        // The defaults are valid by construction (tested below); fall back to no classes rather than panic.
        OcrClasses::new(&DEFAULT_OCR_CLASSES).unwrap_or_else(|_| OcrClasses::none())
    }
}

impl OcrClasses {
    /// No look-alikes at all: the folded key is the key itself (plain edit distance).
    pub fn none() -> Self {
        let mut ascii = ['\0'; 128];
        for (i, slot) in ascii.iter_mut().enumerate() {
            *slot = char::from(i as u8);
        }
        let ascii_bytes = std::array::from_fn(|i| i as u8);
        OcrClasses { classes: Vec::new(), ascii, ascii_bytes, other: Vec::new() }
    }

    /// Builds classes from strings of look-alike characters (`["0ODQ", "8B"]`); each string is normalised
    /// like a plate. A character may belong to one class only (classes are an equivalence, so
    /// overlapping classes would silently merge).
    pub fn new<S: AsRef<str>>(classes: &[S]) -> MatchResult<Self> {
        let mut out = OcrClasses::none();
        let mut seen: Vec<char> = Vec::new();
        for raw in classes {
            let raw = raw.as_ref();
            let class = normalise_plate(raw, false)
                .map_err(|why| MatchError::invalid(format!("OCR class {raw:?}: {}", why.reason())))?;
            let mut members: Vec<char> = class.chars().collect();
            members.dedup();
            members.sort_unstable();
            members.dedup();
            if members.len() < 2 {
                return Err(MatchError::invalid(format!("OCR class {raw:?} needs at least two different characters")));
            }
            if let Some(c) = members.iter().find(|c| seen.contains(c)) {
                return Err(MatchError::invalid(format!("character {c:?} is in more than one OCR class")));
            }
            seen.extend(&members);
            let rep = members[0];
            for &m in &members {
                if let Some(slot) = out.ascii.get_mut(m as usize) {
                    *slot = rep;
                    // `rep <= m < 128`, so the conversion never fails.
                    if let (Some(byte), Ok(rep)) = (out.ascii_bytes.get_mut(m as usize), u8::try_from(rep)) {
                        *byte = rep;
                    }
                } else {
                    out.other.push((m, rep));
                }
            }
            out.classes.push(members.into_iter().collect());
        }
        out.other.sort_unstable();
        Ok(out)
    }

    /// The classes, each as a string of its members in code-point order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The representative of `c`'s class (the smallest member); `c` itself when it is in no class.
    #[inline]
    pub fn fold(&self, c: char) -> char {
        if let Some(&rep) = self.ascii.get(c as usize) {
            rep
        } else {
            match self.other.binary_search_by_key(&c, |&(m, _)| m) {
                Ok(i) => self.other[i].1,
                Err(_) => c,
            }
        }
    }

    /// [`Self::fold`] of an ASCII byte (bytes above 127 are returned unchanged: callers use this on ASCII keys).
    #[inline]
    pub fn fold_byte(&self, b: u8) -> u8 {
        self.ascii_bytes.get(usize::from(b)).copied().unwrap_or(b)
    }

    /// True when `a` and `b` are different characters of the same class.
    #[inline]
    pub fn lookalike(&self, a: char, b: char) -> bool {
        a != b && self.fold(a) == self.fold(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_fold_to_one_representative() {
        let c = OcrClasses::new(&DEFAULT_OCR_CLASSES).unwrap();
        assert_eq!(c, OcrClasses::default());
        assert_eq!(c.fold('O'), '0');
        assert_eq!(c.fold('Q'), '0');
        assert_eq!(c.fold('B'), '8');
        assert_eq!(c.fold('X'), 'X');
        assert!(c.lookalike('S', '5'));
        assert!(!c.lookalike('S', 'S'));
        assert!(!c.lookalike('S', 'B'));
    }

    #[test]
    fn classes_are_normalised_and_may_hold_other_scripts() {
        let c = OcrClasses::new(&["o0", "ЖX"]).unwrap();
        assert_eq!(c.classes(), ["0O", "XЖ"]);
        assert!(c.lookalike('Ж', 'X'));
    }

    #[test]
    fn byte_fold_equals_char_fold_on_ascii() {
        for c in [OcrClasses::default(), OcrClasses::new(&["o0", "ЖX", "1I"]).unwrap(), OcrClasses::none()] {
            for b in 0..128_u8 {
                assert_eq!(char::from(c.fold_byte(b)), c.fold(char::from(b)), "{b}");
            }
        }
    }

    #[test]
    fn overlapping_or_trivial_classes_are_refused() {
        assert!(OcrClasses::new(&["0O", "OD"]).is_err());
        assert!(OcrClasses::new(&["00"]).is_err());
        assert!(OcrClasses::new(&["--"]).is_err());
        assert!(OcrClasses::new::<&str>(&[]).is_ok());
    }
}
