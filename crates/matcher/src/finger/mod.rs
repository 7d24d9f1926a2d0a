//! Fingerprints: minutiae templates, their file formats, the matcher and the 1:N gallery.

pub mod iso19794_2;
pub mod record;
pub mod template;

pub use template::{FingerPosition, Minutia, MinutiaKind, Template, INTERNAL_PPI, MAX_MINUTIAE};
