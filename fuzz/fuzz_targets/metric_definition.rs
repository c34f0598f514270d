//! Arbitrary text as a metric definition file: errors with a position, never a panic.
#![no_main]

use std::sync::OnceLock;

use iip_framework::Framework;
use iip_metrics::definition::MetricSet;
use libfuzzer_sys::fuzz_target;

fn framework() -> &'static Framework {
    static FRAMEWORK: OnceLock<Framework> = OnceLock::new();
    FRAMEWORK.get_or_init(|| Framework::builtin().expect("the built-in framework"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = MetricSet::from_sources([("fuzz.toml".to_owned(), text.to_owned())], framework());
});
