//! Licence plates: normalisation of reads and alerts to one comparable key.

pub mod normalise;

pub use normalise::{normalise_plate, normalise_plate_column, NormalisedColumn, PlateReject, MAX_PLATE_LEN};
