//! The template model every reader produces and the matcher consumes: minutiae in one internal frame
//! (500 ppi pixels, angles in radians), whatever the source format, extractor or resolution.

use std::f32::consts::TAU;

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
    fn wraps_angles() {
        assert!((wrap_angle(-0.5) - (TAU - 0.5)).abs() < 1e-6);
        assert!(wrap_angle(-1e-9) < TAU);
        assert!((wrap_angle(7.0) - (7.0 - TAU)).abs() < 1e-6);
    }
}
