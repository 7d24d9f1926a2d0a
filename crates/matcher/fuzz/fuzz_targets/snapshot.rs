//! Exact template snapshot (pickling): never panics; an accepted snapshot writes back to the same bytes.
#![no_main]

use cgi_match_core::finger::Template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Template::from_snapshot(data) {
        assert_eq!(t.to_snapshot(), data, "snapshot is not canonical");
    }
});
