//! Network facts of this machine: its interfaces and how it routes an address.
//!
//! The VPN check needs two things from the OS: which interfaces exist (a VPN client shows
//! up as a tun, tap, ppp or WireGuard interface, or as an adapter named after the product)
//! and which interface a packet to a given address would leave by. Each OS tells this in
//! its own way, so each has a small reader (`net_linux`, `net_macos`, `net_windows`) that
//! turns it into the plain values below; everything above them is tested with fixtures.
//!
//! Reading these facts never sends a packet: routes are looked up in the routing table
//! (or asked of the OS with `ip route get`, which consults the table without sending).

use std::net::IpAddr;

/// What kind of link an interface is, as the OS's interface type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Ethernet,
    Wireless,
    Loopback,
    /// A layer-3 tunnel device handed to a user-space program (OpenVPN, AnyConnect, macOS
    /// `utun`, Wintun): the usual shape of a VPN.
    Tun,
    /// A layer-2 tunnel device (OpenVPN in bridge mode, TAP-Windows; also virtual machines).
    Tap,
    /// Point-to-point (PPTP, L2TP, SSTP and Windows dial-up VPN connections).
    Ppp,
    WireGuard,
    /// An IP-in-IP tunnel of the kernel (GRE, IPIP, SIT, IPsec, Windows tunnel adapters).
    IpTunnel,
    /// Another virtual adapter (bridges, Hyper-V, Windows "proprietary virtual").
    Virtual,
    Other,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Ethernet => "ethernet",
            LinkKind::Wireless => "wireless",
            LinkKind::Loopback => "loopback",
            LinkKind::Tun => "tun",
            LinkKind::Tap => "tap",
            LinkKind::Ppp => "ppp",
            LinkKind::WireGuard => "wireguard",
            LinkKind::IpTunnel => "ip tunnel",
            LinkKind::Virtual => "virtual",
            LinkKind::Other => "other",
        }
    }
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The name routes refer to: `tun0`, `utun3`, or the Windows alias (`Ethernet 2`).
    pub name: String,
    /// The adapter's description where the OS keeps one (Windows: "PANGP Virtual Ethernet
    /// Adapter"); VPN products are often recognisable only there.
    pub description: Option<String>,
    pub kind: LinkKind,
    /// Switched on (Linux `IFF_UP`, Windows oper status up, listed as active on macOS).
    pub up: bool,
    /// Extra state worth showing ("no carrier", "VPN server 203.0.113.10").
    pub note: Option<String>,
}

/// One routing table entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// Network address of the destination prefix.
    pub dest: IpAddr,
    pub prefix_len: u8,
    pub gateway: Option<IpAddr>,
    pub interface: String,
    /// Lower wins between routes of equal prefix length.
    pub metric: u32,
}

impl RouteEntry {
    /// Whether `addr` falls inside this route's prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.dest, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => prefix_match(&net.octets(), &a.octets(), self.prefix_len),
            (IpAddr::V6(net), IpAddr::V6(a)) => prefix_match(&net.octets(), &a.octets(), self.prefix_len),
            _ => false,
        }
    }
}

fn prefix_match(net: &[u8], addr: &[u8], len: u8) -> bool {
    let len = usize::from(len).min(net.len() * 8);
    let (whole, rest) = (len / 8, len % 8);
    if net[..whole] != addr[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    net[whole] & mask == addr[whole] & mask
}

/// Which interface carries traffic to one address, and how that was found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Egress {
    pub addr: IpAddr,
    pub interface: String,
    pub gateway: Option<IpAddr>,
    /// Where the answer came from ("routing table", "ip route get", "loopback").
    pub how: &'static str,
}

/// The interfaces and routes of this machine, read once per sweep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetFacts {
    pub interfaces: Vec<Interface>,
    pub routes: Vec<RouteEntry>,
    /// Answers the OS gave for single addresses where the table alone would mislead
    /// (Linux policy routing, as wg-quick and Tailscale set up). They take precedence.
    pub asked: Vec<Egress>,
    /// Where the routes came from, for the detail view ("/proc/net/route").
    pub route_source: String,
    /// What could not be read; shown so that a missing fact is not mistaken for a clean one.
    pub problems: Vec<String>,
}

impl NetFacts {
    /// The interface a packet to `addr` would leave by: what the OS said for it if it was
    /// asked, otherwise the longest matching prefix of the table (lowest metric on a tie).
    /// Loopback addresses never leave the machine, whatever the table holds.
    pub fn route(&self, addr: IpAddr) -> Option<Egress> {
        if addr.is_loopback() {
            return Some(Egress {
                addr,
                interface: "loopback".into(),
                gateway: None,
                how: "loopback",
            });
        }
        if let Some(asked) = self.asked.iter().find(|c| c.addr == addr) {
            return Some(asked.clone());
        }
        longest_match(&self.routes, addr).map(|r| Egress {
            addr,
            interface: r.interface.clone(),
            gateway: r.gateway,
            how: "routing table",
        })
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

/// Longest-prefix match; the first-listed route wins a full tie (tables list the
/// preferred route first).
pub fn longest_match(routes: &[RouteEntry], addr: IpAddr) -> Option<&RouteEntry> {
    let mut best: Option<&RouteEntry> = None;
    for r in routes.iter().filter(|r| r.contains(addr)) {
        best = match best {
            Some(b)
                if (b.prefix_len, std::cmp::Reverse(b.metric))
                    >= (r.prefix_len, std::cmp::Reverse(r.metric)) =>
            {
                Some(b)
            }
            _ => Some(r),
        };
    }
    best
}

/// Reads this machine's interfaces and routes; `lookups` are the addresses the caller
/// will ask [`NetFacts::route`] about (some OS readers need to know them up front).
///
/// Blocking, but cheap: file reads on Linux (plus `ip` when policy routing is in use),
/// two short commands on macOS, two API calls on Windows.
pub fn network_facts(lookups: &[IpAddr]) -> NetFacts {
    #[cfg(target_os = "linux")]
    {
        super::net_linux::read(
            std::path::Path::new("/"),
            Some(&super::net_linux::run_ip),
            lookups,
        )
    }
    #[cfg(target_os = "macos")]
    {
        let _ = lookups;
        super::net_macos::read()
    }
    #[cfg(windows)]
    {
        let _ = lookups;
        super::net_windows::read()
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
    {
        let _ = lookups;
        NetFacts {
            problems: vec![format!(
                "reading interfaces is not supported on {}",
                std::env::consts::OS
            )],
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dest: &str, len: u8, iface: &str, metric: u32) -> RouteEntry {
        RouteEntry {
            dest: dest.parse().unwrap(),
            prefix_len: len,
            gateway: None,
            interface: iface.into(),
            metric,
        }
    }

    #[test]
    fn longest_prefix_wins_then_lowest_metric() {
        let table = vec![
            route("0.0.0.0", 0, "eth0", 100),
            route("0.0.0.0", 1, "tun0", 0),
            route("128.0.0.0", 1, "tun0", 0),
            route("10.1.0.0", 16, "tun0", 0),
            route("10.1.2.0", 24, "eth0", 50),
            route("10.1.2.0", 24, "wg0", 10),
        ];
        let via = |a: &str| longest_match(&table, a.parse().unwrap()).map(|r| r.interface.clone());
        assert_eq!(
            via("192.0.2.1").as_deref(),
            Some("tun0"),
            "128.0.0.0/1 beats the default"
        );
        assert_eq!(via("10.1.9.9").as_deref(), Some("tun0"));
        assert_eq!(
            via("10.1.2.3").as_deref(),
            Some("wg0"),
            "equal prefix: metric 10 beats 50"
        );
        assert_eq!(via("2001:db8::1"), None, "no IPv6 route, no answer");
    }

    #[test]
    fn prefixes_that_do_not_end_on_a_byte() {
        let r = route("172.16.0.0", 12, "x", 0);
        assert!(r.contains("172.31.255.255".parse().unwrap()));
        assert!(!r.contains("172.32.0.0".parse().unwrap()));
        let r6 = route("2001:db8::", 29, "x", 0);
        assert!(r6.contains("2001:dbf::1".parse().unwrap()));
        assert!(!r6.contains("2001:dc0::1".parse().unwrap()));
        assert!(
            !r6.contains("172.16.0.1".parse().unwrap()),
            "families never match"
        );
    }

    #[test]
    fn asked_answers_beat_the_table_and_loopback_stays_home() {
        let facts = NetFacts {
            routes: vec![route("0.0.0.0", 0, "eth0", 0)],
            asked: vec![Egress {
                addr: "192.0.2.1".parse().unwrap(),
                interface: "wg0".into(),
                gateway: None,
                how: "ip route get",
            }],
            ..Default::default()
        };
        assert_eq!(
            facts.route("192.0.2.1".parse().unwrap()).unwrap().interface,
            "wg0"
        );
        assert_eq!(
            facts.route("192.0.2.2".parse().unwrap()).unwrap().interface,
            "eth0"
        );
        assert_eq!(
            facts.route("127.77.0.3".parse().unwrap()).unwrap().how,
            "loopback"
        );
        assert_eq!(facts.route("::1".parse().unwrap()).unwrap().interface, "loopback");
    }
}
