//! The one error type of the core. Per-record problems inside a batch are not errors: they become rejects
//! with a reason (see each modality); an error here means the whole call cannot go on.

use std::fmt;

/// Result alias used across the core.
pub type MatchResult<T> = Result<T, MatchError>;

/// Everything that can stop a core call; the binding maps each variant to one Python exception class.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// A parameter or value the caller can correct (bad option, inconsistent column buffers).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A malformed record in a binary or text format, located precisely enough to find it with a hex editor.
    #[error("{0}")]
    Format(FormatLocation),
    /// A saved index that is truncated, corrupted, foreign or of an unsupported format version.
    #[error("index file: {0}")]
    IndexFile(String),
    /// The operating system refused a read or write.
    #[error("{path}: {source}")]
    Io {
        /// The file the operation was about.
        path: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

/// Where a malformed input went wrong: input name, record number, field and byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatLocation {
    /// File name, or `<bytes>` when the caller handed over a buffer.
    pub input: String,
    /// Zero-based record (finger view, specimen, …) inside the input.
    pub record: usize,
    /// Name of the field as the format's specification calls it.
    pub field: &'static str,
    /// Byte offset of the field from the start of the input.
    pub offset: usize,
    /// What is wrong with the field, in words a person understands.
    pub message: String,
}

impl fmt::Display for FormatLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: record {}, field '{}' at byte {}: {}",
            self.input, self.record, self.field, self.offset, self.message
        )
    }
}

impl MatchError {
    /// Builds a [`MatchError::Format`] for a parser that works on an anonymous buffer.
    pub fn format(record: usize, field: &'static str, offset: usize, message: impl Into<String>) -> Self {
        MatchError::Format(FormatLocation {
            input: "<bytes>".to_owned(),
            record,
            field,
            offset,
            message: message.into(),
        })
    }

    /// Names the input (usually a file path) on a format error; other variants pass through.
    #[must_use]
    pub fn with_input(self, input: &str) -> Self {
        match self {
            MatchError::Format(mut loc) => {
                input.clone_into(&mut loc.input);
                MatchError::Format(loc)
            }
            other => other,
        }
    }

    /// Shorthand for [`MatchError::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        MatchError::InvalidInput(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_error_names_input_record_field_and_offset() {
        let err = MatchError::format(2, "minutia count", 26, "says 300, limit is 255").with_input("a.iso");
        assert_eq!(err.to_string(), "a.iso: record 2, field 'minutia count' at byte 26: says 300, limit is 255");
    }

    #[test]
    fn with_input_leaves_other_variants_alone() {
        let err = MatchError::invalid("max_ocr must be ≤ 4").with_input("x");
        assert!(matches!(err, MatchError::InvalidInput(_)));
    }
}
