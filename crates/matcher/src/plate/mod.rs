//! Licence plates: normalisation of reads and alerts to one comparable key, countries, OCR look-alike
//! classes, the alert index with its candidate tables, matching, and the index file.

pub mod country;
pub mod distance;
pub mod index;
pub mod index_file;
pub mod neighbourhood;
pub mod normalise;
pub mod ocr;
#[cfg(test)]
mod reference;

pub use country::{normalise_country, Country, CountryPolicy};
pub use index::{AlertColumns, Hits, MatchKind, MatchOptions, MatchOutput, PlateIndex, ReadColumns, TimeColumn};
pub use normalise::{
    normalise_plate, normalise_plate_column, normalise_plate_into, NormalisedColumn, PlateReject, MAX_PLATE_LEN,
};
pub use ocr::{OcrClasses, DEFAULT_OCR_CLASSES};
