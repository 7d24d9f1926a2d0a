//! Bounds-checked big-endian cursor shared by the binary template readers: every read names the field it
//! is for, so a truncated record becomes an error with the field and byte offset, never an out-of-bounds read.

use crate::error::{MatchError, MatchResult};

/// Reads big-endian fields from a byte slice, tracking the record number for error messages.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// Record (finger view) the next fields belong to, for error messages.
    pub record: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0, record: 0 }
    }

    /// Current byte offset from the start of the input.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes left after the cursor.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// A format error at the current offset.
    pub fn error(&self, field: &'static str, message: impl Into<String>) -> MatchError {
        MatchError::format(self.record, field, self.pos, message)
    }

    /// The next `n` bytes, or an error naming `field` if the input ends first.
    pub fn bytes(&mut self, n: usize, field: &'static str) -> MatchResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(|| {
            self.error(field, format!("record is truncated: needs {n} bytes, {} left", self.remaining()))
        })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Skips `n` bytes (e.g. an extended data block by its declared length).
    pub fn skip(&mut self, n: usize, field: &'static str) -> MatchResult<()> {
        self.bytes(n, field).map(|_| ())
    }

    /// One byte.
    pub fn u8(&mut self, field: &'static str) -> MatchResult<u8> {
        Ok(self.bytes(1, field)?[0])
    }

    /// Big-endian u16.
    pub fn u16(&mut self, field: &'static str) -> MatchResult<u16> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Big-endian 24-bit unsigned integer (ANSI 378 record length, CBEFF ids).
    pub fn u24(&mut self, field: &'static str) -> MatchResult<u32> {
        let b = self.bytes(3, field)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// Big-endian u32.
    pub fn u32(&mut self, field: &'static str) -> MatchResult<u32> {
        let b = self.bytes(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_reports_truncation() {
        let mut c = Cursor::new(&[0x01, 0x02, 0x03, 0x04, 0x05]);
        assert_eq!(c.u16("a").unwrap(), 0x0102);
        assert_eq!(c.u24("b").unwrap(), 0x03_0405);
        let err = c.u8("finger quality").unwrap_err().to_string();
        assert!(err.contains("finger quality") && err.contains("byte 5"), "{err}");
    }
}
