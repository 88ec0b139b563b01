//! What `attach` reads from another machine's `serve`: the `/api/state` snapshot JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<m365mon::engine::snapshot::Snapshot>(data);
});
