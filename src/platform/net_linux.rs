//! Linux: interfaces from `/sys/class/net`, routes from `/proc/net/route` and
//! `/proc/net/ipv6_route`, and `ip route get` when policy routing is in use.
//!
//! Everything is read from files under a root path, so tests point the reader at a fake
//! tree (`tests/fixtures/vpn/`) and the parsing is exercised on any OS. The `/proc` files
//! only show the `main` table: wg-quick and Tailscale route everything through their own
//! table with `ip rule`, which the files cannot show. So when `ip rule` lists more than the
//! three default rules, the kernel itself is asked (`ip route get`, which looks the route
//! up without sending a packet) for each address the caller cares about.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use super::net::{Egress, Interface, LinkKind, NetFacts, RouteEntry};

/// Runs `ip` with arguments; `Ok(stdout)` or `Err(stderr or why it could not run)`.
pub type IpRunner<'a> = &'a dyn Fn(&[&str]) -> Result<String, String>;

// Values from <linux/if_arp.h>, <linux/if.h> and <linux/if_tun.h>.
const ARPHRD_ETHER: u32 = 1;
const ARPHRD_PPP: u32 = 512;
const ARPHRD_LOOPBACK: u32 = 772;
const ARPHRD_NONE: u32 = 65534;
/// IPIP, IP6-in-IPv6, SIT, GRE, IP6GRE.
const ARPHRD_IP_TUNNELS: &[u32] = &[768, 769, 776, 778, 823];
const IFF_UP: u32 = 0x1;
const IFF_TUN: u32 = 0x1;
const IFF_TAP: u32 = 0x2;
const RTF_UP: u32 = 0x1;
const RTF_REJECT: u32 = 0x200;

/// Reads interfaces and routes under `root` (`/` on a live system). `ip` is used only to
/// detect policy routing and then to ask for the routes of `lookups`; `None` skips it.
pub fn read(root: &Path, ip: Option<IpRunner<'_>>, lookups: &[IpAddr]) -> NetFacts {
    let mut facts = NetFacts::default();
    match read_interfaces(&root.join("sys/class/net")) {
        Ok(list) => facts.interfaces = list,
        Err(why) => facts.problems.push(why),
    }
    let mut sources = Vec::new();
    for (file, parse) in [
        (
            "proc/net/route",
            parse_proc_route as fn(&str) -> (Vec<RouteEntry>, Vec<String>),
        ),
        ("proc/net/ipv6_route", parse_ipv6_route),
    ] {
        let path = root.join(file);
        match fs::read_to_string(&path) {
            Ok(text) => {
                let (routes, problems) = parse(&text);
                facts.routes.extend(routes);
                facts
                    .problems
                    .extend(problems.into_iter().map(|p| format!("{}: {p}", path.display())));
                sources.push(format!("/{file}"));
            }
            // A machine without IPv6 has no ipv6_route: that is not a problem.
            Err(e) if file.ends_with("ipv6_route") && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => facts
                .problems
                .push(format!("cannot read {}: {e}", path.display())),
        }
    }
    facts.route_source = sources.join(" + ");
    if let Some(ip) = ip {
        let mut rules = Vec::new();
        for args in [&["rule", "show"][..], &["-6", "rule", "show"][..]] {
            match ip(args) {
                Ok(out) => rules.extend(policy_rules(&out)),
                Err(why) => facts
                    .problems
                    .push(format!("`ip {}` failed: {}", args.join(" "), why.trim())),
            }
        }
        if !rules.is_empty() {
            facts.asked = lookups.iter().filter_map(|a| ask_route(ip, *a)).collect();
            facts.route_source = format!("ip route get (policy routing: {})", rules.join("; "));
        }
    }
    facts
}

/// Runs the system's `ip` command.
pub fn run_ip(args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn ask_route(ip: IpRunner<'_>, addr: IpAddr) -> Option<Egress> {
    let family = if addr.is_ipv6() { "-6" } else { "-4" };
    let text = addr.to_string();
    match ip(&[family, "-o", "route", "get", &text]) {
        Ok(out) => parse_route_get(addr, &out),
        Err(why) if why.contains("unreachable") => Some(Egress {
            addr,
            interface: "unreachable".into(),
            gateway: None,
            how: "ip route get",
        }),
        Err(_) => None,
    }
}

/// One line of `ip -o route get`, e.g.
/// `192.0.2.1 via 10.0.2.2 dev eth0 src 10.0.2.15 uid 0 \    cache`.
pub fn parse_route_get(addr: IpAddr, out: &str) -> Option<Egress> {
    let words: Vec<&str> = out.split_whitespace().collect();
    let after = |key: &str| words.windows(2).find(|w| w[0] == key).map(|w| w[1]);
    let interface = after("dev")?.to_string();
    let gateway = after("via").and_then(|g| g.parse().ok());
    Some(Egress {
        addr,
        interface,
        gateway,
        how: "ip route get",
    })
}

/// The rules of `ip rule show` beyond the defaults every Linux has (`lookup local`,
/// `lookup main`, `lookup default`), in a normalised form.
pub fn policy_rules(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|line| {
            let (_, rule) = line.split_once(':')?;
            let rule = rule.split_whitespace().collect::<Vec<_>>().join(" ");
            let rule = rule.trim_end_matches(" proto kernel").to_string();
            let default = [
                "from all lookup local",
                "from all lookup main",
                "from all lookup default",
            ];
            (!rule.is_empty() && !default.contains(&rule.as_str())).then_some(rule)
        })
        .collect()
}

/// Every interface under a `/sys/class/net`-shaped directory, sorted by name.
pub fn read_interfaces(dir: &Path) -> Result<Vec<Interface>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut list: Vec<Interface> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            // `bonding_masters` and friends are files, not interfaces.
            e.path()
                .join("type")
                .exists()
                .then(|| read_interface(&e.path(), name))
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

fn read_interface(dir: &Path, name: String) -> Interface {
    let read = |file: &str| {
        fs::read_to_string(dir.join(file))
            .ok()
            .map(|s| s.trim().to_string())
    };
    let number = |file: &str| read(file).and_then(|s| parse_number(&s));
    let arp_type = number("type");
    let flags = number("flags").unwrap_or(0);
    let tun_flags = number("tun_flags");
    let devtype = read("uevent").and_then(|u| {
        u.lines()
            .find_map(|l| l.strip_prefix("DEVTYPE=").map(str::to_string))
    });
    let kind = link_kind(&name, arp_type, tun_flags, devtype.as_deref());
    let up = flags & IFF_UP != 0;
    let operstate = read("operstate").unwrap_or_default();
    let note = (up && operstate == "down").then(|| "switched on, but no carrier".to_string());
    Interface {
        name,
        description: None,
        kind,
        up,
        note,
    }
}

/// Decimal or `0x` hexadecimal, as sysfs writes them.
fn parse_number(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The kind of link from the sysfs facts: the tun driver's flags decide tun versus tap,
/// the uevent's DEVTYPE names WireGuard, wireless and bridges, the ARP type the rest.
pub fn link_kind(
    name: &str,
    arp_type: Option<u32>,
    tun_flags: Option<u32>,
    devtype: Option<&str>,
) -> LinkKind {
    match (devtype, tun_flags, arp_type) {
        (Some("wireguard"), _, _) => LinkKind::WireGuard,
        (Some("wlan"), _, _) => LinkKind::Wireless,
        (_, Some(f), _) if f & IFF_TAP != 0 => LinkKind::Tap,
        (_, Some(f), _) if f & IFF_TUN != 0 => LinkKind::Tun,
        (_, _, Some(ARPHRD_LOOPBACK)) => LinkKind::Loopback,
        (_, _, Some(ARPHRD_PPP)) => LinkKind::Ppp,
        // A layer-3 device without a link layer and without tun flags: xfrm and other
        // tunnels of the same shape.
        (_, _, Some(ARPHRD_NONE)) => LinkKind::Tun,
        (_, _, Some(t)) if ARPHRD_IP_TUNNELS.contains(&t) => LinkKind::IpTunnel,
        (Some("bridge" | "vlan" | "bond" | "macvlan" | "vxlan"), _, _) => LinkKind::Virtual,
        (_, _, Some(ARPHRD_ETHER)) => LinkKind::Ethernet,
        _ if name == "lo" => LinkKind::Loopback,
        _ => LinkKind::Other,
    }
}

/// `/proc/net/route` (IPv4, table `main`). Addresses are the kernel's network-order
/// words printed as host-order hex, i.e. byte-reversed on the little-endian machines
/// Linux desktops run on.
pub fn parse_proc_route(text: &str) -> (Vec<RouteEntry>, Vec<String>) {
    let mut routes = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let parsed = (|| {
            if f.len() < 8 {
                return Err(format!("{} fields, expected 11", f.len()));
            }
            let hex = |s: &str| u32::from_str_radix(s, 16).map_err(|_| format!("{s:?} is not hexadecimal"));
            let addr = |s: &str| hex(s).map(|v| Ipv4Addr::from(v.to_le_bytes()));
            let (dest, gateway, flags, metric, mask) =
                (addr(f[1])?, addr(f[2])?, hex(f[3])?, f[6], addr(f[7])?);
            let metric: u32 = metric
                .parse()
                .map_err(|_| format!("metric {metric:?} is not a number"))?;
            Ok((dest, gateway, flags, metric, mask))
        })();
        match parsed {
            Ok((dest, gateway, flags, metric, mask)) => {
                if flags & RTF_UP == 0 {
                    continue;
                }
                let interface = if flags & RTF_REJECT != 0 {
                    "unreachable".to_string()
                } else {
                    f[0].to_string()
                };
                routes.push(RouteEntry {
                    dest: IpAddr::V4(dest),
                    prefix_len: u32::from(mask).count_ones() as u8,
                    gateway: (!gateway.is_unspecified()).then_some(IpAddr::V4(gateway)),
                    interface,
                    metric,
                });
            }
            Err(why) => problems.push(format!("line {}: {why}", i + 1)),
        }
    }
    (routes, problems)
}

/// `/proc/net/ipv6_route`: destination, prefix length, source, source prefix length,
/// next hop, metric, reference count, use count, flags, interface — all hexadecimal.
pub fn parse_ipv6_route(text: &str) -> (Vec<RouteEntry>, Vec<String>) {
    let mut routes = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let parsed = (|| {
            if f.len() < 10 {
                return Err(format!("{} fields, expected 10", f.len()));
            }
            let hex = |s: &str| u32::from_str_radix(s, 16).map_err(|_| format!("{s:?} is not hexadecimal"));
            let addr = |s: &str| {
                u128::from_str_radix(s, 16)
                    .map(Ipv6Addr::from)
                    .map_err(|_| format!("{s:?} is not an IPv6 address"))
            };
            let prefix_len = hex(f[1])?;
            if prefix_len > 128 {
                return Err(format!("prefix length {prefix_len} is over 128"));
            }
            Ok((addr(f[0])?, prefix_len as u8, addr(f[4])?, hex(f[5])?, hex(f[8])?))
        })();
        match parsed {
            Ok((dest, prefix_len, next_hop, metric, flags)) => {
                if flags & RTF_UP == 0 {
                    continue;
                }
                let interface = if flags & RTF_REJECT != 0 {
                    "unreachable".to_string()
                } else {
                    f[9].to_string()
                };
                routes.push(RouteEntry {
                    dest: IpAddr::V6(dest),
                    prefix_len,
                    gateway: (!next_hop.is_unspecified()).then_some(IpAddr::V6(next_hop)),
                    interface,
                    metric,
                });
            }
            Err(why) => problems.push(format!("line {}: {why}", i + 1)),
        }
    }
    (routes, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
        eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
        tun0\t00000000\t0100080A\t0003\t0\t0\t0\t00000080\t0\t0\t0\n\
        eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n\
        *\t0000000A\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0\n";

    #[test]
    fn proc_route_reads_little_endian_words() {
        let (routes, problems) = parse_proc_route(ROUTE);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(routes.len(), 4);
        assert_eq!(routes[0].gateway, Some("192.168.2.1".parse().unwrap()));
        assert_eq!((routes[0].prefix_len, routes[0].metric), (0, 100));
        assert_eq!(
            (routes[1].dest, routes[1].prefix_len),
            ("0.0.0.0".parse().unwrap(), 1)
        );
        assert_eq!(routes[1].gateway, Some("10.8.0.1".parse().unwrap()));
        assert_eq!(
            (routes[2].dest, routes[2].prefix_len, routes[2].gateway),
            ("192.168.2.0".parse().unwrap(), 24, None)
        );
        assert_eq!(
            routes[3].interface, "unreachable",
            "a reject route blocks, it does not leave"
        );
    }

    #[test]
    fn proc_route_names_the_bad_line() {
        let bad = "Iface\tDestination\n eth0\tZZZZ\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\nwg0\t00\n";
        let (routes, problems) = parse_proc_route(bad);
        assert!(routes.is_empty());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("line 2:") && problems[0].contains("\"ZZZZ\""),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("line 3:"), "{problems:?}");
    }

    #[test]
    fn ipv6_route_with_reject_and_gateway() {
        let text = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n\
            20000000000000000000000000000000 04 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 00000001     tun0\n\
            00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
        let (routes, problems) = parse_ipv6_route(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(routes[0].gateway, Some("fd00::1".parse().unwrap()));
        assert_eq!(routes[0].metric, 1024);
        assert_eq!(
            (routes[1].dest, routes[1].prefix_len),
            ("2000::".parse().unwrap(), 4)
        );
        // The kernel's "no route" entry is not marked up: it is no route, not a route.
        assert_eq!(routes.len(), 2);
        let (_, problems) = parse_ipv6_route("xyz 81 a b c d e f g h\n");
        assert!(problems[0].starts_with("line 1:"), "{problems:?}");
    }

    #[test]
    fn only_rules_beyond_the_defaults_count() {
        let plain =
            "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n";
        assert!(policy_rules(plain).is_empty());
        let wg = "0:\tfrom all lookup local\n32764:\tfrom all lookup main suppress_prefixlength 0\n\
                  32765:\tnot from all fwmark 0xca6c lookup 51820\n32766:\tfrom all lookup main\n";
        assert_eq!(
            policy_rules(wg),
            [
                "from all lookup main suppress_prefixlength 0",
                "not from all fwmark 0xca6c lookup 51820"
            ]
        );
    }

    #[test]
    fn route_get_output() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let c = parse_route_get(
            a,
            "192.0.2.1 via 10.0.2.2 dev eth0 src 10.0.2.15 uid 0 \\    cache \n",
        )
        .unwrap();
        assert_eq!(
            (c.interface.as_str(), c.gateway),
            ("eth0", Some("10.0.2.2".parse().unwrap()))
        );
        let c = parse_route_get(
            a,
            "192.0.2.1 dev wg0 table 51820 src 10.7.0.2 uid 0 \\    cache \n",
        )
        .unwrap();
        assert_eq!((c.interface.as_str(), c.gateway), ("wg0", None));
        assert_eq!(parse_route_get(a, "garbage"), None);
    }

    #[test]
    fn link_kinds_from_sysfs_facts() {
        assert_eq!(link_kind("tun0", Some(65534), Some(0x1001), None), LinkKind::Tun);
        assert_eq!(link_kind("tap0", Some(1), Some(0x1002), None), LinkKind::Tap);
        assert_eq!(
            link_kind("wg0", Some(65534), None, Some("wireguard")),
            LinkKind::WireGuard
        );
        assert_eq!(link_kind("ppp0", Some(512), None, None), LinkKind::Ppp);
        assert_eq!(link_kind("gre1", Some(778), None, None), LinkKind::IpTunnel);
        assert_eq!(link_kind("br0", Some(1), None, Some("bridge")), LinkKind::Virtual);
        assert_eq!(link_kind("eth0", Some(1), None, None), LinkKind::Ethernet);
        assert_eq!(
            link_kind("wlan0", Some(1), None, Some("wlan")),
            LinkKind::Wireless
        );
        assert_eq!(link_kind("lo", Some(772), None, None), LinkKind::Loopback);
    }

    #[test]
    fn policy_routing_asks_the_kernel_for_each_address() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("proc/net")).unwrap();
        fs::create_dir_all(dir.path().join("sys/class/net")).unwrap();
        fs::write(dir.path().join("proc/net/route"), ROUTE).unwrap();
        let ip = |args: &[&str]| -> Result<String, String> {
            match args {
                ["rule", "show"] => {
                    Ok("0:\tfrom all lookup local\n32765:\tnot from all fwmark 0xca6c lookup 51820\n".into())
                }
                ["-6", "rule", "show"] => Ok("0:\tfrom all lookup local\n".into()),
                ["-4", "-o", "route", "get", a] => {
                    Ok(format!("{a} dev wg0 table 51820 src 10.7.0.2 uid 0\n"))
                }
                ["-6", "-o", "route", "get", _] => Err("RTNETLINK answers: Network is unreachable".into()),
                other => Err(format!("unexpected {other:?}")),
            }
        };
        let lookups: Vec<IpAddr> = vec!["64.0.0.1".parse().unwrap(), "2600::1".parse().unwrap()];
        let facts = read(dir.path(), Some(&ip), &lookups);
        assert!(facts.route_source.contains("fwmark"), "{}", facts.route_source);
        assert_eq!(facts.route(lookups[0]).unwrap().interface, "wg0");
        assert_eq!(facts.route(lookups[1]).unwrap().interface, "unreachable");
        // Without policy rules the table answers and `ip route get` is never run.
        let plain = |args: &[&str]| -> Result<String, String> {
            match args {
                [.., "rule", "show"] => {
                    Ok("0:\tfrom all lookup local\n32766:\tfrom all lookup main\n".into())
                }
                other => panic!("unexpected ip {other:?}"),
            }
        };
        let facts = read(dir.path(), Some(&plain), &lookups);
        assert_eq!(
            facts.route(lookups[0]).unwrap().interface,
            "tun0",
            "the table's 0/1 route"
        );
        assert_eq!(facts.route_source, "/proc/net/route");
        assert!(facts.asked.is_empty());
    }

    #[test]
    fn a_missing_tree_is_a_problem_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let facts = read(dir.path(), None, &[]);
        assert!(facts.interfaces.is_empty() && facts.routes.is_empty());
        assert_eq!(facts.problems.len(), 2, "{:?}", facts.problems);
        assert!(
            facts.problems[0].contains("sys/class/net"),
            "{:?}",
            facts.problems
        );
        assert!(
            facts.problems[1].contains("proc/net/route"),
            "{:?}",
            facts.problems
        );
    }
}
