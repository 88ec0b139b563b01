//! macOS: interfaces from `scutil --nwi`, routes from `netstat -rn`.
//!
//! Both are the system's own tools and their text is parsed here, so the parsing is tested
//! with fixture text on any OS (macOS cannot be type-checked on the build machines).
//! `scutil --nwi` lists the interfaces that carry a network, primary first, and marks a
//! VPN with its server; macOS itself keeps a few idle `utun` interfaces for system
//! services, so a `utun` counts only when it carries a network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::net::{Interface, LinkKind, NetFacts, RouteEntry};

/// One interface of a `scutil --nwi` family section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NwiInterface {
    pub name: String,
    pub ipv6: bool,
    pub address: Option<String>,
    pub vpn_server: Option<String>,
}

/// The interfaces of `scutil --nwi`, in order (primary first per family), and the names
/// of its closing "Network interfaces:" line.
pub fn parse_nwi(text: &str) -> (Vec<NwiInterface>, Vec<String>) {
    let mut found: Vec<NwiInterface> = Vec::new();
    let mut active = Vec::new();
    let mut ipv6 = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("IPv4 network interface information") {
            ipv6 = false;
        } else if t.starts_with("IPv6 network interface information") {
            ipv6 = true;
        } else if let Some(names) = t.strip_prefix("Network interfaces:") {
            active = names.split_whitespace().map(str::to_string).collect();
        } else if let Some((left, right)) = t.split_once(':') {
            let (key, value) = (left.trim(), right.trim());
            // "utun3 : flags : 0x5 (IPv4,DNS)" opens an interface block.
            if let Some(("flags", _)) = value.split_once(':').map(|(k, v)| (k.trim(), v)) {
                if !key.contains(' ') && key != "REACH" {
                    found.push(NwiInterface {
                        name: key.to_string(),
                        ipv6,
                        address: None,
                        vpn_server: None,
                    });
                }
                continue;
            }
            if let Some(last) = found.last_mut() {
                match key {
                    "address" => last.address = Some(value.to_string()),
                    "VPN server" => last.vpn_server = Some(value.to_string()),
                    _ => {}
                }
            }
        }
    }
    (found, active)
}

/// The routes of `netstat -rn` (both families). Interface-scoped routes (flag `I`) apply
/// only to sockets bound to that interface and are left out; reject and blackhole routes
/// lead to "unreachable". The table's order is its preference, kept as the metric.
pub fn parse_netstat(text: &str) -> (Vec<RouteEntry>, Vec<String>) {
    let mut routes = Vec::new();
    let mut problems = Vec::new();
    let mut family: Option<bool> = None; // Some(false) = Internet, Some(true) = Internet6
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        match t {
            "Internet:" => family = Some(false),
            "Internet6:" => family = Some(true),
            _ => {}
        }
        let Some(v6) = family else { continue };
        let f: Vec<&str> = t.split_whitespace().collect();
        if f.len() < 4 || f[0] == "Destination" || t.ends_with(':') {
            continue;
        }
        let (dest, gateway, flags, netif) = (f[0], f[1], f[2], f[3]);
        if flags.contains('I') || !flags.contains('U') {
            continue;
        }
        let parsed = if v6 {
            parse_dest_v6(dest)
        } else {
            parse_dest_v4(dest)
        };
        match parsed {
            Some((dest, prefix_len)) => {
                let blocked = flags.contains('R') || flags.contains('B');
                routes.push(RouteEntry {
                    dest,
                    prefix_len,
                    gateway: gateway.split('%').next().and_then(|g| g.parse().ok()),
                    interface: if blocked {
                        "unreachable".into()
                    } else {
                        netif.to_string()
                    },
                    metric: i as u32,
                });
            }
            None => problems.push(format!("line {}: {dest:?} is not a destination", i + 1)),
        }
    }
    (routes, problems)
}

/// `default`, `127`, `169.254`, `10.8.0/24`, `128.0/1`, `192.168.1.1` (missing octets are
/// zero; without a length, the octets written are the prefix).
fn parse_dest_v4(s: &str) -> Option<(IpAddr, u8)> {
    if s == "default" {
        return Some((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
    }
    let (net, len) = match s.split_once('/') {
        Some((n, l)) => (n, Some(l.parse::<u8>().ok().filter(|l| *l <= 32)?)),
        None => (s, None),
    };
    let parts: Vec<u8> = net.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    octets[..parts.len()].copy_from_slice(&parts);
    Some((
        IpAddr::V4(Ipv4Addr::from(octets)),
        len.unwrap_or(8 * parts.len() as u8),
    ))
}

/// `default`, `::1`, `fe80::%lo0/64`, `2001:db8::/32`.
fn parse_dest_v6(s: &str) -> Option<(IpAddr, u8)> {
    if s == "default" {
        return Some((IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0));
    }
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok().filter(|l| *l <= 128)?),
        None => (s, 128),
    };
    let addr = addr.split('%').next()?;
    Some((IpAddr::V6(addr.parse().ok()?), len))
}

/// The kind of link from a macOS interface name (the system names them by driver).
pub fn link_kind(name: &str) -> LinkKind {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    match stem {
        "utun" | "tun" => LinkKind::Tun,
        "tap" => LinkKind::Tap,
        "ppp" => LinkKind::Ppp,
        "ipsec" | "gif" | "stf" => LinkKind::IpTunnel,
        "lo" => LinkKind::Loopback,
        "en" => LinkKind::Ethernet,
        "bridge" | "awdl" | "llw" | "anpi" | "ap" | "vmenet" => LinkKind::Virtual,
        _ => LinkKind::Other,
    }
}

/// Builds the facts from the two commands' text.
pub fn facts_from(nwi: &str, netstat: &str) -> NetFacts {
    let (nwi_list, active) = parse_nwi(nwi);
    let (routes, problems) = parse_netstat(netstat);
    let mut names: Vec<String> = Vec::new();
    for n in active
        .iter()
        .chain(nwi_list.iter().map(|i| &i.name))
        .chain(routes.iter().map(|r| &r.interface))
    {
        if n != "unreachable" && !names.contains(n) {
            names.push(n.clone());
        }
    }
    let interfaces = names
        .into_iter()
        .map(|name| {
            let carried = nwi_list.iter().filter(|i| i.name == name).collect::<Vec<_>>();
            let up = !carried.is_empty() || active.contains(&name);
            let note = carried
                .iter()
                .find_map(|i| i.vpn_server.as_ref())
                .map(|s| format!("VPN server {s}"));
            Interface {
                kind: link_kind(&name),
                name,
                description: None,
                up,
                note,
            }
        })
        .collect();
    NetFacts {
        interfaces,
        routes,
        asked: Vec::new(),
        route_source: "netstat -rn".into(),
        problems,
    }
}

/// Runs `scutil --nwi` and `netstat -rn` on this Mac.
#[cfg(target_os = "macos")]
pub fn read() -> NetFacts {
    let run = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {cmd}: {e}"))
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let mut problems = Vec::new();
    let nwi = run("/usr/sbin/scutil", &["--nwi"]).unwrap_or_else(|e| {
        problems.push(e);
        String::new()
    });
    let netstat = run("/usr/sbin/netstat", &["-rn"]).unwrap_or_else(|e| {
        problems.push(e);
        String::new()
    });
    let mut facts = facts_from(&nwi, &netstat);
    facts.problems.extend(problems);
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    const NWI: &str = "Network information\n\nIPv4 network interface information\n\
        \x20    utun4 : flags      : 0x5 (IPv4,DNS)\n\
        \x20          address    : 10.8.0.2\n\
        \x20          VPN server : 203.0.113.10\n\
        \x20          reach      : 0x00000003 (Reachable,Transient Connection)\n\
        \x20      en0 : flags      : 0x5 (IPv4,DNS)\n\
        \x20          address    : 192.168.1.20\n\
        \x20          reach      : 0x00000002 (Reachable)\n\n\
        \x20  REACH : flags 0x00000003 (Reachable,Transient Connection)\n\n\
        IPv6 network interface information\n   No IPv6 states found\n\n\
        \x20  REACH : flags 0x00000000 (Not Reachable)\n\nNetwork interfaces: en0 utun4\n";

    const NETSTAT: &str = "Routing tables\n\nInternet:\n\
        Destination        Gateway            Flags           Netif Expire\n\
        default            192.168.1.1        UGScg             en0\n\
        default            link#22            UCSIg           utun4\n\
        0/1                10.8.0.1           UGSc            utun4\n\
        10.8/16            10.8.0.1           UGSc            utun4\n\
        127                127.0.0.1          UCS               lo0\n\
        128.0/1            10.8.0.1           UGSc            utun4\n\
        169.254            link#4             UCS               en0      !\n\
        192.168.1          link#4             UCS               en0      !\n\
        192.168.1.1        a4:91:b1:0:0:1     UHLWIir           en0   1185\n\
        224.0.0/4          link#4             UmCS              en0      !\n\n\
        Internet6:\n\
        Destination                             Gateway                         Flags           Netif Expire\n\
        default                                 fe80::%utun0                    UGcIg           utun0\n\
        ::1                                     ::1                             UHL               lo0\n\
        fe80::%lo0/64                           fe80::1%lo0                     UcI               lo0\n\
        2000::/3                                fe80::%utun4                    UGc             utun4\n";

    #[test]
    fn nwi_lists_interfaces_primary_first_with_the_vpn_server() {
        let (list, active) = parse_nwi(NWI);
        assert_eq!(active, ["en0", "utun4"]);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "utun4");
        assert_eq!(list[0].vpn_server.as_deref(), Some("203.0.113.10"));
        assert_eq!(list[0].address.as_deref(), Some("10.8.0.2"));
        assert_eq!(
            (list[1].name.as_str(), list[1].vpn_server.as_ref()),
            ("en0", None)
        );
    }

    #[test]
    fn netstat_destinations_in_every_shape() {
        let (routes, problems) = parse_netstat(NETSTAT);
        assert!(problems.is_empty(), "{problems:?}");
        let find = |d: &str, len: u8| {
            routes
                .iter()
                .find(|r| r.dest == d.parse::<IpAddr>().unwrap() && r.prefix_len == len)
        };
        assert_eq!(find("0.0.0.0", 1).unwrap().interface, "utun4");
        assert_eq!(
            find("128.0.0.0", 1).unwrap().gateway,
            Some("10.8.0.1".parse().unwrap())
        );
        assert!(find("10.8.0.0", 16).is_some());
        assert!(find("127.0.0.0", 8).is_some());
        assert!(find("192.168.1.0", 24).is_some());
        assert!(find("224.0.0.0", 4).is_some());
        assert!(find("2000::", 3).is_some());
        // Interface-scoped routes (flag I) do not route ordinary traffic.
        assert!(routes.iter().all(|r| r.interface != "utun0"));
        assert_eq!(
            routes.iter().filter(|r| r.prefix_len == 0).count(),
            1,
            "only en0's default is unscoped"
        );
    }

    #[test]
    fn a_def1_vpn_carries_the_internet() {
        let facts = facts_from(NWI, NETSTAT);
        assert_eq!(
            facts.route("64.0.0.1".parse().unwrap()).unwrap().interface,
            "utun4"
        );
        assert_eq!(
            facts.route("192.168.1.7".parse().unwrap()).unwrap().interface,
            "en0"
        );
        assert_eq!(
            facts.route("2600::1".parse().unwrap()).unwrap().interface,
            "utun4"
        );
        let utun = facts.interface("utun4").unwrap();
        assert!(utun.up);
        assert_eq!(utun.kind, LinkKind::Tun);
        assert_eq!(utun.note.as_deref(), Some("VPN server 203.0.113.10"));
        assert_eq!(facts.interface("en0").unwrap().kind, LinkKind::Ethernet);
    }

    #[test]
    fn a_bad_destination_is_named() {
        let (_, problems) =
            parse_netstat("Internet:\nDestination Gateway Flags Netif\n300.1  10.0.0.1  UGS  en0\n");
        assert_eq!(problems, ["line 3: \"300.1\" is not a destination"]);
    }
}
