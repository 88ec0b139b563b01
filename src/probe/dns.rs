//! The `dns` stage: resolve the endpoint's host name with hickory-resolver.
//!
//! The resolver is either the machine's own configuration or a given server (the lab's,
//! or `--dns-server`). Caching is off: a monitor must see a DNS change on the next sweep,
//! not after a TTL.
//!
//! A and AAAA are asked separately, because the two families are probed separately (a
//! name whose IPv6 path is broken stalls Windows clients while IPv4 works). Each
//! configured server gets a resolver of its own and they are asked side by side, so the
//! result can say which server answered; the CNAME records of the answer are kept, so it
//! can show the chain from the Microsoft name to its front door.
//!
//! The stage ends within its cap: one deadline for the whole lookup, whatever hickory's
//! own timeouts and retries do underneath.

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::time::Instant;

use super::StageFailure;
use crate::model::{Cause, DnsInfo, IpFamily, IpFamilyChoice, StageName};

/// Which DNS server answers the probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsChoice {
    /// The machine's resolver configuration (`/etc/resolv.conf`, the Windows registry).
    System,
    /// One given server (UDP, falling back to TCP for truncated answers).
    Server(SocketAddr),
}

/// One configured server and a resolver that asks only it.
struct Server {
    addr: SocketAddr,
    resolver: TokioResolver,
}

/// A resolver for one sweep.
pub struct Dns {
    servers: Vec<Server>,
}

/// The addresses of a name, per family, and how they were found.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub info: DnsInfo,
    pub ipv4: Vec<IpAddr>,
    pub ipv6: Vec<IpAddr>,
}

impl Resolved {
    /// IPv4 addresses first, then IPv6.
    pub fn all(&self) -> Vec<IpAddr> {
        self.ipv4.iter().chain(&self.ipv6).copied().collect()
    }

    /// `info` with the addresses filled in.
    fn finish(mut self) -> Self {
        self.ipv4.dedup();
        self.ipv6.dedup();
        self.info.ipv4 = self.ipv4.iter().map(IpAddr::to_string).collect();
        self.info.ipv6 = self.ipv6.iter().map(IpAddr::to_string).collect();
        self
    }
}

/// The server of a name-server configuration, with its (first) port.
fn server_addr(ns: &NameServerConfig) -> SocketAddr {
    let port = ns.connections.first().map_or(53, |c| c.port);
    SocketAddr::new(ns.ip, port)
}

impl Dns {
    /// Builds a resolver; fails only when the system configuration cannot be read.
    pub fn new(choice: &DnsChoice, timeout: Duration) -> Result<Self, String> {
        let (config, mut opts) = match choice {
            DnsChoice::System => hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?,
            DnsChoice::Server(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                let mut opts = ResolverOpts::default();
                opts.use_hosts_file = ResolveHosts::Never;
                (ResolverConfig::from_parts(None, Vec::new(), vec![ns]), opts)
            }
        };
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 0;
        opts.preserve_intermediates = true;
        let mut servers: Vec<Server> = Vec::new();
        for ns in config.name_servers() {
            let addr = server_addr(ns);
            if servers.iter().any(|s| s.addr == addr) {
                continue; // the same server over UDP and TCP
            }
            let one = ResolverConfig::from_parts(
                config.domain().cloned(),
                config.search().to_vec(),
                vec![ns.clone()],
            );
            let mut b = TokioResolver::builder_with_config(one, TokioRuntimeProvider::default());
            *b.options_mut() = opts.clone();
            let resolver = b
                .build()
                .map_err(|e| format!("cannot build the DNS resolver: {e}"))?;
            servers.push(Server { addr, resolver });
        }
        if servers.is_empty() {
            return Err("no DNS server is configured on this machine".into());
        }
        Ok(Self { servers })
    }

    /// The servers asked, in configuration order (`127.0.0.1:53`).
    pub fn servers(&self) -> Vec<SocketAddr> {
        self.servers.iter().map(|s| s.addr).collect()
    }

    /// Resolves `host` to its addresses, IPv4 first.
    pub async fn resolve(&self, host: &str, timeout: Duration) -> Result<Vec<IpAddr>, StageFailure> {
        self.resolve_families(host, IpFamilyChoice::Both, timeout)
            .await
            .map(|r| r.all())
    }

    /// Resolves `host`'s A and AAAA records (those `families` asks for) within `timeout`
    /// overall, asking every configured server at once: the first that gives an answer
    /// (addresses, or a definite "no such name") is the one named as having answered.
    pub async fn resolve_families(
        &self,
        host: &str,
        families: IpFamilyChoice,
        timeout: Duration,
    ) -> Result<Resolved, StageFailure> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            let mut r = Resolved {
                info: DnsInfo {
                    resolver: "none (an address, not a name)".into(),
                    ..Default::default()
                },
                ..Default::default()
            };
            match ip {
                IpAddr::V4(_) => r.ipv4.push(ip),
                IpAddr::V6(_) => r.ipv6.push(ip),
            }
            return Ok(r.finish());
        }
        let deadline = Instant::now() + timeout;
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        let mut asks = tokio::task::JoinSet::new();
        for (i, server) in self.servers.iter().enumerate() {
            let resolver = server.resolver.clone();
            let fqdn = fqdn.clone();
            asks.spawn(async move { (i, ask(&resolver, &fqdn, families, timeout).await) });
        }
        let mut failures: Vec<(usize, StageFailure)> = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, asks.join_next()).await {
                // The cap: the stage ends here whatever is still in flight.
                Err(_) => return Err(timed_out(timeout)),
                Ok(None) => break,
                Ok(Some(Err(_))) => continue,
                Ok(Some(Ok((i, Ok(mut r))))) => {
                    r.info.resolver = self.servers[i].addr.to_string();
                    if r.info.cname_chain.len() <= 1 {
                        r.info.cname_chain.clear();
                    }
                    return Ok(r);
                }
                Ok(Some(Ok((i, Err(f))))) => {
                    // A definite negative answer is an answer; a failure waits for the others.
                    if f.cause == Cause::DnsNxdomain {
                        return Err(named(f, self.servers[i].addr));
                    }
                    failures.push((i, f));
                }
            }
        }
        failures.sort_by_key(|(i, _)| *i);
        match failures.into_iter().next() {
            Some((i, f)) => Err(named(f, self.servers[i].addr)),
            None => Err(timed_out(timeout)),
        }
    }
}

/// `f` with the server that gave it named in its raw text.
fn named(mut f: StageFailure, server: SocketAddr) -> StageFailure {
    f.raw = format!("{} (resolver {server})", f.raw);
    f
}

/// One server's A and AAAA answers for `fqdn`, asked side by side.
async fn ask(
    resolver: &TokioResolver,
    fqdn: &str,
    families: IpFamilyChoice,
    timeout: Duration,
) -> Result<Resolved, StageFailure> {
    let want4 = families.includes(IpFamily::Ipv4);
    let want6 = families.includes(IpFamily::Ipv6);
    // Each record type gets a little less than the cap (hickory's own timeout can run
    // past it: UDP, then TCP), so that one family's silence ends in time for the other
    // family's answer to be used; the cap itself is the deadline of `resolve_families`.
    let inner = timeout.mul_f64(0.9);
    let lookup = |qtype: RecordType, wanted: bool| async move {
        if !wanted {
            return None;
        }
        Some(
            match tokio::time::timeout(inner, resolver.lookup(fqdn, qtype)).await {
                Ok(result) => result.map_err(|e| classify(&e, timeout)),
                Err(_) => Err(timed_out(timeout)),
            },
        )
    };
    let (a, aaaa) = tokio::join!(lookup(RecordType::A, want4), lookup(RecordType::AAAA, want6));
    let mut r = Resolved {
        info: DnsInfo {
            cname_chain: vec![fqdn.trim_end_matches('.').to_ascii_lowercase()],
            ..Default::default()
        },
        ..Default::default()
    };
    let mut errors = Vec::new();
    for (qtype, lookup) in [("A", a), ("AAAA", aaaa)] {
        let Some(lookup) = lookup else { continue };
        match lookup {
            Ok(found) => {
                for record in found.answers() {
                    match &record.data {
                        RData::A(a) => r.ipv4.push(IpAddr::V4(a.0)),
                        RData::AAAA(a) => r.ipv6.push(IpAddr::V6(a.0)),
                        _ => {}
                    }
                }
                extend_chain(&mut r.info.cname_chain, found.answers());
            }
            Err(f) => {
                if f.cause != Cause::DnsNxdomain {
                    r.info.notes.push(format!("{qtype}: {}", f.detail));
                }
                errors.push(f);
            }
        }
    }
    if !r.ipv4.is_empty() || !r.ipv6.is_empty() {
        return Ok(r.finish());
    }
    // No address in either family: the most telling error (a timeout or SERVFAIL over a
    // NODATA of the other family), else NODATA.
    errors.sort_by_key(|f| match f.cause {
        Cause::DnsTimeout | Cause::DnsServfail => 0,
        _ => 1,
    });
    Err(errors.into_iter().next().unwrap_or_else(|| {
        StageFailure::new(StageName::Dns, Cause::DnsNxdomain, "no address records (NODATA)")
    }))
}

/// Follows the CNAME records of an answer from the last name of `chain`.
fn extend_chain(chain: &mut Vec<String>, answers: &[hickory_resolver::proto::rr::Record]) {
    for _ in 0..16 {
        let Some(current) = chain.last().cloned() else {
            return;
        };
        let next = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(t)
                if r.name
                    .to_ascii()
                    .trim_end_matches('.')
                    .eq_ignore_ascii_case(&current) =>
            {
                Some(t.0.to_ascii().trim_end_matches('.').to_ascii_lowercase())
            }
            _ => None,
        });
        match next {
            Some(n) if !chain.contains(&n) => chain.push(n),
            _ => return,
        }
    }
}

impl Dns {
    /// The CNAME target of `name` (lower case, no trailing dot); `None` when the name has
    /// no CNAME or does not exist. For record checks such as the tenant's `msoid` name.
    pub async fn cname(&self, name: &str, timeout: Duration) -> Result<Option<String>, StageFailure> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let lookup = self.servers[0].resolver.lookup(fqdn.as_str(), RecordType::CNAME);
        match tokio::time::timeout(timeout, lookup).await {
            Err(_) => Err(timed_out(timeout)),
            Ok(Ok(found)) => Ok(found.answers().iter().find_map(|r| match &r.data {
                RData::CNAME(target) => Some(target.0.to_ascii().trim_end_matches('.').to_ascii_lowercase()),
                _ => None,
            })),
            Ok(Err(e)) => match classify(&e, timeout) {
                f if f.cause == Cause::DnsNxdomain => Ok(None),
                f => Err(f),
            },
        }
    }
}

fn timed_out(timeout: Duration) -> StageFailure {
    StageFailure::new(
        StageName::Dns,
        Cause::DnsTimeout,
        format!(
            "no answer from the DNS server within {:.1} s",
            timeout.as_secs_f64()
        ),
    )
}

/// Turns a resolver error into a cause a technician recognises.
fn classify(e: &NetError, timeout: Duration) -> StageFailure {
    match e {
        NetError::Timeout => timed_out(timeout),
        NetError::Dns(DnsError::NoRecordsFound(nr)) if nr.response_code == ResponseCode::NXDomain => {
            StageFailure::new(
                StageName::Dns,
                Cause::DnsNxdomain,
                "NXDOMAIN (the name does not exist)",
            )
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => {
            StageFailure::new(StageName::Dns, Cause::DnsNxdomain, "no address records (NODATA)")
        }
        NetError::Dns(DnsError::ResponseCode(code)) => match code {
            ResponseCode::ServFail => StageFailure::new(
                StageName::Dns,
                Cause::DnsServfail,
                "SERVFAIL (the DNS server failed to answer)",
            ),
            ResponseCode::Refused => StageFailure::new(
                StageName::Dns,
                Cause::DnsServfail,
                "REFUSED (the DNS server refused the query)",
            ),
            other => StageFailure::new(
                StageName::Dns,
                Cause::DnsServfail,
                format!("DNS error response {other}"),
            ),
        },
        NetError::NoConnections => StageFailure::new(
            StageName::Dns,
            Cause::DnsTimeout,
            "no DNS server could be reached",
        ),
        other => {
            let text = other.to_string();
            if text.contains("timed out") || text.contains("timeout") {
                timed_out(timeout)
            } else {
                StageFailure::new(
                    StageName::Dns,
                    Cause::DnsServfail,
                    format!("DNS lookup failed: {text}"),
                )
            }
        }
    }
}
