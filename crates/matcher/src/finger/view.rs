//! The finger view record that ISO/IEC 19794-2:2005 and ANSI INCITS 378-2004 share byte for byte, except
//! for the angle unit: view header (finger position, view number + impression type, finger quality, minutia
//! count), 6 bytes per minutia, then an extended data block skipped by its length.

use super::record::Cursor;
use super::template::{FingerPosition, MinutiaKind, Template, INTERNAL_PPI, MAX_MINUTIAE};
use crate::error::{MatchError, MatchResult};

/// What differs between the two standards inside a finger view.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ViewFormat {
    /// Degrees per angle step: 360/256 in ISO 19794-2, 2 in ANSI 378.
    pub angle_unit_deg: f32,
    /// Number of valid angle codes: 256 in ISO (every byte), 180 in ANSI (0–179).
    pub angle_codes: u16,
}

/// Record-header values every view needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImageFrame {
    pub width: u16,
    pub height: u16,
    pub res_x_ppi: f32,
    pub res_y_ppi: f32,
}

impl ImageFrame {
    /// Reads the x and y resolution fields (pixels per centimetre) and checks them against the range of
    /// real sensors and scans (100–2000 ppi, as [`Template::from_source`] requires).
    pub(crate) fn read_resolution(c: &mut Cursor<'_>, width: u16, height: u16) -> MatchResult<Self> {
        let mut ppi = [0.0_f32; 2];
        for (slot, field) in ppi.iter_mut().zip(["x resolution", "y resolution"]) {
            let at = c.offset();
            let cm = c.u16(field)?;
            *slot = f32::from(cm) * CM_PER_INCH;
            if !(100.0..=2000.0).contains(slot) {
                return Err(MatchError::format(
                    0,
                    field,
                    at,
                    format!("{cm} pixels/cm ({:.0} ppi) is outside 100–2000 ppi", *slot),
                ));
            }
        }
        Ok(ImageFrame { width, height, res_x_ppi: ppi[0], res_y_ppi: ppi[1] })
    }
}

/// Both formats store image size and resolution once per record: refuse to write views that disagree.
pub(crate) fn check_same_frame(views: &[Template]) -> MatchResult<()> {
    if let Some(first) = views.first() {
        for (i, v) in views.iter().enumerate().skip(1) {
            if (v.width, v.height) != (first.width, first.height)
                || v.resolution_x_ppi.to_bits() != first.resolution_x_ppi.to_bits()
                || v.resolution_y_ppi.to_bits() != first.resolution_y_ppi.to_bits()
            {
                return Err(MatchError::invalid(format!(
                    "view {i} has another image size or resolution than view 0; one record holds one of each"
                )));
            }
        }
    }
    Ok(())
}

/// Reads `views` finger views at the cursor.
pub(crate) fn read_views(
    c: &mut Cursor<'_>,
    views: usize,
    frame: ImageFrame,
    format: ViewFormat,
) -> MatchResult<Vec<Template>> {
    let mut out = Vec::with_capacity(views.min(16));
    for view in 0..views {
        c.record = view;
        let finger_at = c.offset();
        let finger = FingerPosition::new(c.u8("finger position")?)
            .map_err(|e| MatchError::format(view, "finger position", finger_at, e.to_string()))?;
        let view_impression = c.u8("view number / impression type")?;
        let view_quality = c.u8("finger quality")?;
        if view_quality > 100 {
            return Err(MatchError::format(
                view,
                "finger quality",
                c.offset() - 1,
                format!("{view_quality} is above 100"),
            ));
        }
        let count = c.u8("number of minutiae")? as usize;
        // The count is one byte, so at most 255 = MAX_MINUTIAE; the cursor checks the bytes are there.
        let mut source = Vec::with_capacity(count.min(MAX_MINUTIAE));
        for _ in 0..count {
            let at = c.offset();
            let tx = c.u16("minutia type / x")?;
            let ry = c.u16("minutia y")?;
            let angle = c.u8("minutia angle")?;
            let quality = c.u8("minutia quality")?;
            let (x, y) = (tx & 0x3FFF, ry & 0x3FFF);
            if x >= frame.width.max(1) || y >= frame.height.max(1) {
                return Err(MatchError::format(
                    view,
                    "minutia x / y",
                    at,
                    format!("({x}, {y}) lies outside the {}×{} image", frame.width, frame.height),
                ));
            }
            if u16::from(angle) >= format.angle_codes {
                return Err(MatchError::format(
                    view,
                    "minutia angle",
                    at + 4,
                    format!("angle code {angle} is above the largest, {}", format.angle_codes - 1),
                ));
            }
            if quality > 100 {
                return Err(MatchError::format(view, "minutia quality", at + 5, format!("{quality} is above 100")));
            }
            let kind = MinutiaKind::from_code((tx >> 14) as u8);
            source.push((f32::from(x), f32::from(y), f32::from(angle) * format.angle_unit_deg, kind, quality));
        }
        let ext_len = c.u16("extended data block length")? as usize;
        c.skip(ext_len, "extended data block")?;
        let mut t = Template::from_source(&source, frame.res_x_ppi, frame.res_y_ppi)
            .map_err(|e| c.error("finger view", e.to_string()))?;
        t.finger = finger;
        t.width = frame.width;
        t.height = frame.height;
        t.view_quality = view_quality;
        t.impression = view_impression & 0x0F;
        out.push(t);
    }
    Ok(out)
}

/// Appends the finger views in the shared layout (no extended data); positions round to whole source pixels.
pub(crate) fn write_views(out: &mut Vec<u8>, views: &[Template], format: ViewFormat) -> MatchResult<()> {
    for (i, v) in views.iter().enumerate() {
        if v.minutiae.len() > MAX_MINUTIAE {
            return Err(MatchError::invalid(format!(
                "view {i}: {} minutiae, at most {MAX_MINUTIAE}",
                v.minutiae.len()
            )));
        }
        out.push(v.finger.0);
        // View number (high nibble) is the view's index among views of the same finger.
        let same_finger_before = views[..i].iter().filter(|o| o.finger == v.finger).count().min(15) as u8;
        out.push((same_finger_before << 4) | (v.impression & 0x0F));
        out.push(v.view_quality.min(100));
        out.push(v.minutiae.len() as u8);
        let (sx, sy) = (v.resolution_x_ppi / INTERNAL_PPI, v.resolution_y_ppi / INTERNAL_PPI);
        for m in &v.minutiae {
            let x = (m.x * sx).round().clamp(0.0, f32::from(v.width.saturating_sub(1)).min(16383.0)) as u16;
            let y = (m.y * sy).round().clamp(0.0, f32::from(v.height.saturating_sub(1)).min(16383.0)) as u16;
            let angle = (m.angle.to_degrees() / format.angle_unit_deg).round() as u32 % u32::from(format.angle_codes);
            out.extend_from_slice(&((u16::from(m.kind.code()) << 14) | x).to_be_bytes());
            out.extend_from_slice(&y.to_be_bytes());
            out.push(angle as u8);
            out.push(m.quality.min(100));
        }
        out.extend_from_slice(&0_u16.to_be_bytes());
    }
    Ok(())
}

/// Resolution in pixels per centimetre, as both headers store it.
pub(crate) fn ppi_to_cm(ppi: f32) -> MatchResult<u16> {
    let cm = (ppi / CM_PER_INCH).round();
    if (1.0..=f32::from(u16::MAX)).contains(&cm) {
        Ok(cm as u16)
    } else {
        Err(MatchError::invalid(format!("resolution {ppi} ppi cannot be written")))
    }
}

/// Centimetres per inch, to turn the headers' pixels per centimetre into ppi.
pub(crate) const CM_PER_INCH: f32 = 2.54;
