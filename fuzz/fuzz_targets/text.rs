//! The reference's text format reader: errors only, and what it accepts
//! re-encodes to wire bytes the raw reader reads back.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = gotrace_wire::text::parse(s) {
        if t.events.len() < 10_000 {
            let wire = t.to_wire();
            if let Ok(mut r) = gotrace_wire::RawReader::new(&wire) {
                while let Ok(Some(_)) = r.next() {}
            }
        }
    }
    let _ = gotrace_wire::text::parse_test_case(s);
});
