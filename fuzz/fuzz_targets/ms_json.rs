//! Microsoft's endpoint web service JSON (`--ms-json`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = m365mon::catalog::ms_json::parse(std::path::Path::new("fuzz.json"), text);
    }
});
