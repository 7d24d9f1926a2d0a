//! Borrowed views of Arrow-layout string columns (offsets + UTF-8 bytes + optional validity), so that
//! strings cross from Python into the core as three buffers instead of one object per row.

use crate::error::{MatchError, MatchResult};

/// A read-only string column in Arrow `large_string` layout, checked once on construction.
#[derive(Debug, Clone, Copy)]
pub struct StrColumn<'a> {
    offsets: &'a [i64],
    data: &'a [u8],
    valid: Option<&'a [bool]>,
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
        if let Some(v) = valid {
            if v.len() != rows {
                return Err(MatchError::invalid(format!(
                    "string column: validity has {} entries for {rows} rows",
                    v.len()
                )));
            }
        }
        Ok(StrColumn { offsets, data, valid })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Raw bytes of row `i`, `None` when null. Panics only if `i >= len()` (a caller bug, not an input one).
    pub fn bytes(&self, i: usize) -> Option<&'a [u8]> {
        if let Some(v) = self.valid {
            if !v[i] {
                return None;
            }
        }
        // Offsets were checked in `new`: non-negative, non-decreasing and within `data`.
        let (start, end) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        Some(&self.data[start..end])
    }

    /// Row `i` as text: `None` when null, `Some(Err(()))` when the bytes are not UTF-8.
    pub fn get(&self, i: usize) -> Option<Result<&'a str, std::str::Utf8Error>> {
        self.bytes(i).map(std::str::from_utf8)
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
