//! Arbitrary text as a metric expression (the `where` and `count` language).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = iip_metrics::expr::parse(text);
});
