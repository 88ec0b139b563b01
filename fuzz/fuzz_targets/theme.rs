//! A theme file (TOML).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = m365mon::tui::theme::Theme::parse(std::path::Path::new("fuzz-theme.toml"), text);
    }
});
