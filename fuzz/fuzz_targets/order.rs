//! The full reader (generation splitting, structural decoding, ordering,
//! event accessors and printing) on arbitrary bytes: errors only, no panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = gotrace::Options::default().parallel(false);
    let Ok(mut r) = gotrace::Reader::from_bytes_with(data.to_vec(), opts) else {
        return;
    };
    let mut out = Vec::new();
    let mut n = 0usize;
    while let Ok(Some(ev)) = r.read_event() {
        out.clear();
        ev.write_go_string(&mut out);
        let _ = ev.state_transition();
        let _ = ev.range();
        let _ = ev.task();
        let _ = ev.sync();
        n += 1;
        // Every event costs at least one input byte, plus a few synthesized
        // ones (Sync, switch/steal expansions); anything more is a hang.
        assert!(
            n <= 4 * data.len() + 16,
            "more events than the input can hold"
        );
    }
});
