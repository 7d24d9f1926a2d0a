//! ANSI INCITS 378-2004 reader: never panics; whatever it accepts writes back and reads again the same.
#![no_main]

use cgi_match_core::finger::ansi378;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = ansi378::read_record(data) {
        let again = ansi378::write_record(&record).expect("an accepted record writes back");
        let back = ansi378::read_record(&again).expect("a written record reads back");
        assert_eq!(back.views.len(), record.views.len());
        assert_eq!(back.product, record.product);
        assert_eq!(ansi378::write_record(&back).expect("writes again"), again, "write is not stable");
    }
});
