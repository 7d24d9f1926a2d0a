//! DNA index file reader: never panics, on raw bytes and on arbitrary payloads inside a valid header
//! (magic, format version, crate version, length, checksum), so the fuzzer reaches the payload parser;
//! whatever it accepts writes back and reads again identically.
#![no_main]

use cgi_match_core::dna::index::{checksum, FORMAT_VERSION, MAGIC};
use cgi_match_core::dna::DnaIndex;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = DnaIndex::from_bytes(data);
    let version = cgi_match_core::VERSION.as_bytes();
    let mut file = Vec::with_capacity(data.len() + 64);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(version.len() as u16).to_le_bytes());
    file.extend_from_slice(version);
    file.extend_from_slice(&(data.len() as u64).to_le_bytes());
    file.extend_from_slice(&checksum(data).to_le_bytes());
    file.extend_from_slice(data);
    if let Ok(index) = DnaIndex::from_bytes(&file) {
        let again = index.to_bytes();
        let back = DnaIndex::from_bytes(&again).expect("a written index reads back");
        assert_eq!(back, index);
        for row in 0..index.len() {
            assert!(index.profile(row).is_some(), "an accepted row decodes");
        }
    }
});
