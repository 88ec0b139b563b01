//! A real VPN-shaped interface in a network namespace this test creates: a tun device
//! (`m365t0`) beside a veth "LAN", and the monitor, run inside the namespace against the
//! lab, must see a split tunnel, then a full tunnel (OpenVPN's `0/1` + `128/1` routes),
//! then a wg-quick-style full tunnel made with policy routing.
//!
//! Nothing leaves the namespace: the check only reads routing state, the lab is on
//! loopback, and the namespace's only other links are the tun device (no program reads
//! it) and a veth pair whose both ends are inside.
//!
//! Needs root (namespaces). Elsewhere it skips loudly (`support::skip`), and fails under CI.

mod support;

use serde_json::Value;
use support::netns::{have, is_root, Netns};
use support::{report, skip};

// The namespace itself (removed, with everything in it, even when the test fails) is
// `support::netns::Netns`; these are what this test asks of it.
impl Netns {
    /// Runs `check` once inside the namespace against a lab scenario: the whole report.
    fn report(&self, scenario: &str) -> Value {
        self.check(&["--lab", scenario])
    }

    /// Runs the monitor once inside the namespace and returns the `network:vpn` result.
    fn vpn_check(&self) -> Value {
        report::by_id(&self.report("healthy"), "network:vpn").clone()
    }

    /// A new namespace with loopback up, or `None` (test `test` skipped, loudly) where
    /// namespaces cannot be made.
    fn create(tag: &str, test: &str) -> Option<Netns> {
        if !cfg!(target_os = "linux") || !is_root() || !have("ip") {
            skip::because(
                test,
                "needs Linux, root and ip (network namespaces; CI runs it as root)",
            );
            return None;
        }
        let ns = Netns::add(format!("m365mon-{tag}-{}", std::process::id()));
        ns.ip("link set lo up");
        Some(ns)
    }
}

fn fact(check: &Value, key: &str) -> String {
    report::fact(check, key)
        .unwrap_or_else(|| panic!("no fact {key} in {check}"))
        .to_string()
}

#[test]
fn tun_device_split_then_full_then_policy_routed() {
    let Some(ns) = Netns::create("vpn", "tun_device_split_then_full_then_policy_routed") else {
        return;
    };
    ns.ip("link add eth0 type veth peer name eth0p");
    ns.ip("addr add 192.168.50.2/24 dev eth0");
    ns.ip("link set eth0p up");
    ns.ip("link set eth0 up");
    ns.ip("route add default via 192.168.50.1 dev eth0");
    ns.ip("tuntap add dev m365t0 mode tun");
    ns.ip("addr add 10.77.0.2/24 dev m365t0");
    ns.ip("link set m365t0 up");

    // Split: only the company network goes into the tunnel.
    ns.ip("route add 10.0.0.0/8 dev m365t0");
    let split = ns.vpn_check();
    assert_eq!(
        (fact(&split, "vpn_up").as_str(), fact(&split, "tunnel").as_str()),
        ("yes", "split"),
        "{split}"
    );
    assert!(
        fact(&split, "vpn_interfaces").starts_with("m365t0 (tun device)"),
        "{split}"
    );
    assert!(
        fact(&split, "internet_route").starts_with("IPv4 via eth0 (gateway 192.168.50.1)"),
        "{split}"
    );
    // No program holds the tun device open, so the kernel reports no carrier: shown, not hidden.
    assert_eq!(fact(&split, "m365t0 state"), "switched on, but no carrier");
    // The lab's endpoints are on loopback: they never go through the tunnel.
    assert_eq!(fact(&split, "m365_via_vpn"), "none", "{split}");
    assert_eq!(split["status"], "pass", "{split}");

    // Full: OpenVPN's redirect-gateway def1 routes, more specific than the LAN default.
    ns.ip("route add 0.0.0.0/1 dev m365t0");
    ns.ip("route add 128.0.0.0/1 dev m365t0");
    let full = ns.vpn_check();
    assert_eq!(
        (fact(&full, "vpn_up").as_str(), fact(&full, "tunnel").as_str()),
        ("yes", "full"),
        "{full}"
    );
    assert!(
        fact(&full, "internet_route").starts_with("IPv4 via m365t0"),
        "{full}"
    );
    assert_eq!(
        fact(&full, "routes_from"),
        "/proc/net/route + /proc/net/ipv6_route"
    );
    assert_eq!(fact(&full, "m365_via_vpn"), "none", "{full}");

    // Full again, the wg-quick way: the main table still says "LAN", a rule says otherwise.
    ns.ip("route del 0.0.0.0/1");
    ns.ip("route del 128.0.0.0/1");
    ns.ip("route add default dev m365t0 table 51820");
    ns.ip("rule add not fwmark 0xca6c table 51820");
    let policy = ns.vpn_check();
    assert_eq!(fact(&policy, "tunnel"), "full", "{policy}");
    assert!(
        fact(&policy, "routes_from").starts_with("ip route get (policy routing"),
        "{policy}"
    );
    assert!(
        fact(&policy, "internet_route").starts_with("IPv4 via m365t0"),
        "{policy}"
    );

    // VPN gone: nothing left to report.
    ns.ip("rule del not fwmark 0xca6c table 51820");
    ns.ip("link del m365t0");
    let gone = ns.vpn_check();
    assert_eq!(
        (fact(&gone, "vpn_up").as_str(), fact(&gone, "tunnel").as_str()),
        ("no", "none"),
        "{gone}"
    );
}

/// The root-cause rule "a VPN is up while endpoints fail": with a full-tunnel VPN up in the
/// namespace and the lab's firewall scenario dropping the activation endpoints, the top
/// finding points at the VPN (its DNS, routes or firewall) rather than at a firewall rule.
#[test]
fn endpoints_failing_with_a_full_tunnel_up_point_at_the_vpn() {
    let Some(ns) = Netns::create(
        "vpnrc",
        "endpoints_failing_with_a_full_tunnel_up_point_at_the_vpn",
    ) else {
        return;
    };
    ns.ip("tuntap add dev m365t1 mode tun");
    ns.ip("addr add 10.78.0.2/24 dev m365t1");
    ns.ip("link set m365t1 up");
    ns.ip("route add default dev m365t1");

    let firewall = ns.report("firewall");
    let top = &firewall["findings"][0];
    assert_eq!(
        (top["id"].as_str(), top["root_cause"].as_bool()),
        (Some("vpn-in-path"), Some(true)),
        "{top}"
    );
    assert!(top["title"].as_str().unwrap().contains("m365t1"), "{top}");
    assert!(
        top["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "endpoint:activation.sls.microsoft.com"),
        "{top}"
    );
    // The same VPN with every endpoint healthy is no finding at all.
    let healthy = ns.report("healthy");
    let ids: Vec<&str> = healthy["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"vpn-in-path"), "{ids:?}");
}
