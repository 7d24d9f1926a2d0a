//! The one mapping from core errors to the Python exception hierarchy rooted at `cgi_match.CgiMatchError`.
//!
//! The classes live in `cgi_match/errors.py` (they need two bases, e.g. `InvalidInputError(CgiMatchError,
//! ValueError)`, which `create_exception!` cannot express); this module looks them up by name.

use cgi_match_core::MatchError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// Name of the `cgi_match.errors` class that a core error becomes.
pub fn class_name(err: &MatchError) -> &'static str {
    match err {
        MatchError::InvalidInput(_) => "InvalidInputError",
        MatchError::Format(_) => "FormatError",
        MatchError::IndexFile(_) => "IndexFileError",
        MatchError::Io { .. } => "StorageError",
    }
}

/// Converts a core error into the matching Python exception.
pub fn to_py_err(err: MatchError) -> PyErr {
    Python::attach(|py| {
        let name = class_name(&err);
        let class = py
            .import("cgi_match.errors")
            .and_then(|m| m.getattr(name))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(class) => PyErr::from_type(class, err.to_string()),
            // Only reachable if the package is broken; still never a panic.
            Err(lookup) => PyRuntimeError::new_err(format!("{err} (and cgi_match.errors.{name} is missing: {lookup})")),
        }
    })
}

/// Extension for `MatchResult` so binding code can write `core_call().py()?`.
pub trait IntoPyResult<T> {
    /// Maps the core error to its Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, MatchError> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cgi_match_core::error::FormatLocation;

    #[test]
    fn every_variant_has_its_class() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let cases = [
            (MatchError::invalid("x"), "InvalidInputError"),
            (MatchError::format(0, "f", 1, "bad"), "FormatError"),
            (MatchError::IndexFile("bad magic".into()), "IndexFileError"),
            (MatchError::Io { path: "p".into(), source: io }, "StorageError"),
        ];
        for (err, name) in &cases {
            assert_eq!(class_name(err), *name);
        }
        let loc = FormatLocation { input: "a".into(), record: 0, field: "f", offset: 0, message: "m".into() };
        assert_eq!(class_name(&MatchError::Format(loc)), "FormatError");
    }
}
