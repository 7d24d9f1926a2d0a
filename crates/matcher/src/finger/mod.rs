//! Fingerprints: minutiae templates, their file formats, the matcher and the 1:N gallery.

pub mod template;

pub use template::{FingerPosition, Minutia, MinutiaKind, Template, INTERNAL_PPI, MAX_MINUTIAE};
