//! VPN: is a VPN connected, does it carry all Internet traffic (full tunnel) or only some
//! networks (split tunnel), and — what matters for sign-in — does it carry the traffic to
//! the Microsoft 365 endpoints of this sweep?
//!
//! Microsoft asks that Microsoft 365 traffic leave the machine directly rather than go
//! through the VPN and the company's proxies ("Implementing VPN split tunneling for
//! Microsoft 365"): a full tunnel that carries it is a warning, with that guidance.
//!
//! Which interface carries each address, and whether it is a VPN, is looked up by
//! [`crate::route::vpn_paths`] for the addresses the endpoints resolved to in this sweep
//! (their `dns` stage) and for a few sample Internet addresses ([`INTERNET_SAMPLES`]) that
//! tell a full tunnel from a split one. This module judges what it found. Only routing
//! state is read: no packet is sent.
//!
//! Facts with stable keys, for findings and reports:
//! - `vpn_up`: `yes` or `no`: a VPN interface is switched on.
//! - `tunnel`: `full` (Internet traffic goes through the VPN), `split` (a VPN is up but
//!   Internet traffic leaves directly) or `none` (no VPN).
//! - `m365_via_vpn`: `all`, `some` or `none` of the endpoints' addresses route through
//!   the VPN, or `unknown` (no endpoint resolved in this sweep).

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::model::{CheckKind, CheckResult, StageName, Status};
use crate::platform::net::{Interface, NetFacts};
use crate::route::vpn_paths::{self, vpn_label, INTERNET_SAMPLES};

/// Check id.
pub const ID: &str = "network:vpn";
/// Remediation entry for a VPN that carries Microsoft 365 traffic.
pub const REMEDIATION: &str = "vpn-full-tunnel";

/// One endpoint address and where its packets go.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hop {
    host: String,
    addr: IpAddr,
    interface: Option<String>,
}

/// The addresses each endpoint's traffic went to in this sweep, from its `dns` stage
/// detail ("20.190.151.7, 20.190.151.8"). Through a proxy the stage resolved the proxy
/// ("10.0.0.5 (proxy proxy.contoso.com:8080)"), and the route to the proxy is indeed the
/// one the endpoint's traffic takes out of this machine.
pub fn endpoint_addresses(endpoints: &[CheckResult]) -> Vec<(String, IpAddr)> {
    let mut out = Vec::new();
    for c in endpoints.iter().filter(|c| c.kind == CheckKind::Endpoint) {
        let Some(dns) = c.stage(StageName::Dns).filter(|s| s.status == Status::Pass) else {
            continue;
        };
        let host =
            c.id.trim_start_matches("endpoint:")
                .split('/')
                .next()
                .unwrap_or("")
                .to_string();
        let first_words = dns.detail.split(',').filter_map(|a| a.split_whitespace().next());
        for addr in first_words.filter_map(|a| a.parse::<IpAddr>().ok()) {
            if !out.contains(&(host.clone(), addr)) {
                out.push((host.clone(), addr));
            }
        }
    }
    out
}

/// Runs the check on this machine: reads interfaces and routes, then [`evaluate`]s.
pub fn check(endpoints: &[CheckResult]) -> CheckResult {
    let addresses: Vec<IpAddr> = endpoint_addresses(endpoints)
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    evaluate(&vpn_paths::read_paths(&addresses), endpoints)
}

/// The check as a plain function of the network facts and this sweep's endpoint results.
pub fn evaluate(facts: &NetFacts, endpoints: &[CheckResult]) -> CheckResult {
    let target = "VPN interfaces and routes";
    if facts.interfaces.is_empty() && !facts.problems.is_empty() {
        let mut r = CheckResult::simple(
            ID,
            CheckKind::Network,
            target,
            Status::Skip,
            "cannot read the network interfaces",
        );
        r.facts
            .extend(facts.problems.iter().map(|p| ("problem".to_string(), p.clone())));
        return r;
    }
    let vpns: Vec<(&Interface, String)> = facts
        .interfaces
        .iter()
        .filter(|i| i.up)
        .filter_map(|i| vpn_label(i, facts).map(|label| (i, label)))
        .collect();
    let is_vpn = |name: &str| vpns.iter().any(|(i, _)| i.name == name);

    // Internet traffic, per family: full when every sample of a family goes into a VPN.
    let mut internet = Vec::new();
    let mut full = false;
    for (family, v6) in [("IPv4", false), ("IPv6", true)] {
        let routes: Vec<_> = INTERNET_SAMPLES
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .map(|a| facts.route(*a))
            .collect();
        let outs: Vec<&str> = routes.iter().flatten().map(|c| c.interface.as_str()).collect();
        if outs.is_empty() || outs.iter().all(|o| *o == "unreachable") {
            internet.push(format!("{family}: no route"));
            continue;
        }
        if outs.len() == routes.len() && outs.iter().all(|o| is_vpn(o)) {
            full = true;
        }
        let mut names: Vec<&str> = outs.clone();
        names.dedup();
        let gateway = routes
            .iter()
            .flatten()
            .find_map(|c| c.gateway)
            .map(|g| format!(" (gateway {g})"))
            .unwrap_or_default();
        internet.push(format!("{family} via {}{gateway}", names.join(" and ")));
    }

    let hops: Vec<Hop> = endpoint_addresses(endpoints)
        .into_iter()
        .map(|(host, addr)| Hop {
            interface: facts.route(addr).map(|c| c.interface),
            host,
            addr,
        })
        .collect();
    let through: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.interface.as_deref().is_some_and(&is_vpn))
        .collect();
    let m365 = match (hops.len(), through.len()) {
        (0, _) => "unknown",
        (_, 0) => "none",
        (n, k) if n == k => "all",
        _ => "some",
    };
    let vpn_up = !vpns.is_empty();
    let tunnel = match (vpn_up, full) {
        (false, _) => "none",
        (true, true) => "full",
        (true, false) => "split",
    };
    let names = vpns
        .iter()
        .map(|(i, label)| format!("{} ({label})", i.name))
        .collect::<Vec<_>>()
        .join(", ");

    let (status, summary) = if !vpn_up {
        (Status::Pass, "no VPN connected".to_string())
    } else if !through.is_empty() {
        let hosts = distinct_hosts(&through);
        let what = if tunnel == "full" {
            "full-tunnel VPN"
        } else {
            "VPN (split tunnel)"
        };
        (
            Status::Warn,
            format!(
                "{what} {names} carries Microsoft 365 traffic ({} of {} endpoint addresses, e.g. {})",
                through.len(),
                hops.len(),
                hosts.first().map(String::as_str).unwrap_or("?")
            ),
        )
    } else if hops.is_empty() && tunnel == "full" {
        (Status::Warn, format!("full-tunnel VPN {names}: Microsoft 365 traffic goes through it (no endpoint resolved to confirm)"))
    } else if hops.is_empty() {
        (
            Status::Pass,
            format!("VPN {names} up, split tunnel (no endpoint resolved to check its routes)"),
        )
    } else {
        (
            Status::Pass,
            format!("VPN {names} up ({tunnel} tunnel); Microsoft 365 traffic leaves directly"),
        )
    };

    let mut r = CheckResult::simple(ID, CheckKind::Network, target, status, summary);
    let mut fact = |k: &str, v: String| r.facts.push((k.to_string(), v));
    fact("vpn_up", if vpn_up { "yes" } else { "no" }.into());
    fact("tunnel", tunnel.into());
    fact("m365_via_vpn", m365.into());
    fact(
        "vpn_interfaces",
        if names.is_empty() {
            "none".into()
        } else {
            names.clone()
        },
    );
    for (i, _) in &vpns {
        if let Some(note) = &i.note {
            fact(&format!("{} state", i.name), note.clone());
        }
    }
    fact("internet_route", internet.join("; "));
    let mut by_interface: BTreeMap<String, Vec<&Hop>> = BTreeMap::new();
    for h in &hops {
        by_interface
            .entry(h.interface.clone().unwrap_or_else(|| "no route".into()))
            .or_default()
            .push(h);
    }
    for (interface, group) in by_interface {
        let label = if is_vpn(&interface) {
            format!("m365 via {interface} (VPN)")
        } else {
            format!("m365 via {interface}")
        };
        fact(&label, describe_hops(&group));
    }
    if !facts.route_source.is_empty() {
        fact("routes_from", facts.route_source.clone());
    }
    for p in &facts.problems {
        fact("problem", p.clone());
    }
    if status != Status::Pass {
        r.remediation = Some(REMEDIATION.into());
    }
    r
}

fn distinct_hosts(hops: &[&Hop]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for h in hops {
        if !hosts.contains(&h.host) {
            hosts.push(h.host.clone());
        }
    }
    hosts
}

/// "login.microsoftonline.com (20.190.151.7), outlook.office365.com (52.97.1.1) and 3 more".
fn describe_hops(hops: &[&Hop]) -> String {
    let shown: Vec<String> = hops
        .iter()
        .take(4)
        .map(|h| format!("{} ({})", h.host, h.addr))
        .collect();
    match hops.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StageResult;
    use crate::platform::net::{LinkKind, RouteEntry};

    fn iface(name: &str, kind: LinkKind, description: Option<&str>) -> Interface {
        Interface {
            name: name.into(),
            description: description.map(Into::into),
            kind,
            up: true,
            note: None,
        }
    }

    fn route(dest: &str, len: u8, via: &str) -> RouteEntry {
        RouteEntry {
            dest: dest.parse().unwrap(),
            prefix_len: len,
            gateway: None,
            interface: via.into(),
            metric: 0,
        }
    }

    fn resolved(host: &str, addrs: &str) -> CheckResult {
        let mut c = CheckResult::simple(
            format!("endpoint:{host}"),
            CheckKind::Endpoint,
            host,
            Status::Pass,
            "",
        );
        c.stages.push(StageResult {
            name: StageName::Dns,
            status: Status::Pass,
            ms: 1.0,
            detail: addrs.into(),
            cause: None,
        });
        c
    }

    fn fact<'a>(r: &'a CheckResult, key: &str) -> &'a str {
        r.facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} in {:?}", r.facts))
    }

    fn lan_and_tun(tun_routes: Vec<RouteEntry>) -> NetFacts {
        let mut routes = vec![route("0.0.0.0", 0, "eth0"), route("192.168.1.0", 24, "eth0")];
        routes.extend(tun_routes);
        NetFacts {
            interfaces: vec![
                iface("eth0", LinkKind::Ethernet, None),
                iface("tun0", LinkKind::Tun, None),
            ],
            routes,
            ..Default::default()
        }
    }

    #[test]
    fn full_tunnel_carrying_microsoft_365_is_a_warning() {
        let facts = lan_and_tun(vec![route("0.0.0.0", 1, "tun0"), route("128.0.0.0", 1, "tun0")]);
        let eps = [
            resolved("login.microsoftonline.com", "20.190.151.7, 20.190.151.8"),
            resolved("outlook.office365.com", "52.97.1.1"),
        ];
        let r = evaluate(&facts, &eps);
        assert_eq!(r.status, Status::Warn, "{}", r.summary);
        assert_eq!(
            (fact(&r, "vpn_up"), fact(&r, "tunnel"), fact(&r, "m365_via_vpn")),
            ("yes", "full", "all")
        );
        assert_eq!(r.remediation.as_deref(), Some(REMEDIATION));
        assert!(r.summary.contains("3 of 3"), "{}", r.summary);
        assert!(fact(&r, "m365 via tun0 (VPN)").contains("login.microsoftonline.com (20.190.151.7)"));
    }

    #[test]
    fn full_tunnel_with_microsoft_365_excluded_passes() {
        // Microsoft's recommended set-up: everything through the VPN except the Optimize ranges.
        let facts = lan_and_tun(vec![
            route("0.0.0.0", 1, "tun0"),
            route("128.0.0.0", 1, "tun0"),
            route("20.190.128.0", 18, "eth0"),
        ]);
        let r = evaluate(&facts, &[resolved("login.microsoftonline.com", "20.190.151.7")]);
        assert_eq!(r.status, Status::Pass, "{}", r.summary);
        assert_eq!((fact(&r, "tunnel"), fact(&r, "m365_via_vpn")), ("full", "none"));
        assert_eq!(r.remediation, None);
    }

    #[test]
    fn split_tunnel_passes_unless_it_routes_microsoft_365() {
        let facts = lan_and_tun(vec![route("10.0.0.0", 8, "tun0")]);
        let r = evaluate(&facts, &[resolved("login.microsoftonline.com", "20.190.151.7")]);
        assert_eq!(
            (r.status, fact(&r, "tunnel"), fact(&r, "m365_via_vpn")),
            (Status::Pass, "split", "none")
        );
        assert!(
            fact(&r, "internet_route").starts_with("IPv4 via eth0"),
            "{:?}",
            r.facts
        );

        let facts = lan_and_tun(vec![route("10.0.0.0", 8, "tun0"), route("52.96.0.0", 14, "tun0")]);
        let eps = [
            resolved("login.microsoftonline.com", "20.190.151.7"),
            resolved("outlook.office365.com", "52.97.1.1"),
        ];
        let r = evaluate(&facts, &eps);
        assert_eq!(
            (r.status, fact(&r, "tunnel"), fact(&r, "m365_via_vpn")),
            (Status::Warn, "split", "some")
        );
        assert!(r.summary.contains("outlook.office365.com"), "{}", r.summary);
    }

    #[test]
    fn no_vpn_is_a_pass_and_says_so() {
        let facts = NetFacts {
            interfaces: vec![
                iface("eth0", LinkKind::Ethernet, None),
                iface("lo", LinkKind::Loopback, None),
            ],
            routes: vec![route("0.0.0.0", 0, "eth0")],
            ..Default::default()
        };
        let r = evaluate(&facts, &[]);
        assert_eq!(
            (
                r.status,
                fact(&r, "vpn_up"),
                fact(&r, "tunnel"),
                fact(&r, "m365_via_vpn")
            ),
            (Status::Pass, "no", "none", "unknown")
        );
        assert_eq!(fact(&r, "vpn_interfaces"), "none");
    }

    #[test]
    fn full_tunnel_without_resolved_endpoints_still_warns() {
        let facts = lan_and_tun(vec![route("0.0.0.0", 1, "tun0"), route("128.0.0.0", 1, "tun0")]);
        let r = evaluate(&facts, &[]);
        assert_eq!((r.status, fact(&r, "m365_via_vpn")), (Status::Warn, "unknown"));
    }

    #[test]
    fn a_switched_off_vpn_does_not_count() {
        let mut facts = lan_and_tun(vec![]);
        facts.interfaces[1].up = false;
        assert_eq!(fact(&evaluate(&facts, &[]), "vpn_up"), "no");
    }

    #[test]
    fn unreadable_facts_skip_with_the_reason() {
        let facts = NetFacts {
            problems: vec!["cannot list /sys/class/net: denied".into()],
            ..Default::default()
        };
        let r = evaluate(&facts, &[]);
        assert_eq!(r.status, Status::Skip);
        assert!(fact(&r, "problem").contains("/sys/class/net"));
    }

    #[test]
    fn products_are_recognised_by_name_or_description() {
        let facts = NetFacts::default();
        let label = |name: &str, kind, desc: Option<&str>| vpn_label(&iface(name, kind, desc), &facts);
        assert_eq!(
            label(
                "Ethernet 3",
                LinkKind::Ethernet,
                Some("PANGP Virtual Ethernet Adapter")
            )
            .as_deref(),
            Some("GlobalProtect")
        );
        assert_eq!(
            label(
                "Ethernet 2",
                LinkKind::Ethernet,
                Some("Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter for Windows x64")
            )
            .as_deref(),
            Some("Cisco AnyConnect")
        );
        assert_eq!(
            label(
                "Local Area Connection",
                LinkKind::Ethernet,
                Some("TAP-Windows Adapter V9")
            )
            .as_deref(),
            Some("OpenVPN (TAP-Windows)")
        );
        assert_eq!(
            label("wg0", LinkKind::WireGuard, None).as_deref(),
            Some("wireguard device")
        );
        assert_eq!(
            label("Contoso", LinkKind::Virtual, Some("WireGuard Tunnel")).as_deref(),
            Some("WireGuard")
        );
        assert_eq!(
            label(
                "Ethernet 4",
                LinkKind::Ethernet,
                Some("Fortinet SSL VPN Virtual Ethernet Adapter")
            )
            .as_deref(),
            Some("FortiClient")
        );
        assert_eq!(
            label(
                "Ethernet 5",
                LinkKind::Ethernet,
                Some("Juniper Networks Virtual Adapter")
            )
            .as_deref(),
            Some("Juniper")
        );
        assert_eq!(
            label(
                "Ethernet 6",
                LinkKind::Ethernet,
                Some("Pulse Secure Virtual Adapter")
            )
            .as_deref(),
            Some("Pulse Secure")
        );
        assert_eq!(
            label(
                "Zscaler",
                LinkKind::Ethernet,
                Some("Zscaler Network Adapter 1.0.2.0")
            )
            .as_deref(),
            Some("Zscaler")
        );
        assert_eq!(
            label("nordlynx", LinkKind::Tun, None).as_deref(),
            Some("NordLynx (NordVPN)")
        );
        assert_eq!(
            label(
                "OpenVPN Wintun",
                LinkKind::Virtual,
                Some("Wintun Userspace Tunnel")
            )
            .as_deref(),
            Some("OpenVPN")
        );
        assert_eq!(
            label("gpd0", LinkKind::Tun, None).as_deref(),
            Some("GlobalProtect")
        );
        assert_eq!(label("ppp0", LinkKind::Ppp, None).as_deref(), Some("ppp device"));
        // Not VPNs: transition tunnels, ordinary adapters, and taps nobody routes into.
        assert_eq!(
            label("Teredo Tunneling Pseudo-Interface", LinkKind::IpTunnel, None),
            None
        );
        assert_eq!(
            label(
                "Ethernet",
                LinkKind::Ethernet,
                Some("Intel(R) Ethernet Connection I219-LM")
            ),
            None
        );
        assert_eq!(label("vnet0", LinkKind::Tap, None), None);
        assert_eq!(label("gpdx", LinkKind::Ethernet, None), None);
    }

    #[test]
    fn a_tap_that_carries_routes_counts() {
        let facts = NetFacts {
            routes: vec![route("10.0.0.0", 8, "tap0")],
            ..Default::default()
        };
        assert_eq!(
            vpn_label(&iface("tap0", LinkKind::Tap, None), &facts).as_deref(),
            Some("tap device")
        );
    }

    #[test]
    fn addresses_come_from_passing_dns_stages_only() {
        let mut failed = resolved("x.example", "no address");
        failed.stages[0].status = Status::Fail;
        let eps = [
            resolved("a.example", "192.0.2.1, 2001:db8::1"),
            failed,
            resolved("b.example", "10.0.0.5 (proxy proxy.contoso.com:8080)"),
        ];
        let got = endpoint_addresses(&eps);
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], ("b.example".to_string(), "10.0.0.5".parse().unwrap()));
        assert_eq!(got[0], ("a.example".to_string(), "192.0.2.1".parse().unwrap()));
    }
}
