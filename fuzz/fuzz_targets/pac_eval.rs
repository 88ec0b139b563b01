//! A PAC file and a host through the worker's in-process core (`sandbox::run`): first
//! line the host, the rest the script. Hangs and memory blow-ups here are what the worker
//! process contains in the monitor; panics are bugs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use m365mon::route::pac::sandbox::{run, Environment};
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (host, script) = text.split_once('\n').unwrap_or(("example.com", text));
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
        .unwrap()
        .and_hms_opt(10, 30, 0)
        .unwrap();
    let env = Environment {
        names: [(
            "intranet.contoso.com".to_string(),
            Some("10.1.2.3".parse().unwrap()),
        )]
        .into(),
        my_ip: "10.1.9.9".parse().unwrap(),
        now_local: at,
        now_utc: at,
    };
    let url = format!("https://{host}/");
    let _ = run(
        script,
        &[(url, host.to_string())],
        &env,
        Duration::from_millis(50),
    );
});
