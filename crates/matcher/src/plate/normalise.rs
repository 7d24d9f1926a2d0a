//! Turns a plate as typed, read by a camera or received from abroad into the key that matching compares:
//! NFKC, upper case, separators dropped, diacritics folded and Cyrillic / Greek letters mapped to the Latin
//! letter they *look like* (plates are read by eye and by OCR, never by sound).

use rayon::prelude::*;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::columns::{StrColumn, StrColumnBuilder};

/// Longest normalised plate accepted; longer text is not a plate (the longest national formats have 10).
pub const MAX_PLATE_LEN: usize = 12;

/// Why a plate cannot be matched; a row with one of these goes to `rejects`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PlateReject {
    /// Null or only white space.
    Empty = 1,
    /// Text remained but no letter or digit (only separators or symbols).
    NoLettersOrDigits = 2,
    /// A control character (tab, newline, NUL, …): a sign of a broken export, never part of a plate.
    ControlCharacter = 3,
    /// More than [`MAX_PLATE_LEN`] characters after normalisation.
    TooLong = 4,
    /// Bytes that are not UTF-8 text.
    NotUtf8 = 5,
    /// A country that is neither an ISO 3166 alpha-2 code nor an international vehicle code.
    UnknownCountry = 6,
    /// A wildcard pattern made only of `?` and `*`, which would hit every plate.
    PatternWithoutCharacters = 7,
    /// An alert without an alert id (it could never be reported).
    MissingAlertId = 8,
    /// An alert whose `valid_to` is before its `valid_from`: it can never be valid.
    EmptyValidity = 9,
}

impl PlateReject {
    /// Every reason, in code order, for tables of reasons handed to Python.
    pub const ALL: [PlateReject; 9] = [
        PlateReject::Empty,
        PlateReject::NoLettersOrDigits,
        PlateReject::ControlCharacter,
        PlateReject::TooLong,
        PlateReject::NotUtf8,
        PlateReject::UnknownCountry,
        PlateReject::PatternWithoutCharacters,
        PlateReject::MissingAlertId,
        PlateReject::EmptyValidity,
    ];

    /// Sentence a person reads in `rejects.parquet`.
    pub fn reason(self) -> &'static str {
        match self {
            PlateReject::Empty => "plate is empty",
            PlateReject::NoLettersOrDigits => "plate has no letters or digits",
            PlateReject::ControlCharacter => "plate contains a control character",
            PlateReject::TooLong => "plate is longer than 12 characters after normalisation",
            PlateReject::NotUtf8 => "plate is not valid UTF-8 text",
            PlateReject::UnknownCountry => "country is neither an ISO 3166 alpha-2 code nor a vehicle code",
            PlateReject::PatternWithoutCharacters => "wildcard pattern has no letters or digits",
            PlateReject::MissingAlertId => "alert id is missing",
            PlateReject::EmptyValidity => "valid_to is before valid_from",
        }
    }

    /// Stable numeric code used across the binding.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The reason with code `code`, `None` for 0 (kept) or an unknown code.
    pub fn from_code(code: u8) -> Option<Self> {
        PlateReject::ALL.iter().copied().find(|r| r.code() == code)
    }
}

/// Cyrillic and Greek capitals that are written on plates, mapped to the Latin capital they look like.
/// Bulgarian, Ukrainian, Serbian, Russian and Greek plates restrict themselves to these letters precisely
/// because they have Latin look-alikes (e.g. Bulgarian Naredba I-45, Greek plates since 1971).
#[allow(clippy::match_same_arms)] // one row per source letter reads as a table
fn latin_lookalike(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'У' | 'Ү' => 'Y',
        'Х' => 'X',
        'І' => 'I',
        'Ј' => 'J',
        'Ѕ' => 'S',
        'Ԛ' => 'Q',
        'Ԝ' => 'W',
        // Greek
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        // Latin letters whose stroke does not decompose under NFD.
        'Ø' => 'O',
        'Ł' => 'L',
        'Đ' | 'Ð' => 'D',
        'Ħ' => 'H',
        'Ŧ' => 'T',
        _ => return None,
    })
}

/// Normalises one plate; with `keep_wildcards`, `?` and `*` survive for witness patterns.
///
/// # Errors
/// The [`PlateReject`] reason when the text cannot be a plate.
pub fn normalise_plate(text: &str, keep_wildcards: bool) -> Result<String, PlateReject> {
    let mut out = String::with_capacity(text.len());
    normalise_plate_into(text, keep_wildcards, &mut out)?;
    Ok(out)
}

/// [`normalise_plate`] into a caller's buffer (cleared first), so hot loops allocate once per thread.
///
/// # Errors
/// The [`PlateReject`] reason when the text cannot be a plate; `out` is then unspecified.
pub fn normalise_plate_into(text: &str, keep_wildcards: bool, out: &mut String) -> Result<(), PlateReject> {
    out.clear();
    if text.is_ascii() {
        return normalise_ascii(text.as_bytes(), keep_wildcards, |b| out.push(char::from(b)));
    }
    if let Some(result) = normalise_by_table(text, keep_wildcards, out) {
        return result;
    }
    out.clear();
    normalise_general(text, keep_wildcards, out)
}

/// The full rules: control check, NFKC (skipped when the quick check says the text is already NFKC), case,
/// look-alikes and diacritics character by character.
fn normalise_general(text: &str, keep_wildcards: bool, out: &mut String) -> Result<(), PlateReject> {
    if text.chars().any(char::is_control) {
        return Err(PlateReject::ControlCharacter);
    }
    if text.trim().is_empty() {
        return Err(PlateReject::Empty);
    }
    // Most non-ASCII plates (Cyrillic, Greek, umlauts) are already in NFKC: the quick check skips the
    // composition machinery for them, with the same result.
    let (alnum, chars) = if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        fold_chars(text.chars(), keep_wildcards, out)
    } else {
        fold_chars(text.nfkc(), keep_wildcards, out)
    };
    if alnum == 0 && !(keep_wildcards && chars > 0) {
        return Err(PlateReject::NoLettersOrDigits);
    }
    if chars > MAX_PLATE_LEN {
        return Err(PlateReject::TooLong);
    }
    Ok(())
}

/// Code points below this go through the per-character table (Latin, Latin-1, Latin Extended-A/B, IPA,
/// Greek and Cyrillic: every script whose letters appear on European plates).
const TABLE_END: u32 = 0x500;
/// Table entries that are not an output character.
const T_DROP: u32 = 0x11_0000;
const T_SLOW: u32 = 0x11_0001;
const T_WILDCARD: u32 = 0x11_0002;
const T_CONTROL: u32 = 0x11_0003;

/// What [`normalise_general`] does to each code point below [`TABLE_END`] when it stands alone, for the
/// characters where that is also what it does inside any text: starters (combining class 0) already in NFKC,
/// whose folding gives at most one character. Others are marked slow and take the general path.
fn char_table() -> &'static [u32] {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..TABLE_END)
            .map(|cp| {
                let Some(c) = char::from_u32(cp) else { return T_SLOW };
                if c.is_control() {
                    return T_CONTROL;
                }
                if c == '?' || c == '*' {
                    return T_WILDCARD;
                }
                let starter = unicode_normalization::char::canonical_combining_class(c) == 0;
                if !starter || is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes {
                    return T_SLOW;
                }
                let mut out = String::new();
                let (alnum, _) = fold_chars(std::iter::once(c), false, &mut out);
                let mut chars = out.chars();
                match (chars.next(), chars.next()) {
                    (None, _) => T_DROP,
                    (Some(o), None) if alnum == 1 => u32::from(o),
                    _ => T_SLOW,
                }
            })
            .collect()
    })
}

/// Normalises text made only of table characters; `None` when a character needs the general path.
fn normalise_by_table(text: &str, keep_wildcards: bool, out: &mut String) -> Option<Result<(), PlateReject>> {
    let table = char_table();
    let (mut alnum, mut chars, mut blank) = (0_usize, 0_usize, true);
    for c in text.chars() {
        let entry = *table.get(c as usize)?;
        blank &= c.is_whitespace();
        match entry {
            T_SLOW => return None,
            T_CONTROL => return Some(Err(PlateReject::ControlCharacter)),
            T_DROP => {}
            T_WILDCARD => {
                if keep_wildcards {
                    chars += 1;
                    out.push(c);
                }
            }
            o => {
                alnum += 1;
                chars += 1;
                out.push(char::from_u32(o)?);
            }
        }
    }
    Some(if blank {
        Err(PlateReject::Empty)
    } else if alnum == 0 && !(keep_wildcards && chars > 0) {
        Err(PlateReject::NoLettersOrDigits)
    } else if chars > MAX_PLATE_LEN {
        Err(PlateReject::TooLong)
    } else {
        Ok(())
    })
}

/// Upper case, look-alike and diacritic folding of NFKC characters into `out`; returns the number of
/// letters and digits and the number of characters kept.
fn fold_chars(text: impl Iterator<Item = char>, keep_wildcards: bool, out: &mut String) -> (usize, usize) {
    let mut alnum = 0_usize;
    let mut chars = 0_usize;
    for c in text {
        for upper in c.to_uppercase() {
            let mut push = |ch: char| {
                let ch = latin_lookalike(ch).unwrap_or(ch);
                if ch.is_alphanumeric() {
                    alnum += 1;
                    chars += 1;
                    out.push(ch);
                } else if keep_wildcards && (ch == '?' || ch == '*') {
                    chars += 1;
                    out.push(ch);
                }
                // Everything else (spaces, hyphens, dots, middle dots, slashes, flags, …) is a separator.
            };
            if upper.is_ascii() {
                push(upper);
            } else {
                // Fold diacritics: decompose and keep the base letter (Ö → O, Č → C, Ά → Α → A).
                decompose_canonical(upper, |d| {
                    if !is_combining_mark(d) {
                        push(d);
                    }
                });
            }
        }
    }
    (alnum, chars)
}

/// [`ASCII_TABLE`] entry of a space: dropped, and a text of spaces only is [`PlateReject::Empty`].
const A_SPACE: u8 = 0;
/// [`ASCII_TABLE`] entry of other separators and punctuation: dropped.
const A_DROP: u8 = 1;
/// [`ASCII_TABLE`] entry of a control character: the text is refused.
const A_CONTROL: u8 = 2;

/// What [`normalise_ascii`] does with each ASCII byte, in one load: letters map to their upper case, digits
/// and the wildcards `?` / `*` to themselves, the rest to one of the `A_*` codes above. Built at compile
/// time from the same rules as the general path (NFKC, case and look-alike folding are the identity on
/// ASCII apart from case); the proptest `ascii_fast_path_agrees_with_the_unicode_path` checks it.
const ASCII_TABLE: [u8; 128] = {
    let mut t = [A_DROP; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_control() {
            A_CONTROL
        } else if c == b' ' {
            A_SPACE
        } else if c.is_ascii_alphanumeric() || c == b'?' || c == b'*' {
            c.to_ascii_uppercase()
        } else {
            A_DROP
        };
        b += 1;
    }
    t
};

/// The same rules for pure ASCII text, where NFKC, case mapping and look-alike folding reduce to
/// `to_ascii_uppercase`: most ANPR reads take this path. One table load and one branch per byte, in a single
/// pass (the first version made a separate pass for control characters and tested each byte's class in turn).
///
/// The key's bytes go to `push` (a `String` or, in the matching loop, the group's key buffer directly).
fn normalise_ascii(text: &[u8], keep_wildcards: bool, mut push: impl FnMut(u8)) -> Result<(), PlateReject> {
    let mut chars = 0_usize;
    let mut alnum = 0_usize;
    let mut blank = true;
    for &b in text {
        let t = ASCII_TABLE[usize::from(b & 0x7F)];
        match t {
            A_SPACE => {}
            A_DROP => blank = false,
            A_CONTROL => return Err(PlateReject::ControlCharacter),
            b'?' | b'*' => {
                blank = false;
                if keep_wildcards {
                    chars += 1;
                    push(t);
                }
            }
            _ => {
                blank = false;
                alnum += 1;
                chars += 1;
                push(t);
            }
        }
    }
    if blank {
        return Err(PlateReject::Empty);
    }
    if alnum == 0 && !(keep_wildcards && chars > 0) {
        return Err(PlateReject::NoLettersOrDigits);
    }
    if chars > MAX_PLATE_LEN {
        return Err(PlateReject::TooLong);
    }
    Ok(())
}

/// [`normalise_plate_into`] on raw bytes from a string column: ASCII text (nearly every ANPR read) goes
/// straight to the ASCII path without a separate UTF-8 validation pass.
///
/// # Errors
/// [`PlateReject::NotUtf8`] when the bytes are not UTF-8, else as [`normalise_plate_into`].
pub fn normalise_plate_bytes_into(bytes: &[u8], keep_wildcards: bool, out: &mut String) -> Result<(), PlateReject> {
    out.clear();
    if bytes.is_ascii() {
        return normalise_ascii(bytes, keep_wildcards, |b| out.push(char::from(b)));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| PlateReject::NotUtf8)?;
    normalise_plate_into(text, keep_wildcards, out)
}

/// [`normalise_plate_bytes_into`] appending the key's UTF-8 bytes to `out`, which keeps what it held (on error
/// too: it is truncated back). The matching loop keeps a group's keys back to back in one buffer; ASCII text
/// is normalised straight into it, other text through `spare`.
///
/// # Errors
/// As [`normalise_plate_bytes_into`].
pub fn normalise_plate_bytes_append(
    bytes: &[u8],
    keep_wildcards: bool,
    out: &mut Vec<u8>,
    spare: &mut String,
) -> Result<(), PlateReject> {
    let start = out.len();
    let result = if bytes.is_ascii() {
        normalise_ascii(bytes, keep_wildcards, |b| out.push(b))
    } else {
        normalise_plate_bytes_into(bytes, keep_wildcards, spare).map(|()| out.extend_from_slice(spare.as_bytes()))
    };
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Result of normalising a whole column: keys (null where rejected) and a reject code per row (0 = kept).
#[derive(Debug, Clone, Default)]
pub struct NormalisedColumn {
    /// Normalised keys, null for rejected or null input rows.
    pub keys: StrColumnBuilder,
    /// 0 when the row was kept, else a [`PlateReject`] code.
    pub reject: Vec<u8>,
}

/// Normalises every row of a column in parallel; the output is in input order whatever the thread count.
pub fn normalise_plate_column(column: &StrColumn<'_>, keep_wildcards: bool) -> NormalisedColumn {
    let results: Vec<Result<String, PlateReject>> = (0..column.len())
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| match column.get(i) {
            None => Err(PlateReject::Empty),
            Some(Err(_)) => Err(PlateReject::NotUtf8),
            Some(Ok(text)) => normalise_plate(text, keep_wildcards),
        })
        .collect();
    let mut keys = StrColumnBuilder::with_capacity(results.len(), results.len() * 8);
    let mut reject = Vec::with_capacity(results.len());
    for r in &results {
        match r {
            Ok(key) => {
                keys.push(Some(key));
                reject.push(0);
            }
            Err(why) => {
                keys.push(None);
                reject.push(why.code());
            }
        }
    }
    NormalisedColumn { keys, reject }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Result<String, PlateReject> {
        normalise_plate(s, false)
    }

    #[test]
    fn separators_case_and_spacing() {
        assert_eq!(n("1-abc-123").unwrap(), "1ABC123");
        assert_eq!(n(" AB 12.CD ").unwrap(), "AB12CD");
        assert_eq!(n("M·AB·1234").unwrap(), "MAB1234");
    }

    #[test]
    fn diacritics_fold() {
        assert_eq!(n("MÖ-Ä 123").unwrap(), "MOA123");
        assert_eq!(n("Čž-42").unwrap(), "CZ42");
    }

    #[test]
    fn cyrillic_and_greek_map_by_shape() {
        // Bulgarian plate in Cyrillic: В = B, Р = P, Н = H, Х = X, У = Y.
        assert_eq!(n("СВ 1234 РН").unwrap(), "CB1234PH");
        assert_eq!(n("ху").unwrap(), "XY");
        // Greek: Ι Κ Υ → I K Y; accented Ά folds to A.
        assert_eq!(n("ΙΚΥ-1234").unwrap(), "IKY1234");
        assert_eq!(n("ά").unwrap(), "A");
    }

    #[test]
    fn fullwidth_forms_fold_under_nfkc() {
        assert_eq!(n("ＡＢ１２").unwrap(), "AB12");
    }

    #[test]
    fn rejects_have_reasons() {
        assert_eq!(n(""), Err(PlateReject::Empty));
        assert_eq!(n("   "), Err(PlateReject::Empty));
        assert_eq!(n("--.."), Err(PlateReject::NoLettersOrDigits));
        assert_eq!(n("AB\t12"), Err(PlateReject::ControlCharacter));
        assert_eq!(n("ABCDEFGHIJKLM"), Err(PlateReject::TooLong));
        assert_eq!(n("ABCDEFGHIJKL").unwrap().len(), 12);
    }

    #[test]
    fn wildcards_kept_only_on_request() {
        assert_eq!(normalise_plate("ab?-12*", true).unwrap(), "AB?12*");
        assert_eq!(n("ab?-12*").unwrap(), "AB12");
        assert_eq!(normalise_plate("*", true).unwrap(), "*");
    }

    #[test]
    fn column_keeps_order_and_codes() {
        let offsets = [0_i64, 3, 3, 6];
        let data = b"ab1\t\tx";
        let valid = [true, false, true];
        let col = StrColumn::new(&offsets, data, Some(&valid)).unwrap();
        let out = normalise_plate_column(&col, false);
        assert_eq!(out.reject, vec![0, PlateReject::Empty.code(), PlateReject::ControlCharacter.code()]);
        assert_eq!(&out.keys.data, b"AB1");
    }

    proptest! {
        #[test]
        fn idempotent(s in "\\PC{0,16}") {
            if let Ok(once) = n(&s) {
                prop_assert_eq!(n(&once), Ok(once.clone()));
            }
        }

        #[test]
        fn ascii_fast_path_agrees_with_the_unicode_path(s in "[ -~\t]{0,16}", w in any::<bool>()) {
            // Force the general path by appending a character it drops (a non-ASCII separator).
            let general = normalise_plate(&format!("{s}\u{00B7}"), w);
            let fast = normalise_plate(&s, w);
            if !s.chars().any(char::is_control) && s.trim().is_empty() {
                prop_assert_eq!(fast, Err(PlateReject::Empty));
            } else {
                prop_assert_eq!(fast, general);
            }
        }

        #[test]
        fn nfkc_quick_check_path_equals_full_nfkc(s in "[\\p{Cyrillic}\\p{Greek}\\p{Latin}0-9 ·\u{301}\u{FF21}-\u{FF3A}]{1,10}") {
            let mut full = String::new();
            fold_chars(s.nfkc(), true, &mut full);
            if let Ok(key) = normalise_plate(&s, true) {
                prop_assert_eq!(key, full);
            }
        }

        #[test]
        fn table_path_equals_general_path(s in "[\\x{20}-\\x{600}]{0,12}", w in any::<bool>()) {
            let mut general = String::new();
            let expected = normalise_general(&s, w, &mut general).map(|()| general);
            prop_assert_eq!(normalise_plate(&s, w), expected);
        }

        #[test]
        fn bytes_entry_equals_text_entry(b in prop::collection::vec(any::<u8>(), 0..16), w in any::<bool>()) {
            let mut out = String::new();
            let got = normalise_plate_bytes_into(&b, w, &mut out).map(|()| out);
            let expected = match std::str::from_utf8(&b) {
                Ok(text) => normalise_plate(text, w),
                Err(_) => Err(PlateReject::NotUtf8),
            };
            prop_assert_eq!(&got, &expected);
            // The appending entry: the same key after what the buffer held, which an error leaves untouched.
            let mut buffer = b"held".to_vec();
            let appended = normalise_plate_bytes_append(&b, w, &mut buffer, &mut String::new());
            prop_assert_eq!(buffer.get(..4), Some(&b"held"[..]));
            match expected {
                Ok(key) => {
                    prop_assert_eq!(appended, Ok(()));
                    prop_assert_eq!(&buffer[4..], key.as_bytes());
                }
                Err(why) => {
                    prop_assert_eq!(appended, Err(why));
                    prop_assert_eq!(buffer.len(), 4);
                }
            }
        }

        #[test]
        fn never_panics_on_any_text(s in "(?s).{0,40}") {
            let _ = normalise_plate(&s, true);
        }
    }
}
