//! Fingerprints: minutiae templates, their file formats, the matcher and the 1:N gallery.

pub mod iso19794_2;
pub mod matcher;
pub mod mcc;
pub mod record;
pub mod template;

pub use matcher::{Matcher, PreparedTemplate};
pub use template::{FingerPosition, Minutia, MinutiaKind, Template, INTERNAL_PPI, MAX_MINUTIAE};
