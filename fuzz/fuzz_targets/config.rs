//! The configuration file (TOML). Paths it names are looked up under a folder that does
//! not exist.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = m365mon::cli::config::parse(
            std::path::Path::new("/nonexistent-m365mon-fuzz/config.toml"),
            text,
        );
    }
});
