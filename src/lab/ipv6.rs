//! `lab serve --ipv6`: an IPv6 address for every endpoint, next to its IPv4 one.
//!
//! Where the lab has the rights — root in a network namespace of its own, where adding
//! addresses touches nobody else — every host gets its own address from the private
//! prefix [`PREFIX`] on the loopback interface, so a packet filter rule can block one
//! endpoint's IPv6 path and nothing else. Elsewhere every host shares `::1`, each on a
//! port of its own. Addresses already there (a lab started before in the same namespace)
//! are used as they are.

use std::net::{IpAddr, Ipv6Addr};
use std::process::{Command, Stdio};

/// The lab's private prefix (`fd00::/8`, unique local): `fd00:6d36::/64`.
pub const PREFIX: [u16; 4] = [0xfd00, 0x6d36, 0, 0];

/// `fd00:6d36::/64`, for messages.
pub fn prefix_text() -> String {
    let base = Ipv6Addr::new(PREFIX[0], PREFIX[1], PREFIX[2], PREFIX[3], 0, 0, 0, 0);
    format!("{base}/64")
}

/// How the lab's IPv6 addresses are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One address per host from [`PREFIX`].
    Prefix,
    /// Every host on `::1`.
    Loopback,
}

/// The `index`-th host's address in `layout`.
pub fn address(layout: Layout, index: usize) -> IpAddr {
    match layout {
        Layout::Loopback => IpAddr::V6(Ipv6Addr::LOCALHOST),
        Layout::Prefix => {
            let n = u16::try_from(index + 1).unwrap_or(u16::MAX);
            IpAddr::V6(Ipv6Addr::new(
                PREFIX[0], PREFIX[1], PREFIX[2], PREFIX[3], 0, 0, 0, n,
            ))
        }
    }
}

/// Chooses the layout for `hosts` hosts, adding the prefix addresses to `lo` when the lab
/// may (Linux, root, not the machine's own network namespace).
pub fn prepare(hosts: usize) -> Layout {
    if !cfg!(target_os = "linux") || !may_configure() {
        return Layout::Loopback;
    }
    let mut script = String::new();
    for i in 0..hosts {
        script.push_str(&format!(
            "address add {}/128 dev lo nodad\n",
            address(Layout::Prefix, i)
        ));
    }
    // `-force`: go on past addresses that are already there.
    let added = Command::new("ip")
        .args(["-6", "-force", "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(script.as_bytes())?;
            }
            child.wait()
        });
    let _ = Command::new("ip").args(["link", "set", "lo", "up"]).status();
    match added {
        Ok(_) if bindable(address(Layout::Prefix, hosts.saturating_sub(1))) => Layout::Prefix,
        _ => Layout::Loopback,
    }
}

/// Root, in a network namespace other than the machine's: one PID 1 is not in (when
/// that can be read), or a named one (`ip netns identify` names it; inside containers
/// PID 1's namespace often cannot be read).
fn may_configure() -> bool {
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    });
    if !root {
        return false;
    }
    let own = std::fs::read_link("/proc/self/ns/net").ok();
    let machine = std::fs::read_link("/proc/1/ns/net").ok();
    if let (Some(own), Some(machine)) = (&own, &machine) {
        return own != machine;
    }
    Command::new("ip")
        .args(["netns", "identify"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty())
}

/// Whether a socket can be bound to `ip` (the address is configured here).
pub fn bindable(ip: IpAddr) -> bool {
    std::net::TcpListener::bind((ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_addresses_are_distinct_and_private() {
        let a = address(Layout::Prefix, 0);
        let b = address(Layout::Prefix, 1);
        assert_ne!(a, b);
        assert_eq!(a.to_string(), "fd00:6d36::1");
        assert_eq!(address(Layout::Loopback, 7), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(prefix_text(), "fd00:6d36::/64");
    }
}
