//! The `dns` stage: resolve the endpoint's host name with hickory-resolver.
//!
//! The resolver is either the machine's own configuration or a given server (the lab's,
//! or `--dns-server`). Caching is off: a monitor must see a DNS change on the next sweep,
//! not after a TTL.

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::TokioResolver;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::StageFailure;
use crate::model::{Cause, StageName};

/// Which DNS server answers the probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsChoice {
    /// The machine's resolver configuration (`/etc/resolv.conf`, the Windows registry).
    System,
    /// One given server (UDP, falling back to TCP for truncated answers).
    Server(SocketAddr),
}

/// A resolver for one sweep.
pub struct Dns {
    resolver: TokioResolver,
}

impl Dns {
    /// Builds a resolver; fails only when the system configuration cannot be read.
    pub fn new(choice: &DnsChoice, timeout: Duration) -> Result<Self, String> {
        let mut builder = match choice {
            DnsChoice::System => TokioResolver::builder_tokio()
                .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?,
            DnsChoice::Server(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                let config = ResolverConfig::from_parts(None, Vec::new(), vec![ns]);
                let mut b = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
                b.options_mut().use_hosts_file = ResolveHosts::Never;
                b
            }
        };
        let opts = builder.options_mut();
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 0;
        let resolver = builder
            .build()
            .map_err(|e| format!("cannot build the DNS resolver: {e}"))?;
        Ok(Self { resolver })
    }

    /// Resolves `host` to its addresses, IPv4 first.
    pub async fn resolve(&self, host: &str, timeout: Duration) -> Result<Vec<IpAddr>, StageFailure> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        // The resolver has its own timeout; this outer one guards against a stuck pool.
        let lookup = match tokio::time::timeout(
            timeout + Duration::from_millis(250),
            self.resolver.lookup_ip(host),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => return Err(timed_out(timeout)),
        };
        match lookup {
            Ok(ips) => {
                let mut v: Vec<IpAddr> = ips.iter().collect();
                v.sort_by_key(|ip| ip.is_ipv6());
                if v.is_empty() {
                    Err(StageFailure::new(
                        StageName::Dns,
                        Cause::DnsNxdomain,
                        "no address records (NODATA)",
                    ))
                } else {
                    Ok(v)
                }
            }
            Err(e) => Err(classify(&e, timeout)),
        }
    }
}

impl Dns {
    /// The CNAME target of `name` (lower case, no trailing dot); `None` when the name has
    /// no CNAME or does not exist. For record checks such as the tenant's `msoid` name.
    pub async fn cname(&self, name: &str, timeout: Duration) -> Result<Option<String>, StageFailure> {
        use hickory_resolver::proto::rr::{RData, RecordType};
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let lookup = self.resolver.lookup(fqdn.as_str(), RecordType::CNAME);
        match tokio::time::timeout(timeout + Duration::from_millis(250), lookup).await {
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
