//! Tells the template formats apart by structure, not by file name: ISO 19794-2:2005 and ANSI 378-2004
//! records start with the same "FMR\0 20\0", so the record length fields decide — ISO stores a 4-byte length
//! at byte 8, ANSI a 2-byte one (or `0x0000` + 4 bytes from byte 10) — and `.xyt` is recognised as text.

use super::template::Template;
use super::{ansi378, iso19794_2, xyt};
use crate::error::{MatchError, MatchResult};

/// A minutiae template format this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateFormat {
    /// ISO/IEC 19794-2:2005 record.
    Iso19794_2,
    /// ANSI INCITS 378-2004 record.
    Ansi378,
    /// NIST NBIS `.xyt` text.
    Xyt,
}

impl TemplateFormat {
    /// Short lower-case name used in messages and by the Python layer.
    pub fn name(self) -> &'static str {
        match self {
            TemplateFormat::Iso19794_2 => "iso19794_2",
            TemplateFormat::Ansi378 => "ansi378",
            TemplateFormat::Xyt => "xyt",
        }
    }
}

/// The format `data` is in, judged by its structure; `None` when it is none of them.
pub fn detect(data: &[u8]) -> Option<TemplateFormat> {
    if data.len() >= 8 && &data[0..4] == iso19794_2::MAGIC && &data[4..8] == iso19794_2::VERSION_2005 {
        let iso = data.len() >= 12 && u32::from_be_bytes([data[8], data[9], data[10], data[11]]) as usize == data.len();
        let ansi = ansi378::header_length(data).is_some();
        return match (iso, ansi) {
            (true, false) => Some(TemplateFormat::Iso19794_2),
            (false, true) => Some(TemplateFormat::Ansi378),
            // Cannot happen: for an ISO record of length L, ANSI's short field (bytes 8–9) is L >> 16, which
            // is never L (for L > 0), and ANSI's long field would be (L mod 2¹⁶) << 16 | bytes 12–13, never L;
            // the reverse holds likewise. Kept as a defensive fallback: the full parse decides, ISO first.
            (true, true) => Some(if iso19794_2::read(data).is_ok() || ansi378::read(data).is_err() {
                TemplateFormat::Iso19794_2
            } else {
                TemplateFormat::Ansi378
            }),
            (false, false) => None,
        };
    }
    looks_like_xyt(data).then_some(TemplateFormat::Xyt)
}

/// Reads a template file of any supported format: every finger view it holds. `.xyt` text is read at
/// `xyt_resolution_ppi` with an unknown image height (see [`xyt`]).
pub fn read_any(data: &[u8], xyt_resolution_ppi: f32) -> MatchResult<(TemplateFormat, Vec<Template>)> {
    match detect(data) {
        Some(TemplateFormat::Iso19794_2) => Ok((TemplateFormat::Iso19794_2, iso19794_2::read(data)?)),
        Some(TemplateFormat::Ansi378) => Ok((TemplateFormat::Ansi378, ansi378::read(data)?)),
        Some(TemplateFormat::Xyt) => {
            // looks_like_xyt has checked the bytes are ASCII, so this conversion cannot fail.
            let text = std::str::from_utf8(data)
                .map_err(|e| MatchError::format(0, "xyt text", e.valid_up_to(), "not UTF-8"))?;
            Ok((TemplateFormat::Xyt, vec![xyt::read(text, xyt_resolution_ppi, None)?]))
        }
        None if data.starts_with(b"FMR\0") => Err(MatchError::format(
            0,
            "record length",
            8,
            "an 'FMR' record whose length fields fit neither ISO 19794-2:2005 nor ANSI 378-2004 (truncated, padded \
             or another version)",
        )),
        None => Err(MatchError::format(
            0,
            "format identifier",
            0,
            "not a minutiae template: neither an ISO 19794-2 / ANSI 378 record nor NIST .xyt text",
        )),
    }
}

/// `.xyt` files are short ASCII: digits, signs, points, whitespace and `#` comment lines, with at least one
/// digit.
fn looks_like_xyt(data: &[u8]) -> bool {
    if data.len() > xyt::MAX_BYTES || !data.iter().any(u8::is_ascii_digit) {
        return false;
    }
    let mut in_comment = false;
    for &b in data {
        match b {
            b'\n' => in_comment = false,
            _ if in_comment => {
                if !(b.is_ascii_graphic() || b == b' ' || b == b'\t' || b == b'\r') {
                    return false;
                }
            }
            b'#' => in_comment = true,
            b'0'..=b'9' | b' ' | b'\t' | b'\r' | b'-' | b'+' | b'.' => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finger::synth;

    #[test]
    fn tells_the_formats_apart() {
        let t = synth::impression(
            &synth::master(1, &synth::SynthParams::default()),
            2,
            &synth::ImpressionParams::default(),
        );
        let iso = iso19794_2::write(std::slice::from_ref(&t)).unwrap();
        let ansi = ansi378::write(std::slice::from_ref(&t)).unwrap();
        let text = xyt::write(&t);
        assert_eq!(detect(&iso), Some(TemplateFormat::Iso19794_2));
        assert_eq!(detect(&ansi), Some(TemplateFormat::Ansi378));
        assert_eq!(detect(text.as_bytes()), Some(TemplateFormat::Xyt));
        assert_eq!(detect(b"\x89PNG\r\n"), None);
        assert_eq!(detect(b""), None);
        for bytes in [&iso, &ansi, &text.as_bytes().to_vec()] {
            let (_, views) = read_any(bytes, 500.0).unwrap();
            assert_eq!(views[0].minutiae.len(), t.minutiae.len());
        }
        let err = read_any(&iso[..iso.len() - 1], 500.0).unwrap_err().to_string();
        assert!(err.contains("record length"), "{err}");
    }
}
