//! Which way traffic to an address leaves this machine, and whether that way is a VPN.
//!
//! VPN interfaces are recognised by their type (tun, tap, ppp, WireGuard) and by the
//! names and descriptions VPN clients give their adapters. Paths are looked up in the
//! routing state the platform layer reads (no packet is sent), for the addresses of a
//! sweep and for a few sample Internet addresses ([`INTERNET_SAMPLES`]) that no LAN or
//! VPN normally routes on their own, which tell a full tunnel from a split one. The
//! `network:vpn` check judges what this finds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::platform::net::{self, Interface, LinkKind, NetFacts};

/// Addresses standing for "anywhere on the Internet": ordinary unicast space from both
/// halves of IPv4 (so OpenVPN's `0/1` + `128/1` routes count) and from the global IPv6
/// range, outside the documentation and private ranges that labs and LANs use.
pub const INTERNET_SAMPLES: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(64, 0, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(160, 0, 0, 1)),
    IpAddr::V6(Ipv6Addr::new(0x2600, 0, 0, 0, 0, 0, 0, 1)),
    IpAddr::V6(Ipv6Addr::new(0x2a00, 0, 0, 0, 0, 0, 0, 1)),
];

/// Words in interface names or adapter descriptions, lower case, and the product they
/// give away. Checked in order (products before the drivers they share); the first match
/// names the product.
const PRODUCTS: &[(&str, &str)] = &[
    ("anyconnect", "Cisco AnyConnect"),
    ("cisco secure client", "Cisco Secure Client"),
    ("cscotun", "Cisco AnyConnect"),
    ("globalprotect", "GlobalProtect"),
    ("pangp", "GlobalProtect"),
    ("nordlynx", "NordLynx (NordVPN)"),
    ("fortinet", "FortiClient"),
    ("forticlient", "FortiClient"),
    ("pulse secure", "Pulse Secure"),
    ("ivanti", "Ivanti Secure Access"),
    ("juniper", "Juniper"),
    ("zscaler", "Zscaler"),
    ("zcctun", "Zscaler"),
    ("check point", "Check Point"),
    ("sonicwall", "SonicWall"),
    ("sophos", "Sophos"),
    ("f5 networks vpn", "F5 BIG-IP Edge"),
    ("netskope", "Netskope"),
    ("cloudflare warp", "Cloudflare WARP"),
    ("cloudflarewarp", "Cloudflare WARP"),
    ("tailscale", "Tailscale"),
    ("zerotier", "ZeroTier"),
    // Drivers that several products share: only when no product name matched.
    ("openvpn", "OpenVPN"),
    ("ovpn-dco", "OpenVPN"),
    ("wireguard", "WireGuard"),
    ("wintun", "Wintun (WireGuard, Tailscale or OpenVPN)"),
    ("tap-windows", "OpenVPN (TAP-Windows)"),
    ("tap0901", "OpenVPN (TAP-Windows)"),
];

/// Adapters of the type "tunnel" that are IPv6 transition mechanisms, not VPNs.
const NOT_VPN: &[&str] = &["teredo", "isatap", "6to4", "ip-https"];

/// Names the VPN an interface belongs to, or `None` when it is not a VPN.
///
/// Tap and kernel tunnel devices also serve virtual machines and IPv6 transition, so
/// without a product name they count only when some route leads into them.
pub fn vpn_label(iface: &Interface, facts: &NetFacts) -> Option<String> {
    let text = format!("{} {}", iface.name, iface.description.as_deref().unwrap_or("")).to_lowercase();
    if NOT_VPN.iter().any(|w| text.contains(w)) || iface.kind == LinkKind::Loopback {
        return None;
    }
    if let Some((_, product)) = PRODUCTS.iter().find(|(word, _)| text.contains(word)) {
        return Some((*product).to_string());
    }
    // GlobalProtect on Linux and macOS names its device gpd0.
    if iface.name.starts_with("gpd")
        && iface.name[3..].chars().all(|c| c.is_ascii_digit())
        && iface.name.len() > 3
    {
        return Some("GlobalProtect".into());
    }
    let routed = facts.routes.iter().any(|r| r.interface == iface.name);
    match iface.kind {
        LinkKind::Tun | LinkKind::Ppp | LinkKind::WireGuard => {
            Some(format!("{} device", iface.kind.as_str()))
        }
        LinkKind::Tap | LinkKind::IpTunnel if routed => Some(format!("{} device", iface.kind.as_str())),
        _ => None,
    }
}

/// Reads this machine's interfaces and the path to each of `addresses` and to the
/// [`INTERNET_SAMPLES`].
pub fn read_paths(addresses: &[IpAddr]) -> NetFacts {
    let mut lookups: Vec<IpAddr> = INTERNET_SAMPLES.to_vec();
    lookups.extend_from_slice(addresses);
    lookups.sort_unstable();
    lookups.dedup();
    net::network_facts(&lookups)
}
