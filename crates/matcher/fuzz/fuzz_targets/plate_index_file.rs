//! Plate index file reader: never panics, on raw bytes and on arbitrary bodies inside a valid envelope
//! (correct magic, version, length and CRC-32, so the fuzzer reaches the body parser); whatever it accepts
//! writes back, reads again and writes the same bytes.
#![no_main]

use cgi_match_core::plate::index_file::{crc32, FORMAT_VERSION, MAGIC};
use cgi_match_core::plate::PlateIndex;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = PlateIndex::from_bytes(data);
    let version = cgi_match_core::VERSION.as_bytes();
    let mut file = Vec::with_capacity(data.len() + 64);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.push(version.len() as u8);
    file.extend_from_slice(version);
    file.extend_from_slice(&(data.len() as u64).to_le_bytes());
    file.extend_from_slice(data);
    let crc = crc32(&file);
    file.extend_from_slice(&crc.to_le_bytes());
    if let Ok((index, _)) = PlateIndex::from_bytes(&file) {
        // Writing is canonical (e.g. OCR classes sorted), so compare write → read → write.
        let again = index.to_bytes();
        let (back, _) = PlateIndex::from_bytes(&again).expect("a written index reads back");
        assert_eq!(back.to_bytes(), again, "write is not stable");
        assert_eq!(back.len(), index.len());
    }
});
