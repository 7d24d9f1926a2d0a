//! Format detection plus every reader behind it (what `FingerprintTemplate.from_bytes` and the folder
//! reader call on untrusted files): never panics.
#![no_main]

use cgi_match_core::finger::{detect, read_any};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let detected = detect(data);
    if let Ok((format, _)) = read_any(data, 500.0) {
        assert_eq!(Some(format), detected);
    }
});
