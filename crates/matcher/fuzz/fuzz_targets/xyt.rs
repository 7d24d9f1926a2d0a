//! NIST .xyt text reader: never panics; whatever it accepts writes back and reads again the same.
#![no_main]

use cgi_match_core::finger::xyt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(t) = xyt::read(text, 500.0, None) {
        let again = xyt::write(&t);
        let back = xyt::read(&again, 500.0, Some(t.height)).expect("a written .xyt reads back");
        assert_eq!(back.minutiae.len(), t.minutiae.len());
        assert_eq!(xyt::write(&back), again, "write is not stable");
    }
});
