//! NIST NBIS `.xyt` minutiae text (written by `mindtct`, read by `bozorth3`): reader and writer.
//!
//! One minutia per line: `x y theta [quality]`, separated by spaces or tabs. The conventions are NBIS's
//! "NIST internal representation" (NBIS `lfs2nist_minutia_XYT`), which differ from ISO 19794-2 / ANSI 378:
//! * pixel coordinates with the origin at the **bottom-left** corner, y growing upwards (`y = height − row`);
//! * theta in whole degrees 0–359, counter-clockwise from east (as in ISO / ANSI), but pointing **out and
//!   away from** the ridge ending or bifurcation valley, i.e. the opposite direction from ANSI 378's (M1)
//!   angle: internal angle = theta + 180°;
//! * quality 0–100 (mindtct's combined reliability), optional;
//! * no minutia type, no image size, no resolution: the type reads as `Other`, the resolution is the
//!   caller's (mindtct works at 500 ppi by default) and the image height, needed to flip y, is the caller's
//!   or, when unknown, the smallest that holds every minutia (`max y + 1`) — a vertical shift that a
//!   translation-invariant matcher does not see.

use std::fmt::Write as _;

use super::template::{MinutiaKind, Template, INTERNAL_PPI, MAX_MINUTIAE};
use crate::error::{MatchError, MatchResult};

/// Longest `.xyt` text accepted: 255 minutiae lines fit comfortably in far less; anything longer is not a
/// minutiae file.
pub const MAX_BYTES: usize = 64 * 1024;

/// Largest x or y accepted: the image's width and height (one more) must fit the formats' 16-bit fields.
const MAX_COORDINATE: f32 = 65_534.0;

/// Reads `.xyt` text at `resolution_ppi`; `image_height` (source pixels) fixes the y flip when known.
pub fn read(text: &str, resolution_ppi: f32, image_height: Option<u16>) -> MatchResult<Template> {
    if text.len() > MAX_BYTES {
        return Err(MatchError::format(0, "xyt text", MAX_BYTES, format!("longer than {MAX_BYTES} bytes")));
    }
    let mut rows: Vec<(f32, f32, f32, u8)> = Vec::new();
    let mut line_start = 0;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        let at = line_start;
        line_start += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim().is_empty() || content.trim_start().starts_with('#') {
            continue;
        }
        if rows.len() == MAX_MINUTIAE {
            return Err(MatchError::format(
                line_no,
                "minutia line",
                at,
                format!("more than {MAX_MINUTIAE} minutiae; the template formats hold at most {MAX_MINUTIAE}"),
            ));
        }
        let mut fields = [0.0_f32; 4];
        let mut n = 0;
        for (offset, token) in tokens(content) {
            let name = ["x", "y", "theta", "quality", "end of line"][n.min(4)];
            if n == 4 {
                return Err(MatchError::format(line_no, name, at + offset, "more than four values on the line"));
            }
            fields[n] = token.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                MatchError::format(line_no, name, at + offset, format!("'{}' is not a number", shorten(token)))
            })?;
            let v = fields[n];
            let bad = match n {
                // Image sides are 16-bit in every template format: a coordinate beyond is not a pixel.
                0 | 1 => (!(0.0..=MAX_COORDINATE).contains(&v)).then(|| format!("{v} is outside 0–{MAX_COORDINATE}")),
                2 => (!(-360.0..=720.0).contains(&v)).then(|| format!("{v} is not an angle in degrees")),
                _ => (!(0.0..=100.0).contains(&v) || v.fract() != 0.0).then(|| format!("{v} is not a whole 0–100")),
            };
            if let Some(message) = bad {
                return Err(MatchError::format(line_no, name, at + offset, message));
            }
            n += 1;
        }
        if n < 3 {
            return Err(MatchError::format(line_no, "minutia line", at, format!("{n} values; x y theta are needed")));
        }
        rows.push((fields[0], fields[1], fields[2], fields[3] as u8));
    }
    let max_y = rows.iter().map(|r| r.1).fold(0.0_f32, f32::max);
    let max_x = rows.iter().map(|r| r.0).fold(0.0_f32, f32::max);
    let height = match image_height {
        Some(h) => {
            if max_y > f32::from(h) {
                return Err(MatchError::invalid(format!("a minutia has y = {max_y}, above the image height {h}")));
            }
            h
        }
        // max_y ≤ MAX_COORDINATE, so the sum fits a u16.
        None => max_y.floor() as u16 + 1,
    };
    let source: Vec<_> = rows
        .iter()
        .map(|&(x, y, theta, quality)| {
            // Bottom-left origin → top-left rows; NIST direction → ISO / ANSI direction (opposite).
            let row = (f32::from(height) - y).max(0.0);
            (x, row, theta + 180.0, MinutiaKind::Other, quality)
        })
        .collect();
    let mut t = Template::from_source(&source, resolution_ppi, resolution_ppi)?;
    t.height = height;
    t.width = max_x.floor() as u16 + 1;
    Ok(t)
}

/// Writes a template as `.xyt` text at its own resolution (x y theta quality, whole numbers), flipping y with
/// the template's image height (or `max y + 1` when it has none). Minutia types are lost: `.xyt` has none.
pub fn write(t: &Template) -> String {
    let (sx, sy) = (t.resolution_x_ppi / INTERNAL_PPI, t.resolution_y_ppi / INTERNAL_PPI);
    let rows: Vec<(f32, f32)> = t.minutiae.iter().map(|m| ((m.x * sx).round(), (m.y * sy).round())).collect();
    let height = if t.height > 0 { f32::from(t.height) } else { rows.iter().map(|r| r.1).fold(0.0, f32::max) + 1.0 };
    let mut out = String::with_capacity(t.minutiae.len() * 16);
    for (m, &(x, row)) in t.minutiae.iter().zip(&rows) {
        let theta = (m.angle.to_degrees() + 180.0).round().rem_euclid(360.0);
        let _ = writeln!(out, "{} {} {} {}", x.max(0.0), (height - row).max(0.0), theta, m.quality);
    }
    out
}

/// Whitespace-separated tokens with their byte offsets inside the line.
fn tokens(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split([' ', '\t'])
        .scan(0, |pos, tok| {
            let at = *pos;
            *pos += tok.len() + 1;
            Some((at, tok))
        })
        .filter(|(_, t)| !t.is_empty())
}

/// Error messages quote at most 20 characters of a bad token.
fn shorten(token: &str) -> String {
    token.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_nist_conventions_to_the_internal_frame() {
        let t = read("10 390 90 55\n", 500.0, Some(400)).unwrap();
        let m = t.minutiae[0];
        assert!((m.x - 10.0).abs() < 1e-4 && (m.y - 10.0).abs() < 1e-4, "{m:?}");
        // 90° in NIST (pointing up, away from the ending) is 270° in ISO / ANSI.
        assert!((m.angle.to_degrees() - 270.0).abs() < 1e-3);
        assert_eq!((m.quality, m.kind), (55, MinutiaKind::Other));
    }

    #[test]
    fn scales_by_resolution_and_skips_blank_and_comment_lines() {
        let t = read("# from mindtct\n\n100 50 0\r\n  200\t60 359 10  \n", 1000.0, None).unwrap();
        assert_eq!(t.minutiae.len(), 2);
        assert!((t.minutiae[0].x - 50.0).abs() < 1e-4);
        assert_eq!(t.height, 61);
    }

    #[test]
    fn round_trips_whole_values() {
        let text = "10 20 30 40\n300 5 359 100\n0 0 0 0\n";
        let t = read(text, 500.0, Some(400)).unwrap();
        let mut t2 = t.clone();
        t2.height = 400;
        assert_eq!(write(&t2), text);
    }

    #[test]
    fn bad_values_name_field_line_and_offset() {
        let err = read("1 2 3\n4 x 6\n", 500.0, None).unwrap_err().to_string();
        assert!(err.contains("record 1") && err.contains("'y'") && err.contains("byte 8"), "{err}");
        assert!(read("1 2\n", 500.0, None).is_err());
        assert!(read("1 2 3 4 5\n", 500.0, None).is_err());
        assert!(read("1 2 3 101\n", 500.0, None).is_err());
        assert!(read("-1 2 3\n", 500.0, None).is_err());
        // Found by cargo-fuzz (xyt target): a huge y overflowed the image height computation.
        let err = read("168 1111111111111111111111111111102 150 74\n", 500.0, None).unwrap_err().to_string();
        assert!(err.contains("'y'") && err.contains("outside"), "{err}");
        assert!(read("65535 1 3\n", 500.0, None).is_err());
        assert_eq!(read("65534 65534 3\n", 500.0, None).unwrap().height, 65535);
        assert!(read("1 2 NaN\n", 500.0, None).is_err());
        assert!(read("1 500 3\n", 500.0, Some(400)).is_err());
        assert!(read(&"1 2 3\n".repeat(256), 500.0, None).is_err());
    }
}
