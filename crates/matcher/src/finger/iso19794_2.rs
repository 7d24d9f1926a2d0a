//! ISO/IEC 19794-2:2005 finger minutiae records ("FMR\0", version " 20\0"): reader and writer.
//!
//! Layout (all big-endian): 24-byte record header — format id (4), version (4), record length (4), capture
//! equipment (2: certification 4 bits + device type 12 bits), image width (2), height (2), x and y resolution
//! (2 + 2, **pixels per centimetre**), number of finger views (1), reserved (1). Each view: finger position
//! (1), view number (4 bits) + impression type (4 bits) (1), finger quality (1), minutia count (1), then
//! 6 bytes per minutia — type (2 bits) + x (14 bits), reserved (2 bits) + y (14 bits), angle (1, unit
//! 360/256°), quality (1) — then the extended data block length (2) and that many bytes, skipped.

use super::record::Cursor;
use super::template::Template;
use super::view::{check_same_frame, ppi_to_cm, read_views, write_views, ImageFrame, ViewFormat};
use crate::error::{MatchError, MatchResult};

/// Format identifier at the start of every ISO 19794-2 record.
pub const MAGIC: &[u8; 4] = b"FMR\0";
/// The 2005 edition's version field.
pub const VERSION_2005: &[u8; 4] = b" 20\0";
/// Most finger views one record may hold; the count is one byte, real records carry 1–10.
pub const MAX_VIEWS: usize = 255;
/// ISO angle unit: 360/256 degrees, every byte value valid.
const FORMAT: ViewFormat = ViewFormat { angle_unit_deg: 360.0 / 256.0, angle_codes: 256 };

/// True when `data` starts like an ISO 19794-2:2005 record (used by format detection).
pub fn looks_like(data: &[u8]) -> bool {
    data.len() >= 8 && &data[0..4] == MAGIC && &data[4..8] == VERSION_2005
}

/// Reads every finger view of one record; the record length, counts and every field are checked.
pub fn read(data: &[u8]) -> MatchResult<Vec<Template>> {
    let mut c = Cursor::new(data);
    if c.bytes(4, "format identifier")? != MAGIC {
        return Err(MatchError::format(0, "format identifier", 0, "not an ISO 19794-2 record (expected 'FMR\\0')"));
    }
    if c.bytes(4, "version")? != VERSION_2005 {
        return Err(MatchError::format(0, "version", 4, "unsupported version (expected ' 20\\0', the 2005 edition)"));
    }
    let length_at = c.offset();
    let length = c.u32("record length")? as usize;
    if length != data.len() {
        return Err(MatchError::format(
            0,
            "record length",
            length_at,
            format!("header says {length} bytes, the input has {}", data.len()),
        ));
    }
    c.u16("capture equipment")?;
    let width = c.u16("image width")?;
    let height = c.u16("image height")?;
    let frame = ImageFrame::read_resolution(&mut c, width, height)?;
    let views = c.u8("number of finger views")? as usize;
    c.u8("reserved")?;
    if views == 0 {
        return Err(MatchError::format(0, "number of finger views", c.offset() - 2, "record has no finger view"));
    }
    let out = read_views(&mut c, views, frame, FORMAT)?;
    if c.remaining() != 0 {
        return Err(c.error("end of record", format!("{} bytes after the last finger view", c.remaining())));
    }
    Ok(out)
}

/// Writes finger views as one ISO 19794-2:2005 record; what [`read`] returns writes back to the same bytes
/// (extended data is not kept, and positions round to whole source pixels).
pub fn write(views: &[Template]) -> MatchResult<Vec<u8>> {
    let first = views.first().ok_or_else(|| MatchError::invalid("an ISO record needs at least one finger view"))?;
    if views.len() > MAX_VIEWS {
        return Err(MatchError::invalid(format!(
            "{} finger views; ISO 19794-2 allows at most {MAX_VIEWS}",
            views.len()
        )));
    }
    check_same_frame(views)?;
    let res_x_cm = ppi_to_cm(first.resolution_x_ppi)?;
    let res_y_cm = ppi_to_cm(first.resolution_y_ppi)?;
    let mut out = Vec::with_capacity(24 + views.iter().map(|v| 6 + 6 * v.minutiae.len()).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(VERSION_2005);
    out.extend_from_slice(&[0; 4]); // record length, filled in below
    out.extend_from_slice(&0_u16.to_be_bytes());
    out.extend_from_slice(&first.width.to_be_bytes());
    out.extend_from_slice(&first.height.to_be_bytes());
    out.extend_from_slice(&res_x_cm.to_be_bytes());
    out.extend_from_slice(&res_y_cm.to_be_bytes());
    out.push(views.len() as u8);
    out.push(0);
    write_views(&mut out, views, FORMAT)?;
    let len = u32::try_from(out.len()).map_err(|_| MatchError::invalid("record longer than 4 GiB"))?;
    out[8..12].copy_from_slice(&len.to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finger::MinutiaKind;

    /// A two-minutia record built by hand from the layout in the module doc.
    fn sample() -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(b"FMR\0 20\0");
        r.extend_from_slice(&(24_u32 + 4 + 12 + 2).to_be_bytes());
        r.extend_from_slice(&[0, 0, 0x01, 0x2c, 0x01, 0x90, 0, 197, 0, 197, 1, 0]);
        r.extend_from_slice(&[2, 0, 60, 2]);
        r.extend_from_slice(&[0x40, 151, 0, 91, 141, 50]); // ending at (151, 91), 141 units
        r.extend_from_slice(&[0x80, 10, 0, 20, 0, 0]); // bifurcation at (10, 20), 0°
        r.extend_from_slice(&[0, 0]);
        r
    }

    #[test]
    fn reads_a_record() {
        let views = read(&sample()).unwrap();
        assert_eq!(views.len(), 1);
        let v = &views[0];
        assert_eq!((v.width, v.height, v.finger.0, v.view_quality), (300, 400, 2, 60));
        assert_eq!(v.minutiae.len(), 2);
        assert_eq!(v.minutiae[0].kind, MinutiaKind::Ending);
        assert!((v.minutiae[0].angle.to_degrees() - 141.0 * 360.0 / 256.0).abs() < 1e-3);
        // 197 px/cm = 500.38 ppi, so internal coordinates are scaled very slightly.
        assert!((v.minutiae[0].x - 151.0 * 500.0 / 500.38).abs() < 1e-2);
    }

    #[test]
    fn round_trips() {
        let bytes = sample();
        assert_eq!(write(&read(&bytes).unwrap()).unwrap(), bytes);
    }

    #[test]
    fn truncation_is_an_error_at_every_length() {
        let bytes = sample();
        for n in 0..bytes.len() {
            assert!(read(&bytes[..n]).is_err(), "prefix of {n} bytes was accepted");
        }
    }

    #[test]
    fn skips_extended_data_by_its_length() {
        let mut bytes = sample();
        let n = bytes.len();
        bytes[n - 1] = 3;
        bytes.extend_from_slice(&[9, 9, 9]);
        let len = bytes.len() as u32;
        bytes[8..12].copy_from_slice(&len.to_be_bytes());
        assert_eq!(read(&bytes).unwrap()[0].minutiae.len(), 2);
    }

    #[test]
    fn names_the_field_of_an_inconsistent_value() {
        let mut bytes = sample();
        bytes[29] = 200; // first minutia x beyond the 300-pixel width
        bytes[28] = 0x41;
        let err = read(&bytes).unwrap_err().to_string();
        assert!(err.contains("minutia x / y") && err.contains("byte 28"), "{err}");
    }
}
