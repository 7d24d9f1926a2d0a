//! Fingerprints: minutiae templates, their file formats, the matcher and the 1:N gallery.

pub mod ansi378;
pub mod detect;
pub mod gallery;
pub mod iso19794_2;
pub mod matcher;
pub mod mcc;
pub mod prefilter;
pub mod record;
pub mod scan;
pub mod synth;
pub mod template;
mod view;
pub mod xyt;

pub use detect::{detect, read_any, TemplateFormat};
pub use gallery::{Gallery, GalleryHit, LshParams, Prefilter, SearchOptions};
pub use matcher::{Matcher, PreparedTemplate};
pub use template::{FingerPosition, Minutia, MinutiaKind, Template, INTERNAL_PPI, MAX_MINUTIAE};
