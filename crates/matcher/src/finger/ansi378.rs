//! ANSI INCITS 378-2004 finger minutiae records ("FMR\0", version " 20\0"): reader and writer.
//!
//! Layout (all big-endian), which differs from ISO/IEC 19794-2:2005 only in the record header and the angle
//! unit: format id (4), version (4), record length — **2 bytes**, or, when the record is longer than 65,535
//! bytes, the two bytes `0x0000` followed by a **4-byte** length (the "long form") —, CBEFF product
//! identifier (4: owner 2 + type 2), capture equipment (2: compliance 4 bits + equipment id 12 bits), image
//! width and height (2 + 2), x and y resolution (2 + 2, pixels per centimetre), number of finger views (1),
//! reserved (1). Finger views are laid out as in ISO 19794-2 (see `view.rs`), but the minutia angle unit is
//! **2 degrees**, so valid codes run 0–179.

use super::record::Cursor;
use super::template::Template;
use super::view::{check_same_frame, ppi_to_cm, read_views, write_views, ImageFrame, ViewFormat};
use crate::error::{MatchError, MatchResult};

/// Format identifier at the start of every ANSI 378 record (the same as ISO's).
pub const MAGIC: &[u8; 4] = b"FMR\0";
/// The 2004 edition's version field.
pub const VERSION_2004: &[u8; 4] = b" 20\0";
/// Most finger views one record may hold (the count is one byte).
pub const MAX_VIEWS: usize = 255;
/// Longest record the short length form can state.
const SHORT_FORM_MAX: usize = 0xFFFF;
/// ANSI angle unit: 2 degrees, codes 0–179.
const FORMAT: ViewFormat = ViewFormat { angle_unit_deg: 2.0, angle_codes: 180 };

/// The CBEFF product identifier of the record's header: who made the extractor, and which product it is
/// (registered with IBIA); kept so that a record can be written back as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ProductId {
    /// CBEFF product owner (vendor).
    pub owner: u16,
    /// CBEFF product type.
    pub product_type: u16,
}

/// A whole ANSI 378 record: its header fields that the template model does not keep, and its views.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// CBEFF product identifier.
    pub product: ProductId,
    /// Capture equipment compliance (4 bits) and id (12 bits), as stored.
    pub capture_equipment: u16,
    /// The finger views.
    pub views: Vec<Template>,
}

/// Where the record length field says the views start: after a 26-byte (short form) or 30-byte (long form)
/// header; `None` when the length fields match neither form for an input of `data.len()` bytes.
pub fn header_length(data: &[u8]) -> Option<usize> {
    let short = u16::from_be_bytes([*data.get(8)?, *data.get(9)?]) as usize;
    if short != 0 {
        return (short == data.len()).then_some(26);
    }
    let long = u32::from_be_bytes([*data.get(10)?, *data.get(11)?, *data.get(12)?, *data.get(13)?]) as usize;
    (long == data.len()).then_some(30)
}

/// Reads every finger view of one record.
pub fn read(data: &[u8]) -> MatchResult<Vec<Template>> {
    read_record(data).map(|r| r.views)
}

/// Reads one record with its CBEFF product id; the record length, counts and every field are checked.
pub fn read_record(data: &[u8]) -> MatchResult<Record> {
    let mut c = Cursor::new(data);
    if c.bytes(4, "format identifier")? != MAGIC {
        return Err(MatchError::format(0, "format identifier", 0, "not an ANSI 378 record (expected 'FMR\\0')"));
    }
    if c.bytes(4, "version")? != VERSION_2004 {
        return Err(MatchError::format(0, "version", 4, "unsupported version (expected ' 20\\0', the 2004 edition)"));
    }
    let length_at = c.offset();
    let mut length = c.u16("record length")? as usize;
    if length == 0 {
        // Long form: two zero bytes, then the length in four.
        length = c.u32("record length (long form)")? as usize;
        if length <= SHORT_FORM_MAX {
            return Err(MatchError::format(
                0,
                "record length (long form)",
                length_at + 2,
                format!("{length} bytes must use the 2-byte short form"),
            ));
        }
    }
    if length != data.len() {
        return Err(MatchError::format(
            0,
            "record length",
            length_at,
            format!("header says {length} bytes, the input has {}", data.len()),
        ));
    }
    let owner = c.u16("CBEFF product owner")?;
    let product_type = c.u16("CBEFF product type")?;
    let capture_equipment = c.u16("capture equipment")?;
    let width = c.u16("image width")?;
    let height = c.u16("image height")?;
    let frame = ImageFrame::read_resolution(&mut c, width, height)?;
    let views = c.u8("number of finger views")? as usize;
    c.u8("reserved")?;
    if views == 0 {
        return Err(MatchError::format(0, "number of finger views", c.offset() - 2, "record has no finger view"));
    }
    let views = read_views(&mut c, views, frame, FORMAT)?;
    if c.remaining() != 0 {
        return Err(c.error("end of record", format!("{} bytes after the last finger view", c.remaining())));
    }
    Ok(Record { product: ProductId { owner, product_type }, capture_equipment, views })
}

/// Writes finger views as one ANSI 378 record with product id 0/0 (unregistered); see [`write_record`].
pub fn write(views: &[Template]) -> MatchResult<Vec<u8>> {
    write_record(&Record { views: views.to_vec(), ..Record::default() })
}

/// Writes a record, choosing the short length form when it fits and the long form otherwise. Angles round to
/// the 2° unit and positions to whole source pixels; extended data is not written.
pub fn write_record(record: &Record) -> MatchResult<Vec<u8>> {
    let views = &record.views;
    let first = views.first().ok_or_else(|| MatchError::invalid("an ANSI record needs at least one finger view"))?;
    if views.len() > MAX_VIEWS {
        return Err(MatchError::invalid(format!("{} finger views; ANSI 378 allows at most {MAX_VIEWS}", views.len())));
    }
    check_same_frame(views)?;
    let res_x_cm = ppi_to_cm(first.resolution_x_ppi)?;
    let res_y_cm = ppi_to_cm(first.resolution_y_ppi)?;
    let mut body = Vec::with_capacity(views.iter().map(|v| 6 + 6 * v.minutiae.len()).sum::<usize>());
    write_views(&mut body, views, FORMAT)?;
    let short_total = 26 + body.len();
    let mut out = Vec::with_capacity(short_total + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(VERSION_2004);
    if short_total <= SHORT_FORM_MAX {
        out.extend_from_slice(&(short_total as u16).to_be_bytes());
    } else {
        let total = u32::try_from(short_total + 4).map_err(|_| MatchError::invalid("record longer than 4 GiB"))?;
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&total.to_be_bytes());
    }
    out.extend_from_slice(&record.product.owner.to_be_bytes());
    out.extend_from_slice(&record.product.product_type.to_be_bytes());
    out.extend_from_slice(&record.capture_equipment.to_be_bytes());
    out.extend_from_slice(&first.width.to_be_bytes());
    out.extend_from_slice(&first.height.to_be_bytes());
    out.extend_from_slice(&res_x_cm.to_be_bytes());
    out.extend_from_slice(&res_y_cm.to_be_bytes());
    out.push(views.len() as u8);
    out.push(0);
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finger::MinutiaKind;

    /// A two-minutia record built by hand from the layout in the module doc (short length form).
    fn sample() -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(b"FMR\0 20\0");
        r.extend_from_slice(&(26_u16 + 4 + 12 + 2).to_be_bytes());
        r.extend_from_slice(&[0x00, 0x33, 0x00, 0x07]); // CBEFF owner 0x33, type 7
        r.extend_from_slice(&[0, 0, 0x01, 0x2c, 0x01, 0x90, 0, 197, 0, 197, 1, 0]);
        r.extend_from_slice(&[7, 0, 60, 2]);
        r.extend_from_slice(&[0x40, 151, 0, 91, 45, 50]); // ending at (151, 91), 45 × 2° = 90°
        r.extend_from_slice(&[0x80, 10, 0, 20, 179, 0]); // bifurcation at (10, 20), 358°
        r.extend_from_slice(&[0, 0]);
        r
    }

    #[test]
    fn reads_a_short_form_record() {
        let rec = read_record(&sample()).unwrap();
        assert_eq!(rec.product, ProductId { owner: 0x33, product_type: 7 });
        let v = &rec.views[0];
        assert_eq!((v.width, v.height, v.finger.0, v.view_quality), (300, 400, 7, 60));
        assert_eq!(v.minutiae[0].kind, MinutiaKind::Ending);
        assert!((v.minutiae[0].angle.to_degrees() - 90.0).abs() < 1e-3);
        assert!((v.minutiae[1].angle.to_degrees() - 358.0).abs() < 1e-3);
        assert_eq!(header_length(&sample()), Some(26));
    }

    #[test]
    fn round_trips_short_form() {
        let bytes = sample();
        assert_eq!(write_record(&read_record(&bytes).unwrap()).unwrap(), bytes);
    }

    #[test]
    fn long_form_round_trips_and_short_lengths_in_long_form_are_refused() {
        // 12 views of 255 minutiae are longer than 65,535 bytes, which forces the long form.
        let view = read(&sample()).unwrap().remove(0);
        let mut big = view.clone();
        big.minutiae = (0..255).map(|i| view.minutiae[i % 2]).collect();
        let views = vec![big; 50];
        let bytes = write(&views).unwrap();
        assert!(bytes.len() > 65_535);
        assert_eq!(&bytes[8..10], &[0, 0]);
        assert_eq!(header_length(&bytes), Some(30));
        assert_eq!(read(&bytes).unwrap().len(), 50);
        assert_eq!(write(&read(&bytes).unwrap()).unwrap(), bytes);

        let mut short_in_long = sample();
        short_in_long.splice(8..10, [0, 0, 0, 0, 0, 48]);
        let err = read(&short_in_long).unwrap_err().to_string();
        assert!(err.contains("long form") && err.contains("byte 10"), "{err}");
    }

    #[test]
    fn angle_codes_above_179_are_errors() {
        let mut bytes = sample();
        bytes[34] = 180;
        let err = read(&bytes).unwrap_err().to_string();
        assert!(err.contains("minutia angle") && err.contains("byte 34"), "{err}");
    }

    #[test]
    fn truncation_is_an_error_at_every_length() {
        let bytes = sample();
        for n in 0..bytes.len() {
            assert!(read(&bytes[..n]).is_err(), "prefix of {n} bytes was accepted");
        }
    }

    #[test]
    fn resolution_outside_real_sensors_names_the_field() {
        let mut bytes = sample();
        bytes[21] = 0; // x resolution 0 px/cm
        let err = read(&bytes).unwrap_err().to_string();
        assert!(err.contains("x resolution") && err.contains("byte 20"), "{err}");
    }
}
