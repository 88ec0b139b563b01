//! Windows: adapters from `GetAdaptersAddresses`, routes from `GetIpForwardTable2`.
//!
//! The two Win32 calls are the only `unsafe` code of the crate and live in [`api`], which
//! copies what it needs into plain values at once; turning those values into
//! [`NetFacts`] is ordinary code, tested on every OS.
//!
//! Windows picks a route by prefix length, then by the sum of the route's metric and its
//! interface's metric, so that sum is the metric given to the shared longest-match lookup.
//! Interfaces are named by their alias ("Ethernet 2"), as `Get-NetRoute` and the network
//! settings show them; the adapter description ("PANGP Virtual Ethernet Adapter") is kept
//! because that is where VPN products are recognisable.

use std::net::IpAddr;

use super::net::{Interface, LinkKind, NetFacts, RouteEntry};

/// What `GetAdaptersAddresses` says about one adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WinAdapter {
    pub index_v4: u32,
    pub index_v6: u32,
    pub alias: String,
    pub description: String,
    /// IANA ifType (6 Ethernet, 23 PPP, 24 loopback, 53 proprietary virtual, 71 Wi-Fi,
    /// 131 tunnel).
    pub if_type: u32,
    pub up: bool,
    pub metric_v4: u32,
    pub metric_v6: u32,
}

/// One row of `GetIpForwardTable2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WinRoute {
    pub if_index: u32,
    pub dest: IpAddr,
    pub prefix_len: u8,
    pub next_hop: Option<IpAddr>,
    pub metric: u32,
}

/// The kind of link from the IANA ifType Windows reports.
pub fn link_kind(if_type: u32) -> LinkKind {
    match if_type {
        6 => LinkKind::Ethernet,
        23 => LinkKind::Ppp,
        24 => LinkKind::Loopback,
        53 => LinkKind::Virtual,
        71 => LinkKind::Wireless,
        131 => LinkKind::IpTunnel,
        _ => LinkKind::Other,
    }
}

/// Combines adapters and routes into facts.
pub fn facts_from(adapters: &[WinAdapter], routes: &[WinRoute]) -> NetFacts {
    let interfaces = adapters
        .iter()
        .map(|a| Interface {
            name: a.alias.clone(),
            description: (!a.description.is_empty()).then(|| a.description.clone()),
            kind: link_kind(a.if_type),
            up: a.up,
            note: None,
        })
        .collect();
    let routes = routes
        .iter()
        .map(|r| {
            let adapter = adapters
                .iter()
                .find(|a| if r.dest.is_ipv4() { a.index_v4 } else { a.index_v6 } == r.if_index);
            let if_metric = adapter
                .map(|a| {
                    if r.dest.is_ipv4() {
                        a.metric_v4
                    } else {
                        a.metric_v6
                    }
                })
                .unwrap_or(0);
            RouteEntry {
                dest: r.dest,
                prefix_len: r.prefix_len,
                gateway: r.next_hop.filter(|g| !g.is_unspecified()),
                interface: adapter
                    .map(|a| a.alias.clone())
                    .unwrap_or_else(|| format!("interface #{}", r.if_index)),
                metric: r.metric.saturating_add(if_metric),
            }
        })
        .collect();
    NetFacts {
        interfaces,
        routes,
        asked: Vec::new(),
        route_source: "GetIpForwardTable2 (route + interface metric)".into(),
        problems: Vec::new(),
    }
}

/// Reads adapters and routes of this machine.
#[cfg(windows)]
pub fn read() -> NetFacts {
    let mut problems = Vec::new();
    let adapters = api::adapters().unwrap_or_else(|e| {
        problems.push(e);
        Vec::new()
    });
    let routes = api::routes().unwrap_or_else(|e| {
        problems.push(e);
        Vec::new()
    });
    let mut facts = facts_from(&adapters, &routes);
    facts.problems = problems;
    facts
}

/// The Win32 calls. The crate denies `unsafe` everywhere else.
#[cfg(windows)]
#[allow(unsafe_code)]
mod api {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use windows_sys::Win32::Foundation::{ERROR_BUFFER_OVERFLOW, ERROR_NO_DATA, ERROR_SUCCESS, NO_ERROR};
    use windows_sys::Win32::NetworkManagement::IpHelper::{
        FreeMibTable, GetAdaptersAddresses, GetIpForwardTable2, GAA_FLAG_SKIP_ANYCAST,
        GAA_FLAG_SKIP_DNS_SERVER, GAA_FLAG_SKIP_MULTICAST, GAA_FLAG_SKIP_UNICAST, IP_ADAPTER_ADDRESSES_LH,
        MIB_IPFORWARD_TABLE2,
    };
    use windows_sys::Win32::NetworkManagement::Ndis::IfOperStatusUp;
    use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6, AF_UNSPEC, SOCKADDR_INET};

    use super::{WinAdapter, WinRoute};

    pub fn adapters() -> Result<Vec<WinAdapter>, String> {
        let flags = GAA_FLAG_SKIP_UNICAST
            | GAA_FLAG_SKIP_ANYCAST
            | GAA_FLAG_SKIP_MULTICAST
            | GAA_FLAG_SKIP_DNS_SERVER;
        // Microsoft suggests starting at 15 KB; the call says how much it needs if more.
        let mut size: u32 = 15 * 1024;
        for _ in 0..4 {
            // u64 cells keep the buffer aligned for the structures written into it.
            let mut buf: Vec<u64> = vec![0; (size as usize).div_ceil(8)];
            let first = buf.as_mut_ptr().cast::<IP_ADAPTER_ADDRESSES_LH>();
            // SAFETY: `buf` is writable for at least `size` bytes and suitably aligned; the
            // call writes no more than `size` bytes, or sets `size` and writes nothing.
            let rc = unsafe {
                GetAdaptersAddresses(u32::from(AF_UNSPEC), flags, std::ptr::null(), first, &mut size)
            };
            match rc {
                ERROR_BUFFER_OVERFLOW => continue,
                ERROR_NO_DATA => return Ok(Vec::new()),
                ERROR_SUCCESS => {}
                other => return Err(format!("GetAdaptersAddresses failed (error {other})")),
            }
            let mut out = Vec::new();
            let mut p = first.cast_const();
            while !p.is_null() {
                // SAFETY: `p` is the head or a `Next` link of the list the call built inside
                // `buf`, which lives until the end of this function.
                let a = unsafe { &*p };
                // SAFETY: both union views are plain integers; `IfIndex` is the documented
                // field for Windows Vista and later.
                let index_v4 = unsafe { a.Anonymous1.Anonymous.IfIndex };
                out.push(WinAdapter {
                    index_v4,
                    index_v6: a.Ipv6IfIndex,
                    // SAFETY: the call sets both to NUL-terminated strings inside `buf` (or null).
                    alias: unsafe { wide(a.FriendlyName) },
                    description: unsafe { wide(a.Description) },
                    if_type: a.IfType,
                    up: a.OperStatus == IfOperStatusUp,
                    metric_v4: a.Ipv4Metric,
                    metric_v6: a.Ipv6Metric,
                });
                p = a.Next.cast_const();
            }
            return Ok(out);
        }
        Err("GetAdaptersAddresses kept asking for a larger buffer".into())
    }

    /// Copies a NUL-terminated UTF-16 string.
    ///
    /// # Safety
    /// `p` must be null or point to a readable NUL-terminated UTF-16 string.
    unsafe fn wide(p: *const u16) -> String {
        if p.is_null() {
            return String::new();
        }
        let mut len = 0;
        // SAFETY: guaranteed by the caller: readable up to and including the NUL.
        unsafe {
            while *p.add(len) != 0 {
                len += 1;
            }
            String::from_utf16_lossy(std::slice::from_raw_parts(p, len))
        }
    }

    /// Frees the table however the function is left.
    struct Table(*mut MIB_IPFORWARD_TABLE2);

    impl Drop for Table {
        fn drop(&mut self) {
            if !self.0.is_null() {
                // SAFETY: the pointer came from GetIpForwardTable2 and is freed once.
                unsafe { FreeMibTable(self.0.cast_const().cast()) };
            }
        }
    }

    pub fn routes() -> Result<Vec<WinRoute>, String> {
        let mut raw: *mut MIB_IPFORWARD_TABLE2 = std::ptr::null_mut();
        // SAFETY: `raw` is a valid out-pointer; on success it owns a table we free.
        let rc = unsafe { GetIpForwardTable2(AF_UNSPEC, &mut raw) };
        let table = Table(raw);
        if rc != NO_ERROR || table.0.is_null() {
            return Err(format!("GetIpForwardTable2 failed (error {rc})"));
        }
        // SAFETY: the table holds `NumEntries` rows laid out from `Table[0]`.
        let rows = unsafe {
            let t = &*table.0;
            std::slice::from_raw_parts(t.Table.as_ptr(), t.NumEntries as usize)
        };
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(WinRoute {
                    if_index: row.InterfaceIndex,
                    dest: ip(&row.DestinationPrefix.Prefix)?,
                    prefix_len: row.DestinationPrefix.PrefixLength,
                    next_hop: ip(&row.NextHop),
                    metric: row.Metric,
                })
            })
            .collect())
    }

    fn ip(s: &SOCKADDR_INET) -> Option<IpAddr> {
        // SAFETY: every view of the union starts with the family, which says which view
        // the rest is; the address fields are plain bytes.
        unsafe {
            match s.si_family {
                AF_INET => Some(IpAddr::V4(Ipv4Addr::from(
                    s.Ipv4.sin_addr.S_un.S_addr.to_ne_bytes(),
                ))),
                AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(s.Ipv6.sin6_addr.u.Byte))),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(index: u32, alias: &str, description: &str, if_type: u32, metric: u32) -> WinAdapter {
        WinAdapter {
            index_v4: index,
            index_v6: index,
            alias: alias.into(),
            description: description.into(),
            if_type,
            up: true,
            metric_v4: metric,
            metric_v6: metric,
        }
    }

    fn route(index: u32, dest: &str, len: u8, metric: u32) -> WinRoute {
        WinRoute {
            if_index: index,
            dest: dest.parse().unwrap(),
            prefix_len: len,
            next_hop: None,
            metric,
        }
    }

    #[test]
    fn interface_metric_decides_between_two_defaults() {
        let adapters = [
            adapter(4, "Ethernet", "Intel(R) Ethernet Connection", 6, 25),
            adapter(17, "Ethernet 3", "PANGP Virtual Ethernet Adapter", 6, 1),
        ];
        // The VPN's route metric is higher, but its interface metric makes the sum lower.
        let routes = [
            route(4, "0.0.0.0", 0, 0),
            route(17, "0.0.0.0", 0, 10),
            route(4, "192.168.1.0", 24, 256),
        ];
        let facts = facts_from(&adapters, &routes);
        assert_eq!(
            facts.route("64.0.0.1".parse().unwrap()).unwrap().interface,
            "Ethernet 3"
        );
        assert_eq!(
            facts.route("192.168.1.20".parse().unwrap()).unwrap().interface,
            "Ethernet"
        );
        assert_eq!(
            facts.interface("Ethernet 3").unwrap().description.as_deref(),
            Some("PANGP Virtual Ethernet Adapter")
        );
    }

    #[test]
    fn unknown_interface_index_is_still_shown() {
        let facts = facts_from(&[], &[route(99, "0.0.0.0", 0, 0)]);
        assert_eq!(facts.routes[0].interface, "interface #99");
    }

    #[test]
    fn kinds_from_iana_types() {
        assert_eq!(link_kind(23), LinkKind::Ppp);
        assert_eq!(link_kind(131), LinkKind::IpTunnel);
        assert_eq!(link_kind(53), LinkKind::Virtual);
        assert_eq!(link_kind(71), LinkKind::Wireless);
        assert_eq!(link_kind(1), LinkKind::Other);
    }
}
