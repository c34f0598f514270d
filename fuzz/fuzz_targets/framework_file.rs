//! Arbitrary text as a consortium's framework file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = iip_framework::Framework::parse(text, "fuzz.toml");
});
