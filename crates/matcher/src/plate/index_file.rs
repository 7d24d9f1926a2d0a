//! The plate index file: a versioned little-endian binary format with a CRC-32 over everything, so that a
//! truncated, corrupted or foreign file is refused with a clear error before any of it is trusted.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "CGIPLATE"
//! 8       4     format version (u32) = FORMAT_VERSION
//! 12      1     crate version length n (≤ 32)
//! 13      n     crate version that wrote the file (UTF-8), for the record
//! 13+n    8     body length (u64)
//! 21+n    …     body (below)
//! end-4   4     CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of every byte before it
//! ```
//!
//! Body, in order: OCR classes (u32 count, then u32 length + UTF-8 each); alert count m (u32); alert ids
//! and normalised keys (each: m + 1 u32 offsets, u32 data length, data); countries (m × u16, alpha-2
//! ASCII packed big-endian, 0 = unknown); valid_from and valid_to (m × i64 each, epoch µs); input rows
//! (m × u32); rejects (u32 count, then u32 row + u8 code each); source rows (u64); attachment (u64 length +
//! bytes). Candidate tables are not stored: they are rebuilt on load (a fraction of a second per million
//! alerts), which keeps the format independent of the table layout.

use crate::error::{MatchError, MatchResult};
use crate::plate::country::Country;
use crate::plate::index::{PlateIndex, Strings};
use crate::plate::normalise::{normalise_plate, PlateReject};
use crate::plate::ocr::OcrClasses;

/// First bytes of every plate index file.
pub const MAGIC: &[u8; 8] = b"CGIPLATE";
/// Version of the layout above; bumped on any change, older versions are refused with a clear message.
pub const FORMAT_VERSION: u32 = 1;
/// Largest alert count a file may declare (checked before anything is allocated).
const MAX_ALERTS: u64 = 1 << 31;

/// CRC-32 (IEEE 802.3), table-driven; written here rather than pulled in for twenty lines.
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0_u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0_u32;
    for &b in bytes {
        c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

impl PlateIndex {
    /// Serialises the index (without its candidate tables) into the file format above.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_with_attachment(&self.attachment)
    }

    /// [`PlateIndex::to_bytes`] with `attachment` stored in place of the one given at build time (the
    /// Python layer attaches its pass-through columns only when saving, instead of holding them twice).
    pub fn to_bytes_with_attachment(&self, attachment: &[u8]) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.len() * 48 + attachment.len() + 64);
        put_u32(&mut body, self.classes.classes().len() as u32);
        for c in self.classes.classes() {
            put_u32(&mut body, c.len() as u32);
            body.extend_from_slice(c.as_bytes());
        }
        put_u32(&mut body, self.len() as u32);
        for strings in [&self.ids, &self.keys] {
            for &o in &strings.offsets {
                put_u32(&mut body, o);
            }
            put_u32(&mut body, strings.data.len() as u32);
            body.extend_from_slice(&strings.data);
        }
        for h in &self.hot {
            body.extend_from_slice(&h.country.0.to_le_bytes());
        }
        for v in self.hot.iter().map(|h| h.from).chain(self.hot.iter().map(|h| h.to)) {
            body.extend_from_slice(&v.to_le_bytes());
        }
        for &r in &self.row {
            put_u32(&mut body, r);
        }
        put_u32(&mut body, self.rejects.len() as u32);
        for &(r, code) in &self.rejects {
            put_u32(&mut body, r);
            body.push(code);
        }
        body.extend_from_slice(&self.source_rows.to_le_bytes());
        body.extend_from_slice(&(attachment.len() as u64).to_le_bytes());
        body.extend_from_slice(attachment);

        let version = crate::VERSION.as_bytes();
        let version = &version[..version.len().min(32)];
        let mut out = Vec::with_capacity(body.len() + 64);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, FORMAT_VERSION);
        out.push(version.len() as u8);
        out.extend_from_slice(version);
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&body);
        let crc = crc32(&out);
        put_u32(&mut out, crc);
        out
    }

    /// Reads an index written by [`PlateIndex::to_bytes`]; any defect is a [`MatchError::IndexFile`] naming
    /// the field and byte offset. Returns the index and the crate version that wrote it.
    pub fn from_bytes(bytes: &[u8]) -> MatchResult<(Self, String)> {
        let mut r = Reader { buf: bytes, pos: 0 };
        let magic = r.take(8, "magic")?;
        if magic != MAGIC {
            return Err(MatchError::IndexFile("not a cgi-match plate index (magic bytes differ)".into()));
        }
        let version = r.u32("format version")?;
        if version != FORMAT_VERSION {
            return Err(MatchError::IndexFile(format!(
                "format version {version} is not supported (this build reads version {FORMAT_VERSION}); rebuild the index"
            )));
        }
        let vlen = r.u8("crate version length")?;
        if vlen > 32 {
            return Err(r.error("crate version length", format!("{vlen} is over 32")));
        }
        let writer = String::from_utf8_lossy(r.take(usize::from(vlen), "crate version")?).into_owned();
        let body_len = r.u64("body length")?;
        let header_end = r.pos;
        let expected = (header_end as u64).checked_add(body_len).and_then(|x| x.checked_add(4));
        if expected != Some(bytes.len() as u64) {
            return Err(MatchError::IndexFile(format!(
                "file is {} bytes but its header announces {} (truncated or appended to)",
                bytes.len(),
                expected.map_or_else(|| "an impossible size".to_owned(), |e| e.to_string())
            )));
        }
        let (content, stored) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
        if crc32(content) != stored {
            return Err(MatchError::IndexFile("checksum mismatch: the file is corrupted".into()));
        }
        // From here on the reader sees only the checksummed content, never the checksum itself.
        r.buf = content;

        let class_count = r.u32("OCR class count")?;
        if class_count > 1024 {
            return Err(r.error("OCR class count", format!("{class_count} is over 1024")));
        }
        let mut classes = Vec::new();
        for _ in 0..class_count {
            let len = r.u32("OCR class length")? as usize;
            let text = r.str(len, "OCR class")?;
            classes.push(text.to_owned());
        }
        let classes =
            OcrClasses::new(&classes).map_err(|e| MatchError::IndexFile(format!("OCR classes in the file: {e}")))?;
        let m = u64::from(r.u32("alert count")?);
        if m > MAX_ALERTS || m * 30 > body_len {
            return Err(r.error("alert count", format!("{m} does not fit the body of {body_len} bytes")));
        }
        let m = m as usize;
        let ids = r.strings(m, "alert ids")?;
        let keys = r.strings(m, "alert keys")?;
        let mut country = Vec::with_capacity(m);
        for _ in 0..m {
            country.push(Country(r.u16("country")?));
        }
        let mut valid_from = Vec::with_capacity(m);
        for _ in 0..m {
            valid_from.push(r.i64("valid_from")?);
        }
        let mut valid_to = Vec::with_capacity(m);
        for _ in 0..m {
            valid_to.push(r.i64("valid_to")?);
        }
        let mut row = Vec::with_capacity(m);
        for _ in 0..m {
            row.push(r.u32("input row")?);
        }
        let reject_count = r.u32("reject count")? as usize;
        if reject_count.saturating_mul(5) > r.remaining() {
            return Err(r.error("reject count", format!("{reject_count} rejects do not fit the file")));
        }
        let mut rejects = Vec::with_capacity(reject_count);
        for _ in 0..reject_count {
            let at = r.pos;
            let row = r.u32("reject row")?;
            let code = r.u8("reject code")?;
            if PlateReject::from_code(code).is_none() {
                return Err(MatchError::IndexFile(format!("field 'reject code' at byte {at}: unknown code {code}")));
            }
            rejects.push((row, code));
        }
        let source_rows = r.u64("source rows")?;
        let attachment_len = r.u64("attachment length")?;
        let attachment = r.take(usize::try_from(attachment_len).unwrap_or(usize::MAX), "attachment")?.to_vec();
        if r.remaining() != 0 {
            return Err(r.error("checksum", format!("{} unexpected bytes before the checksum", r.remaining())));
        }
        // Content checks: every key is a normalised plate, ids are present, validity windows are not empty.
        for a in 0..m {
            let key = keys.get(a);
            if normalise_plate(key, true).as_deref() != Ok(key) || key.is_empty() {
                return Err(MatchError::IndexFile(format!("alert {a}: stored key is not a normalised plate")));
            }
            if ids.bytes(a).is_empty() {
                return Err(MatchError::IndexFile(format!("alert {a}: empty alert id")));
            }
            if u64::from(row[a]) >= source_rows {
                return Err(MatchError::IndexFile(format!("alert {a}: input row {} past {source_rows} rows", row[a])));
            }
            if valid_to[a] < valid_from[a] {
                return Err(MatchError::IndexFile(format!("alert {a}: valid_to before valid_from")));
            }
        }
        let index = PlateIndex::assemble(
            classes,
            ids,
            keys,
            country,
            valid_from,
            valid_to,
            row,
            rejects,
            source_rows,
            attachment,
        );
        Ok((index, writer))
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Bounds-checked little-endian reader; every read names its field for the error message.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, field: &str, message: impl std::fmt::Display) -> MatchError {
        MatchError::IndexFile(format!("field '{field}' at byte {}: {message}", self.pos))
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, len: usize, field: &str) -> MatchResult<&'a [u8]> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(self.error(field, format!("needs {len} bytes, only {} left (truncated)", self.remaining()))),
        }
    }

    fn array<const N: usize>(&mut self, field: &str) -> MatchResult<[u8; N]> {
        let s = self.take(N, field)?;
        <[u8; N]>::try_from(s).map_err(|_| self.error(field, "short read"))
    }

    fn u8(&mut self, field: &str) -> MatchResult<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &str) -> MatchResult<u16> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &str) -> MatchResult<u32> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &str) -> MatchResult<u64> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    fn i64(&mut self, field: &str) -> MatchResult<i64> {
        Ok(i64::from_le_bytes(self.array(field)?))
    }

    fn str(&mut self, len: usize, field: &str) -> MatchResult<&'a str> {
        let at = self.pos;
        let bytes = self.take(len, field)?;
        std::str::from_utf8(bytes)
            .map_err(|e| MatchError::IndexFile(format!("field '{field}' at byte {at}: not UTF-8 ({e})")))
    }

    /// `m + 1` offsets, the data length and the data; offsets must start at 0, never decrease, end at the
    /// data length, and every string must be UTF-8.
    fn strings(&mut self, m: usize, field: &str) -> MatchResult<Strings> {
        if (m + 1).saturating_mul(4) > self.remaining() {
            return Err(self.error(field, format!("{m} offsets do not fit the file")));
        }
        let at = self.pos;
        let mut offsets = Vec::with_capacity(m + 1);
        for _ in 0..=m {
            offsets.push(self.u32(field)?);
        }
        let len = self.u32(field)?;
        let data = self.take(len as usize, field)?.to_vec();
        let ok = offsets.first() == Some(&0)
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && offsets.last() == Some(&len)
            && offsets.windows(2).all(|w| std::str::from_utf8(&data[w[0] as usize..w[1] as usize]).is_ok());
        if !ok {
            return Err(MatchError::IndexFile(format!(
                "field '{field}' at byte {at}: offsets out of order or strings not UTF-8"
            )));
        }
        Ok(Strings { offsets, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body wrapped in a valid envelope (magic, version, length, CRC), as the fuzz target builds it.
    fn envelope(body: &[u8]) -> Vec<u8> {
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        file.push(0);
        file.extend_from_slice(&(body.len() as u64).to_le_bytes());
        file.extend_from_slice(body);
        let crc = crc32(&file);
        file.extend_from_slice(&crc.to_le_bytes());
        file
    }

    #[test]
    fn fuzz_regression_attachment_reaching_into_the_checksum_is_an_error() {
        // cargo-fuzz found this body: its attachment length ran over the checksum bytes, and the error
        // message subtracted past zero.
        let hex = "0a0000000400000030444f510300000031494c02000000325a020000003553020000003647020000003842020000003754020000003443020000005556020000004546040000000000000002000000040000000600000007000000070000006131613261336200000000070000000e000000120000001a0000001a00000031414243313233414231323343444d3f582a434231323334504845425246000047420000000000000080000000000000008000000000000000800000000000000080ffffffffffffff7fffffffffffffff7fffffffffffffff7fffffffffffffff7f000000000100000002000000030000000000000004000000000000000a00000000000000000000dd00000000";
        let body: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        assert!(matches!(PlateIndex::from_bytes(&envelope(&body)), Err(MatchError::IndexFile(_))));
    }

    #[test]
    fn crc_of_the_check_string() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
