//! `FindProxyForURL`'s answer as the monitor reads it, and the `shExpMatch` glob (first
//! line the text, the rest the pattern).
#![no_main]
use libfuzzer_sys::fuzz_target;
use m365mon::route::pac::{parse_answer, sandbox::glob_match, validate_answer};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let valid = validate_answer(text);
    let parsed = parse_answer(text);
    // A valid answer parses to a route or "no usable route"; an invalid one never routes.
    assert_eq!(
        valid.is_err(),
        matches!(parsed, Err(m365mon::route::pac::AnswerError::Invalid(_)))
    );
    let (s, p) = text.split_once('\n').unwrap_or((text, "*"));
    let _ = glob_match(s.as_bytes(), p.as_bytes());
});
