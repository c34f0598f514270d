//! Arbitrary bytes as one file of an exchange package: the first byte picks the file, the
//! rest is its content. The reader and every field parser must answer with issues, never panic.
#![no_main]

use std::sync::OnceLock;

use iip_domain::Date;
use iip_exchange::spec::FILES;
use iip_framework::Framework;
use libfuzzer_sys::fuzz_target;

fn framework() -> &'static Framework {
    static FRAMEWORK: OnceLock<Framework> = OnceLock::new();
    FRAMEWORK.get_or_init(|| Framework::builtin().expect("the built-in framework"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, content)) = data.split_first() else { return };
    let spec = FILES[usize::from(pick) % FILES.len()];
    let today = Date::from_ymd(2026, 11, 24).expect("date");
    let _ = iip_exchange::check_file(spec, content, today, framework());
});
