//! Fingerprints: minutiae templates, their file formats, the matcher and the 1:N gallery.

pub mod ansi378;
pub mod detect;
pub mod iso19794_2;
pub mod record;
pub mod synth;
pub mod template;
mod view;
pub mod xyt;

pub use detect::{detect, read_any, TemplateFormat};
pub use template::{FingerPosition, Minutia, MinutiaKind, Template, INTERNAL_PPI, MAX_MINUTIAE};
