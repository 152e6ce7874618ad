//! The wire decoder: header, batch framing and raw events must reject any
//! input with an error, never panic, and never allocate beyond the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = gotrace_wire::RawReader::new(data) {
        let mut n = 0;
        while let Ok(Some(ev)) = r.next() {
            let mut s = Vec::new();
            ev.write_text(&mut s);
            let _ = ev.encoded_size();
            n += 1;
            assert!(n <= data.len());
        }
    }
    if let Ok(h) = gotrace_wire::read_header(data) {
        for b in gotrace_wire::Batches::new(data, h.len) {
            if b.is_err() {
                break;
            }
        }
    }
});
