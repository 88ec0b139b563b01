//! The VPN check on captured machine states: fake `/sys` + `/proc` trees for Linux and
//! `scutil --nwi` / `netstat -rn` text for macOS (`tests/fixtures/vpn/`), evaluated with
//! endpoint results that resolved to real Microsoft 365 addresses. Runs on any OS.

mod support;

use std::net::IpAddr;
use std::path::PathBuf;

use m365mon::checks::vpn;
use m365mon::model::{CheckKind, CheckResult, StageName, StageResult, Status};
use m365mon::platform::net::NetFacts;
use m365mon::platform::{net_linux, net_macos};
use support::results::fact;

fn fixture(name: &str) -> PathBuf {
    support::files::fixture("fixtures/vpn", name)
}

/// Endpoint results as a sweep leaves them: a passing `dns` stage with the addresses.
fn sweep() -> Vec<CheckResult> {
    [
        ("login.microsoftonline.com", "20.190.151.7, 20.190.151.68"),
        ("outlook.office365.com", "52.97.146.162"),
        ("officeclient.microsoft.com", "52.109.8.19"),
    ]
    .iter()
    .map(|(host, addrs)| {
        let mut c = CheckResult::simple(
            format!("endpoint:{host}"),
            CheckKind::Endpoint,
            *host,
            Status::Pass,
            "",
        );
        c.stages.push(StageResult {
            name: StageName::Dns,
            status: Status::Pass,
            ms: 3.0,
            detail: (*addrs).into(),
            cause: None,
        });
        c
    })
    .collect()
}

fn lookups() -> Vec<IpAddr> {
    let mut v = m365mon::route::vpn_paths::INTERNET_SAMPLES.to_vec();
    v.extend(vpn::endpoint_addresses(&sweep()).into_iter().map(|(_, a)| a));
    v
}

fn linux(name: &str) -> NetFacts {
    net_linux::read(&fixture(name), None, &lookups())
}

fn macos(name: &str) -> NetFacts {
    let read = |f: &str| std::fs::read_to_string(fixture(name).join(f)).unwrap();
    net_macos::facts_from(&read("scutil-nwi.txt"), &read("netstat-rn.txt"))
}

fn keys(r: &CheckResult) -> (Status, &str, &str, &str) {
    (
        r.status,
        fact(r, "vpn_up"),
        fact(r, "tunnel"),
        fact(r, "m365_via_vpn"),
    )
}

#[test]
fn linux_openvpn_def1_is_a_full_tunnel_carrying_microsoft_365() {
    let facts = linux("linux-openvpn-full");
    assert!(facts.problems.is_empty(), "{:?}", facts.problems);
    let r = vpn::evaluate(&facts, &sweep());
    assert_eq!(keys(&r), (Status::Warn, "yes", "full", "all"), "{}", r.summary);
    assert_eq!(fact(&r, "vpn_interfaces"), "tun0 (tun device)");
    assert_eq!(r.remediation.as_deref(), Some("vpn-full-tunnel"));
    assert!(
        fact(&r, "internet_route").starts_with("IPv4 via tun0 (gateway 10.8.0.1)"),
        "{:?}",
        r.facts
    );
    assert!(fact(&r, "m365 via tun0 (VPN)").contains("outlook.office365.com (52.97.146.162)"));
    assert_eq!(fact(&r, "routes_from"), "/proc/net/route + /proc/net/ipv6_route");
    // The VPN server itself is reached outside the tunnel, by its host route.
    assert_eq!(
        facts.route("203.0.113.10".parse().unwrap()).unwrap().interface,
        "eth0"
    );
}

#[test]
fn linux_anyconnect_split_tunnel_leaves_microsoft_365_direct() {
    let r = vpn::evaluate(&linux("linux-anyconnect-split"), &sweep());
    assert_eq!(keys(&r), (Status::Pass, "yes", "split", "none"), "{}", r.summary);
    assert_eq!(fact(&r, "vpn_interfaces"), "cscotun0 (Cisco AnyConnect)");
    assert!(fact(&r, "m365 via eth0").contains("login.microsoftonline.com"));
    assert!(
        fact(&r, "internet_route").contains("IPv6 via eth0 (gateway 2001:db8::1)"),
        "{:?}",
        r.facts
    );
}

#[test]
fn linux_vm_host_has_no_vpn() {
    let facts = linux("linux-no-vpn-vm-host");
    let names: Vec<&str> = facts.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        ["docker0", "enp3s0", "lo", "virbr0", "vnet0"],
        "bonding_masters is a file, not an interface"
    );
    let r = vpn::evaluate(&facts, &sweep());
    assert_eq!(keys(&r), (Status::Pass, "no", "none", "none"), "{}", r.summary);
    assert_eq!(r.summary, "no VPN connected");
}

#[test]
fn linux_wg_quick_policy_routing_is_seen_through_ip_route_get() {
    let dir = fixture("linux-wg-quick-policy");
    let text = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let ip = |args: &[&str]| -> Result<String, String> {
        match args {
            ["rule", "show"] => Ok(text("ip-rule.txt")),
            ["-6", "rule", "show"] => Ok(text("ip-6-rule.txt")),
            ["-4", "-o", "route", "get", addr] => Ok(text("ip-route-get.txt").replace("ADDR", addr)),
            ["-6", "-o", "route", "get", _] => Err("RTNETLINK answers: Network is unreachable\n".into()),
            other => Err(format!("unexpected ip {other:?}")),
        }
    };
    // The main table alone says "direct": that is the trap policy routing sets.
    let table_only = vpn::evaluate(&net_linux::read(&dir, None, &lookups()), &sweep());
    assert_eq!(fact(&table_only, "tunnel"), "split");

    let facts = net_linux::read(&dir, Some(&ip), &lookups());
    let r = vpn::evaluate(&facts, &sweep());
    assert_eq!(keys(&r), (Status::Warn, "yes", "full", "all"), "{}", r.summary);
    assert_eq!(fact(&r, "vpn_interfaces"), "wg0 (wireguard device)");
    assert!(
        fact(&r, "routes_from").contains("not from all fwmark 0xca6c lookup 51820"),
        "{:?}",
        r.facts
    );
}

#[test]
fn macos_globalprotect_full_tunnel() {
    let r = vpn::evaluate(&macos("macos-globalprotect-full"), &sweep());
    assert_eq!(keys(&r), (Status::Warn, "yes", "full", "all"), "{}", r.summary);
    assert_eq!(fact(&r, "vpn_interfaces"), "utun4 (tun device)");
    assert_eq!(fact(&r, "utun4 state"), "VPN server 198.51.100.20");
    assert!(
        fact(&r, "internet_route").contains("IPv6: no route"),
        "{:?}",
        r.facts
    );
}

#[test]
fn macos_split_tunnel_and_idle_system_utuns() {
    let facts = macos("macos-split");
    let r = vpn::evaluate(&facts, &sweep());
    assert_eq!(keys(&r), (Status::Pass, "yes", "split", "none"), "{}", r.summary);
    // utun0 is one of macOS's own idle tunnels (link-local only): not a VPN.
    assert_eq!(fact(&r, "vpn_interfaces"), "utun4 (tun device)");
    assert_eq!(
        facts.route("10.1.2.3".parse().unwrap()).unwrap().interface,
        "utun4"
    );
    assert_eq!(
        facts.route("172.20.0.1".parse().unwrap()).unwrap().interface,
        "utun4"
    );
}
