//! ISO/IEC 19794-2:2005 reader: never panics; whatever it accepts writes back and reads again the same.
#![no_main]

use cgi_match_core::finger::iso19794_2;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(views) = iso19794_2::read(data) {
        let again = iso19794_2::write(&views).expect("an accepted record writes back");
        let back = iso19794_2::read(&again).expect("a written record reads back");
        assert_eq!(back.len(), views.len());
        assert_eq!(iso19794_2::write(&back).expect("writes again"), again, "write is not stable");
    }
});
