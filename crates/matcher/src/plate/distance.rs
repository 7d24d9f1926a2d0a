//! How two normalised plate keys differ: look-alike substitutions, the weighted edit distance and wildcard
//! patterns. Keys are at most [`MAX_PLATE_LEN`] characters, so everything here works on small arrays on
//! the stack.

use crate::plate::normalise::MAX_PLATE_LEN;
use crate::plate::ocr::OcrClasses;

/// Cost of one insertion, deletion or unrelated substitution, in half-edits (integers keep the distance
/// exact and comparable; the public distance is this divided by two).
pub const EDIT_COST: u32 = 2;
/// Cost of substituting a character by a look-alike of its OCR class, in half-edits: half an edit, so two
/// look-alike swaps weigh as much as one unexplained error.
pub const LOOKALIKE_COST: u32 = 1;

/// A key decoded to characters; keys longer than [`MAX_PLATE_LEN`] never reach matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyChars {
    chars: [char; MAX_PLATE_LEN],
    len: u8,
}

impl KeyChars {
    /// Decodes a normalised key; `None` if it has more than [`MAX_PLATE_LEN`] characters.
    pub fn new(key: &str) -> Option<Self> {
        let mut chars = ['\0'; MAX_PLATE_LEN];
        let mut len = 0_usize;
        for c in key.chars() {
            *chars.get_mut(len)? = c;
            len += 1;
        }
        Some(KeyChars { chars, len: len as u8 })
    }

    /// Decodes a normalised key's UTF-8 bytes, one `char` per byte when they are ASCII (nearly every key) without
    /// a validation pass; `None` if the bytes are not UTF-8 or hold more than [`MAX_PLATE_LEN`] characters.
    #[inline]
    pub fn from_bytes(key: &[u8]) -> Option<Self> {
        if !key.is_ascii() {
            return Self::new(std::str::from_utf8(key).ok()?);
        }
        let mut chars = ['\0'; MAX_PLATE_LEN];
        for (slot, &b) in chars.get_mut(..key.len())?.iter_mut().zip(key) {
            *slot = char::from(b);
        }
        Some(KeyChars { chars, len: key.len() as u8 })
    }

    /// The characters.
    #[inline]
    pub fn as_slice(&self) -> &[char] {
        &self.chars[..usize::from(self.len)]
    }

    /// Number of characters.
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True for the empty key (never produced by normalisation).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Replaces every character by `f(character)` (used to fold to OCR-class representatives).
    pub fn map_in_place(&mut self, f: impl Fn(char) -> char) {
        for c in &mut self.chars[..usize::from(self.len)] {
            *c = f(*c);
        }
    }

    /// True when the key holds `?` or `*`, i.e. it is a wildcard pattern.
    pub fn is_pattern(&self) -> bool {
        self.as_slice().iter().any(|&c| c == '?' || c == '*')
    }

    /// Number of characters that are not wildcards.
    pub fn literals(&self) -> usize {
        self.as_slice().iter().filter(|&&c| c != '?' && c != '*').count()
    }
}

/// Number of look-alike substitutions that turn `a` into `b` when the two are equal up to OCR classes
/// (same length, every differing position inside one class); `None` otherwise.
pub fn lookalike_substitutions(a: &[char], b: &[char], classes: &OcrClasses) -> Option<u32> {
    lookalike_substitutions_by(a, b, |c| classes.fold(c))
}

/// [`lookalike_substitutions`] over any key unit (`char`s, or the bytes of ASCII keys) with its OCR fold.
#[inline]
pub fn lookalike_substitutions_by<T: Copy + Eq>(a: &[T], b: &[T], fold: impl Fn(T) -> T) -> Option<u32> {
    if a.len() != b.len() {
        return None;
    }
    let mut subs = 0;
    for (&x, &y) in a.iter().zip(b) {
        if x != y {
            if fold(x) != fold(y) {
                return None;
            }
            subs += 1;
        }
    }
    Some(subs)
}

/// Weighted edit distance in half-edits ([`EDIT_COST`], [`LOOKALIKE_COST`]) if it is at most `limit`,
/// else `None`. Banded: only cells within `limit / EDIT_COST` of the diagonal can stay under the limit
/// (every step off the diagonal is an insertion or deletion of full cost), and the loop stops as soon as a
/// whole row exceeds the limit.
pub fn weighted_distance_within(a: &[char], b: &[char], classes: &OcrClasses, limit: u32) -> Option<u32> {
    weighted_distance_within_by(a, b, |c| classes.fold(c), limit)
}

/// Cost in half-edits of aligning `x` with `y`: nothing when equal, a look-alike swap inside one OCR class,
/// a full edit otherwise.
#[inline]
fn substitution_cost<T: Copy + Eq>(x: T, y: T, fold: &impl Fn(T) -> T) -> u32 {
    if x == y {
        0
    } else if fold(x) == fold(y) {
        LOOKALIKE_COST
    } else {
        EDIT_COST
    }
}

/// [`weighted_distance_within`] over any key unit (`char`s, or the bytes of ASCII keys) with its OCR fold.
#[allow(clippy::many_single_char_names)] // the recurrence's textbook names
pub fn weighted_distance_within_by<T: Copy + Eq>(a: &[T], b: &[T], fold: impl Fn(T) -> T, limit: u32) -> Option<u32> {
    const INF: u32 = u32::MAX / 4;
    if limit < 2 * EDIT_COST {
        return within_one_indel(a, b, &fold, limit);
    }
    let band = (limit / EDIT_COST) as usize;
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > band || n > MAX_PLATE_LEN || m > MAX_PLATE_LEN {
        return None;
    }
    // prev[j] / cur[j]: distance between a[..i] and b[..j].
    let mut prev = [INF; MAX_PLATE_LEN + 1];
    let mut cur = [INF; MAX_PLATE_LEN + 1];
    for (j, slot) in prev.iter_mut().enumerate().take(band.min(m) + 1) {
        *slot = j as u32 * EDIT_COST;
    }
    for i in 1..=n {
        let lo = i.saturating_sub(band);
        let hi = (i + band).min(m);
        cur.fill(INF);
        if lo == 0 {
            cur[0] = i as u32 * EDIT_COST;
        }
        let mut row_min = cur[0];
        for j in lo.max(1)..=hi {
            let sub = substitution_cost(a[i - 1], b[j - 1], &fold);
            let d = (prev[j - 1] + sub).min(prev[j] + EDIT_COST).min(cur[j - 1] + EDIT_COST);
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[m];
    (d <= limit).then_some(d)
}

/// The weighted distance when `limit` is below two full edits (`max_edits = 1`), in linear time instead of
/// the dynamic programme. Two insertions/deletions alone would exceed the limit, so an alignment within it
/// has none when the keys have equal length (the distance is the sum of position-wise substitution costs),
/// exactly one when the lengths differ by one (the longer key with one character removed, aligned
/// position-wise with the shorter: the best removal position is found from prefix and suffix sums), and
/// the keys are too far apart otherwise.
fn within_one_indel<T: Copy + Eq>(a: &[T], b: &[T], fold: &impl Fn(T) -> T, limit: u32) -> Option<u32> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    if long.len() > MAX_PLATE_LEN {
        return None;
    }
    if long.len() == short.len() {
        let mut d = 0;
        for (&x, &y) in long.iter().zip(short) {
            d += substitution_cost(x, y, fold);
            if d > limit {
                return None;
            }
        }
        return Some(d);
    }
    if long.len() != short.len() + 1 || limit < EDIT_COST {
        return None;
    }
    // suffix[p]: cost of aligning long[p + 1..] with short[p..] (the removal at position p).
    let mut suffix = [0_u32; MAX_PLATE_LEN + 1];
    for (p, (&x, &y)) in long.iter().skip(1).zip(short).enumerate().rev() {
        suffix[p] = suffix[p + 1] + substitution_cost(x, y, fold);
    }
    let mut prefix = 0; // cost of aligning long[..p] with short[..p]
    let mut best = u32::MAX;
    for (p, &rest) in suffix.iter().enumerate().take(short.len() + 1) {
        best = best.min(prefix + rest);
        if let (Some(&x), Some(&y)) = (long.get(p), short.get(p)) {
            prefix += substitution_cost(x, y, fold);
        }
        if prefix + EDIT_COST > limit {
            break;
        }
    }
    let d = best.saturating_add(EDIT_COST);
    (d <= limit).then_some(d)
}

/// True when `pattern` (with `?` for one character and `*` for any run, possibly empty) matches the whole
/// of `text`. Iterative with one back-tracking point per `*`, so linear in practice and never recursive.
pub fn wildcard_matches(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0_usize, 0_usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn k(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    use crate::plate::reference::full_distance as full;

    #[test]
    fn key_from_bytes_equals_key_from_text() {
        for key in ["", "1ABC123", "123456789012", "1234567890123", "ŁÓDŹ1", "ЖЖЖЖЖЖЖЖЖЖЖЖ", "ЖЖЖЖЖЖЖЖЖЖЖЖЖ", "?B*"]
        {
            assert_eq!(KeyChars::from_bytes(key.as_bytes()), KeyChars::new(key), "{key}");
        }
        assert_eq!(KeyChars::from_bytes(&[0xff]), None);
    }

    #[test]
    fn weights() {
        let c = OcrClasses::default();
        assert_eq!(weighted_distance_within(&k("AB123"), &k("AB123"), &c, 4), Some(0));
        assert_eq!(weighted_distance_within(&k("AB123"), &k("A8123"), &c, 4), Some(1));
        assert_eq!(weighted_distance_within(&k("AB123"), &k("AX123"), &c, 4), Some(2));
        assert_eq!(weighted_distance_within(&k("AB123"), &k("AB23"), &c, 4), Some(2));
        assert_eq!(weighted_distance_within(&k("AB123"), &k("XY123"), &c, 2), None);
        assert_eq!(weighted_distance_within(&k("AB123"), &k("AB12345"), &c, 2), None);
    }

    #[test]
    fn lookalikes() {
        let c = OcrClasses::default();
        assert_eq!(lookalike_substitutions(&k("AB123"), &k("A8I23"), &c), Some(2));
        assert_eq!(lookalike_substitutions(&k("AB123"), &k("AX123"), &c), None);
        assert_eq!(lookalike_substitutions(&k("AB123"), &k("AB12"), &c), None);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_matches(&k("AB?12*"), &k("ABX12")));
        assert!(wildcard_matches(&k("AB?12*"), &k("ABX12345")));
        assert!(!wildcard_matches(&k("AB?12*"), &k("AB12")));
        assert!(wildcard_matches(&k("*12*"), &k("AB12CD")));
        assert!(wildcard_matches(&k("*"), &k("")));
        assert!(!wildcard_matches(&k("A"), &k("")));
        assert!(wildcard_matches(&k("A*B*C"), &k("AXXBYYC")));
        assert!(!wildcard_matches(&k("A*B*C"), &k("AXXBYY")));
    }

    fn naive_glob(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => naive_glob(&p[1..], t) || (!t.is_empty() && naive_glob(p, &t[1..])),
            (Some('?'), Some(_)) => naive_glob(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => naive_glob(&p[1..], &t[1..]),
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn banded_equals_full(a in "[0O8BAX1]{0,9}", b in "[0O8BAX1]{0,9}", limit in 0_u32..6) {
            let c = OcrClasses::default();
            let (a, b) = (k(&a), k(&b));
            let f = full(&a, &b, &c);
            prop_assert_eq!(weighted_distance_within(&a, &b, &c, limit), (f <= limit).then_some(f));
        }

        #[test]
        fn bytes_equal_chars_and_full(a in "[0O8BAX1IL]{0,13}", b in "[0O8BAX1IL]{0,13}", limit in 0_u32..6) {
            let c = OcrClasses::default();
            let (ka, kb) = (k(&a), k(&b));
            let f = full(&ka, &kb, &c);
            let expected = (f <= limit && ka.len() <= MAX_PLATE_LEN && kb.len() <= MAX_PLATE_LEN).then_some(f);
            prop_assert_eq!(weighted_distance_within(&ka, &kb, &c, limit), expected);
            prop_assert_eq!(weighted_distance_within_by(a.as_bytes(), b.as_bytes(), |x| c.fold_byte(x), limit), expected);
            prop_assert_eq!(
                lookalike_substitutions_by(a.as_bytes(), b.as_bytes(), |x| c.fold_byte(x)),
                lookalike_substitutions(&ka, &kb, &c)
            );
        }

        #[test]
        fn glob_equals_naive(p in "[AB?*]{0,7}", t in "[AB]{0,8}") {
            let (p, t) = (k(&p), k(&t));
            prop_assert_eq!(wildcard_matches(&p, &t), naive_glob(&p, &t));
        }
    }
}
