//! Text the host checks and the platform layer read from system tools and files:
//! `dsregcmd /status`, `scutil --proxy`, `/etc/resolv.conf`, `/proc/net/route` and
//! `ipv6_route`, `ip route get`, `scutil --nwi`, `netstat -rn`, `mdfind`, the AAD event
//! log's XML, registry values (first byte: the value type), HTTP dates, error codes,
//! proxy URLs, bypass lists and `attach` URLs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use m365mon::{checks, diagnosis, platform, remote, route};

fuzz_target!(|data: &[u8]| {
    if let Some((&kind, rest)) = data.split_first() {
        let _ = platform::windows::registry::convert(u32::from(kind % 12), rest);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = checks::host::device_join::Dsreg::parse(text);
    let _ = platform::proxy::parse_scutil(text);
    let _ = checks::resolvers::parse_resolv_conf("/etc/resolv.conf", text);
    let _ = platform::net_linux::parse_proc_route(text);
    let _ = platform::net_linux::parse_ipv6_route(text);
    let _ = platform::net_linux::parse_route_get("13.107.6.152".parse().unwrap(), text);
    let _ = platform::net_macos::parse_nwi(text);
    let _ = platform::net_macos::parse_netstat(text);
    let _ = platform::macos_office::parse_mdfind(text, "Microsoft Word.app");
    let _ = checks::host::sign_in_errors::parse_events(text);
    let _ = checks::host::sign_in_errors::parse_code(text);
    let _ = checks::clock::parse_http_date(text);
    let _ = diagnosis::explain::parse_code(text);
    let _ = route::proxy_url::parse_proxy_url(text);
    let _ = route::bypass::Bypass::parse(text);
    let _ = remote::Target::parse(text);
});
