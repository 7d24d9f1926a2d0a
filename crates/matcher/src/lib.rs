//! Pure-Rust core of cgi-match: compares probes (plate reads, fingerprint templates, DNA profiles) with the
//! identifiers attached to international alerts and produces hits.
//!
//! The core never reads tabular files, never prints and knows nothing about jobs: it works on borrowed
//! columns (see [`columns`]) and returns plain vectors that the binding turns into Arrow / numpy buffers.

pub mod columns;
pub mod dna;
pub mod error;
pub mod finger;
pub mod plate;

pub use error::{MatchError, MatchResult};

/// Version of the core, the single source for the Python package and the CLI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
