//! The template model every reader produces and the matcher consumes: minutiae in one internal frame
//! (500 ppi pixels, angles in radians), whatever the source format, extractor or resolution.

use std::f32::consts::TAU;

use super::record::Cursor;
use crate::error::{MatchError, MatchResult};

/// Resolution of the internal frame; FBI/ISO reference resolution for rolled and plain impressions.
pub const INTERNAL_PPI: f32 = 500.0;

/// Most minutiae one finger view may carry: both ISO 19794-2 and ANSI 378 store the count in one byte.
pub const MAX_MINUTIAE: usize = 255;

/// Minutia type, with the codes ISO/IEC 19794-2 and ANSI INCITS 378 use in the two type bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum MinutiaKind {
    /// Type not given or neither of the two below.
    #[default]
    Other = 0,
    /// Ridge ending.
    Ending = 1,
    /// Ridge bifurcation.
    Bifurcation = 2,
}

impl MinutiaKind {
    /// The kind for a two-bit type code; code 3 is reserved by both standards and read as `Other`.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => MinutiaKind::Ending,
            2 => MinutiaKind::Bifurcation,
            _ => MinutiaKind::Other,
        }
    }

    /// The two-bit code written to ISO / ANSI records.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// One minutia in the internal frame: x to the right and y downwards in 500 ppi pixels from the image's
/// top-left corner; angle in radians in `[0, 2π)`, counter-clockwise from the x axis (the ISO convention).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Minutia {
    /// Column, 500 ppi pixels.
    pub x: f32,
    /// Row, 500 ppi pixels.
    pub y: f32,
    /// Ridge direction, radians in `[0, 2π)`.
    pub angle: f32,
    /// Ending, bifurcation or other.
    pub kind: MinutiaKind,
    /// Extractor's quality, 0–100 (0 = not reported, as in ISO 19794-2:2005).
    pub quality: u8,
}

/// Finger position code of ISO/IEC 19794-2 and ANSI/NIST-ITL table 8: 0 unknown, 1 right thumb … 10 left little.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FingerPosition(pub u8);

impl FingerPosition {
    /// Checks the code (0–10 are fingers; 11–15 the multi-finger and palm codes the standards also allow).
    pub fn new(code: u8) -> MatchResult<Self> {
        if code <= 15 {
            Ok(FingerPosition(code))
        } else {
            Err(MatchError::invalid(format!("finger position {code} is not a code of ISO 19794-2 (0–15)")))
        }
    }
}

/// One finger view: its minutiae in the internal frame plus what is needed to write it back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// Minutiae in the internal 500 ppi frame.
    pub minutiae: Vec<Minutia>,
    /// Which finger this view is of.
    pub finger: FingerPosition,
    /// Image width in source pixels.
    pub width: u16,
    /// Image height in source pixels.
    pub height: u16,
    /// Source horizontal resolution, pixels per inch.
    pub resolution_x_ppi: f32,
    /// Source vertical resolution, pixels per inch.
    pub resolution_y_ppi: f32,
    /// Finger view quality 0–100 (0 = not reported).
    pub view_quality: u8,
    /// Impression type code (0 live-scan plain, 1 live-scan rolled, 2 non-live plain, …).
    pub impression: u8,
}

impl Template {
    /// Builds a template from minutiae in **source** pixels and degrees at the given resolutions,
    /// converting them to the internal frame and validating every value.
    pub fn from_source(
        source: &[(f32, f32, f32, MinutiaKind, u8)],
        resolution_x_ppi: f32,
        resolution_y_ppi: f32,
    ) -> MatchResult<Self> {
        check_resolution(resolution_x_ppi)?;
        check_resolution(resolution_y_ppi)?;
        if source.len() > MAX_MINUTIAE {
            return Err(MatchError::invalid(format!(
                "{} minutiae in one view; the formats allow at most {MAX_MINUTIAE}",
                source.len()
            )));
        }
        let (sx, sy) = (INTERNAL_PPI / resolution_x_ppi, INTERNAL_PPI / resolution_y_ppi);
        let mut minutiae = Vec::with_capacity(source.len());
        for (i, &(x, y, degrees, kind, quality)) in source.iter().enumerate() {
            if !(x.is_finite() && y.is_finite() && degrees.is_finite()) || x < 0.0 || y < 0.0 {
                return Err(MatchError::invalid(format!("minutia {i}: position or angle is not a finite value ≥ 0")));
            }
            if quality > 100 {
                return Err(MatchError::invalid(format!("minutia {i}: quality {quality} is above 100")));
            }
            minutiae.push(Minutia { x: x * sx, y: y * sy, angle: wrap_angle(degrees.to_radians()), kind, quality });
        }
        Ok(Template { minutiae, resolution_x_ppi, resolution_y_ppi, ..Template::default() })
    }
}

/// Magic number of the exact snapshot of a template (pickling, caches): "CGMT", then a format version.
pub const SNAPSHOT_MAGIC: &[u8; 4] = b"CGMT";
/// Version of the snapshot layout written by [`Template::to_snapshot`].
pub const SNAPSHOT_VERSION: u16 = 1;

impl Template {
    /// An exact, versioned binary copy of the template (every `f32` bit for bit), unlike the interchange
    /// formats, which round positions to source pixels and angles to their unit. Layout, big-endian: magic
    /// (4), version (2), x and y resolution (f32 + f32), width, height (u16 + u16), finger position,
    /// view quality, impression type, minutia count (u8 each), then per minutia x, y, angle (f32 each),
    /// kind, quality (u8 each).
    pub fn to_snapshot(&self) -> Vec<u8> {
        let n = self.minutiae.len().min(MAX_MINUTIAE);
        let mut out = Vec::with_capacity(22 + 14 * n);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_be_bytes());
        out.extend_from_slice(&self.resolution_x_ppi.to_bits().to_be_bytes());
        out.extend_from_slice(&self.resolution_y_ppi.to_bits().to_be_bytes());
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&[self.finger.0, self.view_quality, self.impression, n as u8]);
        for m in &self.minutiae[..n] {
            out.extend_from_slice(&m.x.to_bits().to_be_bytes());
            out.extend_from_slice(&m.y.to_bits().to_be_bytes());
            out.extend_from_slice(&m.angle.to_bits().to_be_bytes());
            out.extend_from_slice(&[m.kind.code(), m.quality]);
        }
        out
    }

    /// Reads [`Template::to_snapshot`] back, checking every value as the format readers do.
    pub fn from_snapshot(data: &[u8]) -> MatchResult<Template> {
        let mut c = Cursor::new(data);
        if c.bytes(4, "snapshot magic")? != SNAPSHOT_MAGIC {
            return Err(MatchError::format(0, "snapshot magic", 0, "not a cgi-match template snapshot"));
        }
        let version = c.u16("snapshot version")?;
        if version != SNAPSHOT_VERSION {
            return Err(MatchError::format(0, "snapshot version", 4, format!("version {version} is not supported")));
        }
        let res_x = f32::from_bits(c.u32("x resolution")?);
        let res_y = f32::from_bits(c.u32("y resolution")?);
        check_resolution(res_x)
            .and(check_resolution(res_y))
            .map_err(|e| MatchError::format(0, "resolution", 6, e.to_string()))?;
        let width = c.u16("image width")?;
        let height = c.u16("image height")?;
        let finger_at = c.offset();
        let finger = FingerPosition::new(c.u8("finger position")?)
            .map_err(|e| MatchError::format(0, "finger position", finger_at, e.to_string()))?;
        let view_quality = c.u8("finger quality")?;
        let impression = c.u8("impression type")?;
        let n = c.u8("number of minutiae")? as usize;
        let mut minutiae = Vec::with_capacity(n);
        for _ in 0..n {
            let at = c.offset();
            let x = f32::from_bits(c.u32("minutia x")?);
            let y = f32::from_bits(c.u32("minutia y")?);
            let angle = f32::from_bits(c.u32("minutia angle")?);
            let kind = c.u8("minutia type")?;
            let quality = c.u8("minutia quality")?;
            let ok = x.is_finite() && y.is_finite() && x >= 0.0 && y >= 0.0 && (0.0..TAU).contains(&angle);
            if !ok || kind > 2 || quality > 100 || view_quality > 100 {
                return Err(MatchError::format(0, "minutia", at, "value out of range"));
            }
            minutiae.push(Minutia { x, y, angle, kind: MinutiaKind::from_code(kind), quality });
        }
        if c.remaining() != 0 {
            return Err(c.error("end of snapshot", format!("{} bytes after the last minutia", c.remaining())));
        }
        Ok(Template {
            minutiae,
            finger,
            width,
            height,
            resolution_x_ppi: res_x,
            resolution_y_ppi: res_y,
            view_quality,
            impression,
        })
    }
}

/// Brings any finite angle into `[0, 2π)`.
pub fn wrap_angle(radians: f32) -> f32 {
    let a = radians.rem_euclid(TAU);
    // rem_euclid can return TAU itself for tiny negative inputs because of rounding.
    if a >= TAU {
        0.0
    } else {
        a
    }
}

fn check_resolution(ppi: f32) -> MatchResult<()> {
    // 100–2000 ppi covers every sensor and scan in use; anything else is a corrupt header.
    if ppi.is_finite() && (100.0..=2000.0).contains(&ppi) {
        Ok(())
    } else {
        Err(MatchError::invalid(format!("resolution {ppi} ppi is outside 100–2000 ppi")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_internal_frame() {
        let t = Template::from_source(&[(100.0, 50.0, 90.0, MinutiaKind::Ending, 60)], 250.0, 500.0).unwrap();
        let m = t.minutiae[0];
        assert!((m.x - 200.0).abs() < 1e-4 && (m.y - 50.0).abs() < 1e-4);
        assert!((m.angle - std::f32::consts::FRAC_PI_2).abs() < 1e-6);
    }

    #[test]
    fn rejects_bad_values() {
        assert!(Template::from_source(&[(f32::NAN, 0.0, 0.0, MinutiaKind::Other, 0)], 500.0, 500.0).is_err());
        assert!(Template::from_source(&[(1.0, 1.0, 0.0, MinutiaKind::Other, 101)], 500.0, 500.0).is_err());
        assert!(Template::from_source(&[], 0.0, 500.0).is_err());
        let many = vec![(1.0, 1.0, 0.0, MinutiaKind::Other, 0); 256];
        assert!(Template::from_source(&many, 500.0, 500.0).is_err());
    }

    #[test]
    fn snapshots_are_exact_and_checked() {
        let mut t = Template::from_source(&[(100.3, 50.7, 91.3, MinutiaKind::Bifurcation, 60)], 569.0, 500.0).unwrap();
        t.finger = FingerPosition(7);
        t.width = 300;
        let bytes = t.to_snapshot();
        assert_eq!(Template::from_snapshot(&bytes).unwrap(), t);
        for n in 0..bytes.len() {
            assert!(Template::from_snapshot(&bytes[..n]).is_err());
        }
        let mut bad = bytes.clone();
        bad[bytes.len() - 1] = 101;
        assert!(Template::from_snapshot(&bad).is_err());
    }

    #[test]
    fn wraps_angles() {
        assert!((wrap_angle(-0.5) - (TAU - 0.5)).abs() < 1e-6);
        assert!(wrap_angle(-1e-9) < TAU);
        assert!((wrap_angle(7.0) - (7.0 - TAU)).abs() < 1e-6);
    }
}
