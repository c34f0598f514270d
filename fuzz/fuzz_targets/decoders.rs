//! Arbitrary text through every small decoder of outside input: encodings from partners
//! (CLK hex), key files, dates, program years, ids, hours and the coded values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = iip_linkage::Clk::from_hex(text);
    let _ = iip_vault::MasterKey::from_hex(text);
    let _ = iip_domain::Date::parse(text);
    let _ = iip_domain::ProgramYear::parse(text);
    let _ = iip_domain::Id::parse(text);
    let _ = iip_domain::records::Hours::parse(text);
    let _ = iip_domain::Program::parse(text);
    let _ = iip_domain::Sector::parse(text);
    let _ = iip_domain::Level::parse(text);
    let _ = iip_domain::Gender::parse(text);
});
