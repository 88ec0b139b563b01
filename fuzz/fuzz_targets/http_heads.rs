//! HTTP/1.1 on the wire (src/http): request heads as `serve` reads them, response heads
//! as the probes and the PAC download read them, chunked bodies.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, end))) = m365mon::http::parse_request(data) {
        assert!(end <= data.len());
        let _ = head.keep_alive();
    }
    if let Ok(Some((head, end))) = m365mon::http::parse_response(data) {
        assert!(end <= data.len());
        let _ = head.headers.content_length();
        let _ = head.headers.auth_schemes("proxy-authenticate");
        let _ = head.headers.announces_body();
    }
    let _ = m365mon::http::decode_chunked(data);
});
