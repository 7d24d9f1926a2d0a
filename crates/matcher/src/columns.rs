//! Borrowed views of Arrow-layout string columns (offsets + UTF-8 bytes + optional validity), so that
//! strings cross from Python into the core as three buffers instead of one object per row.

use crate::error::{MatchError, MatchResult};

/// A read-only string column in one of two Arrow layouts, checked once on construction.
#[derive(Debug, Clone, Copy)]
pub struct StrColumn<'a> {
    layout: Layout<'a>,
    rows: usize,
    valid: Option<&'a [bool]>,
}

/// Where a [`StrColumn`]'s bytes are.
#[derive(Debug, Clone, Copy)]
enum Layout<'a> {
    /// Arrow `large_string`: `rows + 1` offsets into one data buffer.
    Offsets { offsets: &'a [i64], data: &'a [u8] },
    /// Arrow `string_view` (polars' own string layout, so polars columns arrive without conversion): 16 bytes
    /// per row, strings of up to [`VIEW_INLINE`] bytes inside the view, longer ones in one of several buffers.
    Views { views: &'a [u8], buffers: &'a [&'a [u8]] },
}

/// Bytes of one `string_view` entry (Arrow columnar format, "Variable-size Binary View Layout").
pub const VIEW_BYTES: usize = 16;
/// Longest string a `string_view` entry holds inline.
pub const VIEW_INLINE: usize = 12;

/// Length, buffer index and offset of a `string_view` entry: bytes 0..4 the length (little-endian), then for
/// inline strings the bytes themselves from 4, else a 4-byte prefix, the buffer index (8..12) and the offset
/// into that buffer (12..16).
#[inline]
fn view_parts(view: &[u8]) -> (usize, usize, usize) {
    let word = |at: usize| match view.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => 0,
    };
    (word(0), word(8), word(12))
}

impl<'a> StrColumn<'a> {
    /// Checks the buffers (offsets start at a valid position, never decrease and stay inside `data`;
    /// validity has one entry per row) so that every later access is in bounds.
    pub fn new(offsets: &'a [i64], data: &'a [u8], valid: Option<&'a [bool]>) -> MatchResult<Self> {
        let Some(&first) = offsets.first() else {
            return Err(MatchError::invalid("string column: offsets buffer is empty (needs rows + 1 entries)"));
        };
        if first < 0 {
            return Err(MatchError::invalid("string column: first offset is negative"));
        }
        let mut prev = first;
        for (row, &end) in offsets.iter().enumerate().skip(1) {
            if end < prev {
                return Err(MatchError::invalid(format!("string column: offsets decrease at row {}", row - 1)));
            }
            prev = end;
        }
        if prev as u64 > data.len() as u64 {
            return Err(MatchError::invalid(format!(
                "string column: last offset {prev} is past the end of the {}-byte data buffer",
                data.len()
            )));
        }
        let rows = offsets.len() - 1;
        check_validity(valid, rows)?;
        Ok(StrColumn { layout: Layout::Offsets { offsets, data }, rows, valid })
    }

    /// A column in Arrow `string_view` layout: `views` holds 16 bytes per row, `buffers` the data buffers the
    /// views of strings longer than 12 bytes point into. Every non-null view is checked to lie inside its
    /// buffer, so that every later access is in bounds (views of null rows are never read).
    pub fn from_views(views: &'a [u8], buffers: &'a [&'a [u8]], valid: Option<&'a [bool]>) -> MatchResult<Self> {
        if !views.len().is_multiple_of(VIEW_BYTES) {
            return Err(MatchError::invalid(format!(
                "string column: {} bytes of views is not a whole number of {VIEW_BYTES}-byte views",
                views.len()
            )));
        }
        let rows = views.len() / VIEW_BYTES;
        check_validity(valid, rows)?;
        for (row, view) in views.chunks_exact(VIEW_BYTES).enumerate() {
            if valid.is_some_and(|v| !v[row]) {
                continue;
            }
            let (len, buffer, offset) = view_parts(view);
            if len > VIEW_INLINE && buffers.get(buffer).is_none_or(|b| offset.saturating_add(len) > b.len()) {
                return Err(MatchError::invalid(format!(
                    "string column: view of row {row} ({len} bytes at {offset} in buffer {buffer}) is outside the \
                     {} data buffer(s)",
                    buffers.len()
                )));
            }
        }
        Ok(StrColumn { layout: Layout::Views { views, buffers }, rows, valid })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Raw bytes of row `i`, `None` when null. Panics only if `i >= len()` (a caller bug, not an input one).
    // Called twice per read on the matching path; left to itself the compiler keeps it out of line (−20
    // instructions per read when inlined, callgrind).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub fn bytes(&self, i: usize) -> Option<&'a [u8]> {
        if let Some(v) = self.valid {
            if !v[i] {
                return None;
            }
        }
        match self.layout {
            Layout::Offsets { offsets, data } => {
                // Offsets were checked in `new`: non-negative, non-decreasing and within `data`.
                let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                Some(&data[start..end])
            }
            Layout::Views { views, buffers } => {
                // Views were checked in `from_views`: inline, or inside their buffer.
                let view = &views[i * VIEW_BYTES..(i + 1) * VIEW_BYTES];
                let (len, buffer, offset) = view_parts(view);
                Some(if len <= VIEW_INLINE { &view[4..4 + len] } else { &buffers[buffer][offset..offset + len] })
            }
        }
    }

    /// Row `i` as text: `None` when null, `Some(Err(()))` when the bytes are not UTF-8.
    pub fn get(&self, i: usize) -> Option<Result<&'a str, std::str::Utf8Error>> {
        self.bytes(i).map(std::str::from_utf8)
    }
}

/// Validity, when given, has one entry per row.
fn check_validity(valid: Option<&[bool]>, rows: usize) -> MatchResult<()> {
    match valid {
        Some(v) if v.len() != rows => {
            Err(MatchError::invalid(format!("string column: validity has {} entries for {rows} rows", v.len())))
        }
        _ => Ok(()),
    }
}

/// An owned string column in the same layout, for results going back to Python.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrColumnBuilder {
    /// `rows + 1` offsets into `data`.
    pub offsets: Vec<i64>,
    /// Concatenated UTF-8 bytes.
    pub data: Vec<u8>,
    /// One entry per row; false marks a null.
    pub valid: Vec<bool>,
}

impl StrColumnBuilder {
    /// An empty column with room for `rows` rows.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        StrColumnBuilder { offsets, data: Vec::with_capacity(bytes), valid: Vec::with_capacity(rows) }
    }

    /// Appends a value, or a null for `None`.
    pub fn push(&mut self, value: Option<&str>) {
        if let Some(s) = value {
            self.data.extend_from_slice(s.as_bytes());
        }
        self.offsets.push(self.data.len() as i64);
        self.valid.push(value.is_some());
    }

    /// Number of rows pushed so far.
    pub fn len(&self) -> usize {
        self.valid.len()
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.valid.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_nulls() {
        let offsets = [0_i64, 3, 3, 5];
        let data = b"ABCde";
        let valid = [true, false, true];
        let col = StrColumn::new(&offsets, data, Some(&valid)).unwrap();
        assert_eq!(col.len(), 3);
        assert_eq!(col.get(0).unwrap().unwrap(), "ABC");
        assert!(col.get(1).is_none());
        assert_eq!(col.get(2).unwrap().unwrap(), "de");
    }

    #[test]
    fn rejects_hostile_buffers() {
        assert!(StrColumn::new(&[], b"", None).is_err());
        assert!(StrColumn::new(&[-1, 2], b"ab", None).is_err());
        assert!(StrColumn::new(&[0, 3, 2], b"abc", None).is_err());
        assert!(StrColumn::new(&[0, 9], b"abc", None).is_err());
        assert!(StrColumn::new(&[0, 1], b"abc", Some(&[true, true])).is_err());
    }

    #[test]
    fn invalid_utf8_is_reported_not_panicked() {
        let col = StrColumn::new(&[0, 2], &[0xff, 0xfe], None).unwrap();
        assert!(col.get(0).unwrap().is_err());
    }

    /// A `string_view` entry as Arrow writes it.
    fn view(s: &[u8], buffer: u32, offset: u32) -> [u8; 16] {
        let mut v = [0_u8; 16];
        v[..4].copy_from_slice(&(s.len() as u32).to_le_bytes());
        if s.len() <= VIEW_INLINE {
            v[4..4 + s.len()].copy_from_slice(s);
        } else {
            v[4..8].copy_from_slice(&s[..4]);
            v[8..12].copy_from_slice(&buffer.to_le_bytes());
            v[12..16].copy_from_slice(&offset.to_le_bytes());
        }
        v
    }

    #[test]
    fn reads_views_inline_and_in_buffers() {
        let long = b"ABCDEFGHIJKLMNOP";
        let buffers: [&[u8]; 2] = [b"xx", b"--ABCDEFGHIJKLMNOP"];
        let views: Vec<u8> =
            [view(b"1ABC123", 0, 0), view(b"", 0, 0), view(long, 1, 2), view(b"123456789012", 0, 0)].concat();
        let col = StrColumn::from_views(&views, &buffers, None).unwrap();
        assert_eq!(col.len(), 4);
        assert_eq!(col.bytes(0).unwrap(), b"1ABC123");
        assert_eq!(col.bytes(1).unwrap(), b"");
        assert_eq!(col.bytes(2).unwrap(), long);
        assert_eq!(col.bytes(3).unwrap(), b"123456789012");
        let valid = [true, false, true, true];
        let col = StrColumn::from_views(&views, &buffers, Some(&valid)).unwrap();
        assert!(col.bytes(1).is_none());
    }

    #[test]
    fn rejects_hostile_views() {
        let buffers: [&[u8]; 1] = [b"ABCDEFGHIJKLMNOP"];
        let long = b"ABCDEFGHIJKLMNOP";
        assert!(StrColumn::from_views(&[0_u8; 15], &buffers, None).is_err());
        assert!(StrColumn::from_views(&view(long, 1, 0), &buffers, None).is_err());
        assert!(StrColumn::from_views(&view(long, 0, 1), &buffers, None).is_err());
        assert!(StrColumn::from_views(&view(long, 0, u32::MAX), &buffers, None).is_err());
        assert!(StrColumn::from_views(&view(long, 0, 0), &buffers, Some(&[true, true])).is_err());
        // A null row's view is never read, so garbage there is fine.
        assert!(StrColumn::from_views(&view(long, 7, 0), &buffers, Some(&[false])).is_ok());
        assert!(StrColumn::from_views(&view(long, 0, 0), &buffers, None).is_ok());
    }

    #[test]
    fn builder_round_trips() {
        let mut b = StrColumnBuilder::with_capacity(2, 4);
        b.push(Some("AB"));
        b.push(None);
        let col = StrColumn::new(&b.offsets, &b.data, Some(&b.valid)).unwrap();
        assert_eq!(col.get(0).unwrap().unwrap(), "AB");
        assert!(col.get(1).is_none());
    }
}
