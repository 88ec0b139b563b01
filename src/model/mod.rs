//! The vocabulary shared by the engine and every consumer (TUI, `check`, reports,
//! exporters): statuses, probe stages, check results and failure causes, and the
//! [`error::InputError`] that bad input turns into.
//!
//! Nothing here knows about terminals or sockets; these are plain values that serialize
//! to the documented JSON report (`m365mon.report/1`). Every other room may use it; it
//! uses none of them.

pub mod error;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The light a check shows. Ordered from least to most severe, so `max` gives the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Does not apply here (another OS, nothing to check); never counts as a pass.
    Skip,
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Skip => "skip",
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// Exit code in the monitoring-plugin convention (0 ok, 1 warning, 2 critical).
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Skip | Status::Pass => 0,
            Status::Warn => 1,
            Status::Fail => 2,
        }
    }

    /// The overall status of a set of checks: the worst of them; skips alone are a pass.
    pub fn overall<I: IntoIterator<Item = Status>>(it: I) -> Status {
        it.into_iter()
            .fold(Status::Pass, |acc, s| acc.max(s).max(Status::Pass))
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stage of an endpoint probe, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageName {
    Dns,
    Tcp,
    Tls,
    Http,
}

impl StageName {
    pub const ALL: [StageName; 4] = [StageName::Dns, StageName::Tcp, StageName::Tls, StageName::Http];

    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Dns => "dns",
            StageName::Tcp => "tcp",
            StageName::Tls => "tls",
            StageName::Http => "http",
        }
    }

    /// Upper-case label for tables and panes.
    pub fn label(self) -> &'static str {
        match self {
            StageName::Dns => "DNS",
            StageName::Tcp => "TCP",
            StageName::Tls => "TLS",
            StageName::Http => "HTTP",
        }
    }

    /// The phase name used by the blackbox exporter's `probe_http_duration_seconds`.
    pub fn phase(self) -> &'static str {
        match self {
            StageName::Dns => "resolve",
            StageName::Tcp => "connect",
            StageName::Tls => "tls",
            StageName::Http => "processing",
        }
    }
}

/// Why a stage failed, classified so that findings and remediation can key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The name does not exist (NXDOMAIN) or has no address.
    DnsNxdomain,
    /// The resolver answered SERVFAIL or REFUSED.
    DnsServfail,
    /// No answer from the resolver in time.
    DnsTimeout,
    /// The connection was refused (RST to our SYN): nothing listens, or a firewall rejects.
    TcpRefused,
    /// No answer to our SYN: a firewall drops the packets, or the route goes nowhere.
    TcpTimeout,
    /// An ICMP error answered our SYN (administratively prohibited, host or network
    /// unreachable): a firewall or router rejects the connection, which is not a drop.
    TcpUnreachable,
    /// The connection was cut (RST) after it was established.
    TcpReset,
    /// The certificate chain does not lead to a root this machine trusts.
    TlsUntrusted,
    /// The certificate is not for this host name.
    TlsWrongName,
    /// The certificate has expired (or is not yet valid: check the clock).
    TlsExpired,
    /// The chain is trusted but ends in a root Microsoft 365 does not use: something in the
    /// path decrypts the traffic.
    TlsIntercepted,
    /// The chain ends in a public root that Microsoft 365 does not use: unexpected, not
    /// necessarily inspection (a warning).
    TlsUnexpectedCa,
    /// The handshake failed for another reason (protocol version, cipher, alert).
    TlsHandshake,
    /// The handshake did not finish in time.
    TlsTimeout,
    /// A proxy asked for credentials (HTTP 407).
    HttpProxyAuth,
    /// A proxy or filter answered with a block page (HTTP 403 from a middlebox).
    HttpBlocked,
    /// No HTTP answer in time.
    HttpTimeout,
    /// The answer was not HTTP at all.
    HttpProtocol,
    /// The origin answered with a server error (5xx) or an unexpected 401: reachable,
    /// but not healthy (a warning).
    HttpServerError,
    /// A 502 or 504 made by a proxy or gateway in the path, which could not reach the
    /// origin (its `Via`, `Server` or error page says so).
    HttpGateway,
    /// Anything we could not classify; the detail says what happened.
    Other,
}

impl Cause {
    /// Every cause, in declaration order: the one list that reports, remediation and
    /// their tests walk. [`Cause::index`] has no wildcard arm, so a new variant does not
    /// compile until it is placed here too.
    pub const ALL: [Cause; 21] = {
        use Cause::*;
        [
            DnsNxdomain,
            DnsServfail,
            DnsTimeout,
            TcpRefused,
            TcpTimeout,
            TcpUnreachable,
            TcpReset,
            TlsUntrusted,
            TlsWrongName,
            TlsExpired,
            TlsIntercepted,
            TlsUnexpectedCa,
            TlsHandshake,
            TlsTimeout,
            HttpProxyAuth,
            HttpBlocked,
            HttpTimeout,
            HttpProtocol,
            HttpServerError,
            HttpGateway,
            Other,
        ]
    };

    /// This cause's place in [`Cause::ALL`].
    pub const fn index(self) -> usize {
        use Cause::*;
        match self {
            DnsNxdomain => 0,
            DnsServfail => 1,
            DnsTimeout => 2,
            TcpRefused => 3,
            TcpTimeout => 4,
            TcpUnreachable => 5,
            TcpReset => 6,
            TlsUntrusted => 7,
            TlsWrongName => 8,
            TlsExpired => 9,
            TlsIntercepted => 10,
            TlsUnexpectedCa => 11,
            TlsHandshake => 12,
            TlsTimeout => 13,
            HttpProxyAuth => 14,
            HttpBlocked => 15,
            HttpTimeout => 16,
            HttpProtocol => 17,
            HttpServerError => 18,
            HttpGateway => 19,
            Other => 20,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::DnsNxdomain => "dns-nxdomain",
            Cause::DnsServfail => "dns-servfail",
            Cause::DnsTimeout => "dns-timeout",
            Cause::TcpRefused => "tcp-refused",
            Cause::TcpTimeout => "tcp-timeout",
            Cause::TcpUnreachable => "tcp-unreachable",
            Cause::TcpReset => "tcp-reset",
            Cause::TlsUntrusted => "tls-untrusted",
            Cause::TlsWrongName => "tls-wrong-name",
            Cause::TlsExpired => "tls-expired",
            Cause::TlsIntercepted => "tls-intercepted",
            Cause::TlsUnexpectedCa => "tls-unexpected-ca",
            Cause::TlsHandshake => "tls-handshake",
            Cause::TlsTimeout => "tls-timeout",
            Cause::HttpProxyAuth => "http-proxy-auth",
            Cause::HttpBlocked => "http-blocked",
            Cause::HttpTimeout => "http-timeout",
            Cause::HttpProtocol => "http-protocol",
            Cause::HttpServerError => "http-server-error",
            Cause::HttpGateway => "http-gateway",
            Cause::Other => "other",
        }
    }

    /// The stage this cause belongs to.
    pub fn stage(self) -> Option<StageName> {
        use Cause::*;
        Some(match self {
            DnsNxdomain | DnsServfail | DnsTimeout => StageName::Dns,
            TcpRefused | TcpTimeout | TcpUnreachable | TcpReset => StageName::Tcp,
            TlsUntrusted | TlsWrongName | TlsExpired | TlsIntercepted | TlsUnexpectedCa | TlsHandshake
            | TlsTimeout => StageName::Tls,
            HttpProxyAuth | HttpBlocked | HttpTimeout | HttpProtocol | HttpServerError | HttpGateway => {
                StageName::Http
            }
            Other => return None,
        })
    }
}

/// The result of one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageResult {
    pub name: StageName,
    pub status: Status,
    /// Wall time the stage took, in milliseconds.
    pub ms: f64,
    /// What happened, in plain words ("127.77.0.3", "timed out", "HTTP 404 from origin").
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cause: Option<Cause>,
}

/// One certificate of a presented chain, as the user needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// RFC 3339 expiry.
    pub not_after: String,
}

/// What the TLS handshake negotiated and what the server presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TlsInfo {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cipher: Option<String>,
    pub chain: Vec<CertSummary>,
    /// Common name (or organisation) of the root the chain leads to, as named by the top
    /// certificate's issuer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub root: Option<String>,
    /// SHA-256 of the trusted root that anchors the chain (lower-case hex), when the
    /// chain verified: what identifies the root, as its name cannot.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub root_sha256: Option<String>,
}

/// What the HTTP stage saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HttpInfo {
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub via: Option<String>,
    /// The `Date` header, kept for the clock-skew check.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub date: Option<String>,
    /// The authentication schemes a proxy's 407 offers in its `Proxy-Authenticate`
    /// headers (`Negotiate`, `NTLM`, `Basic`), as sent; never a token or a parameter.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub proxy_authenticate: Vec<String>,
}

impl HttpInfo {
    /// Whether a proxy asks for the signed-in Windows user's own account (Negotiate or
    /// NTLM), which Office answers by itself, rather than a name and password.
    pub fn asks_windows_credentials(&self) -> bool {
        self.proxy_authenticate.iter().any(|s| is_windows_integrated(s))
    }
}

/// Whether an HTTP authentication scheme is Windows integrated authentication: the
/// client proves who the signed-in user is with Kerberos (`Negotiate`) or `NTLM`, no
/// password typed.
pub fn is_windows_integrated(scheme: &str) -> bool {
    ["negotiate", "ntlm", "kerberos"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
}

/// What a check is about; decides which pane shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// A Microsoft 365 endpoint probed over the network.
    Endpoint,
    /// The network around the machine: proxy, VPN, DNS, TLS, clock.
    Network,
    /// The machine itself: BrokerPlugin, registry, credentials.
    Host,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Endpoint => "endpoint",
            CheckKind::Network => "network",
            CheckKind::Host => "host",
        }
    }
}

/// The result of one check in one sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable id, e.g. `endpoint:activation.sls.microsoft.com` or
    /// `endpoint:crl.microsoft.com/pki/crl/products/MicrosoftRootAuthority.crl`.
    pub id: String,
    pub kind: CheckKind,
    /// What was checked, e.g. the URL.
    pub target: String,
    pub status: Status,
    /// One line for a table.
    pub summary: String,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stages: Vec<StageResult>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cause: Option<Cause>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tls: Option<TlsInfo>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http: Option<HttpInfo>,
    /// The raw error text of the failing stage, for the detail view.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Free-form facts for non-endpoint checks (key, value), shown in the detail view.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub facts: Vec<(String, String)>,
    /// Remediation entry id for a non-endpoint check that is not passing (endpoint checks
    /// are mapped from their `cause` instead).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub remediation: Option<String>,
    /// Every address an endpoint probe tried, each with its own stages (both address
    /// families; one per family unless `--all-addresses`). The top-level `stages`, `cause`
    /// and `summary` repeat the address that decided the status, so readers of the older
    /// report keep working.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub addresses: Vec<AddressResult>,
    /// How the endpoint's name was resolved: by which resolver, through which CNAMEs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dns: Option<DnsInfo>,
    /// Names this check read from the machine that `--redact` hides (a proxy host from the
    /// machine's settings, a DNS server, a PAC file's host). The check's texts show them
    /// as they are; reports replace them.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub private: Vec<PrivateName>,
    /// Where an endpoint belongs in a long catalog (Microsoft's service area or category,
    /// or for the built-in list its purpose: sign-in, activation, certificates), so the
    /// screen can group hundreds of rows; `None` for other checks.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub group: Option<String>,
    pub checked_at: DateTime<Utc>,
}

impl CheckResult {
    /// A check with no stages (environment and host checks).
    pub fn simple(
        id: impl Into<String>,
        kind: CheckKind,
        target: impl Into<String>,
        status: Status,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            kind,
            target: target.into(),
            status,
            summary: summary.into(),
            duration_ms: 0.0,
            stages: Vec::new(),
            cause: None,
            tls: None,
            http: None,
            error: None,
            facts: Vec::new(),
            remediation: None,
            addresses: Vec::new(),
            dns: None,
            private: Vec::new(),
            group: None,
            checked_at: Utc::now(),
        }
    }

    /// The stage result of a given stage, if it ran.
    pub fn stage(&self, name: StageName) -> Option<&StageResult> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The first stage that did not pass.
    pub fn failing_stage(&self) -> Option<&StageResult> {
        self.stages
            .iter()
            .find(|s| matches!(s.status, Status::Fail | Status::Warn))
    }
}

/// An IP address family. Probed separately because Windows tries IPv6 first when a name
/// has AAAA records: a broken IPv6 path stalls Office while IPv4 works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpFamily {
    Ipv4,
    Ipv6,
}

impl IpFamily {
    pub fn of(ip: &std::net::IpAddr) -> IpFamily {
        if ip.is_ipv6() {
            IpFamily::Ipv6
        } else {
            IpFamily::Ipv4
        }
    }

    /// `IPv4` / `IPv6`, for sentences.
    pub fn label(self) -> &'static str {
        match self {
            IpFamily::Ipv4 => "IPv4",
            IpFamily::Ipv6 => "IPv6",
        }
    }

    /// `4` / `6`, for the compact breakdown of a row (`4✓ 6✗`).
    pub fn digit(self) -> char {
        match self {
            IpFamily::Ipv4 => '4',
            IpFamily::Ipv6 => '6',
        }
    }
}

/// Which address families the probes use: `--ip-family 4|6|both` (default both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpFamilyChoice {
    #[default]
    Both,
    #[serde(rename = "4")]
    Only4,
    #[serde(rename = "6")]
    Only6,
}

impl IpFamilyChoice {
    pub fn includes(self, family: IpFamily) -> bool {
        match self {
            IpFamilyChoice::Both => true,
            IpFamilyChoice::Only4 => family == IpFamily::Ipv4,
            IpFamilyChoice::Only6 => family == IpFamily::Ipv6,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IpFamilyChoice::Both => "both",
            IpFamilyChoice::Only4 => "4",
            IpFamilyChoice::Only6 => "6",
        }
    }
}

impl std::str::FromStr for IpFamilyChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "both" | "46" | "any" => Ok(IpFamilyChoice::Both),
            "4" | "ipv4" => Ok(IpFamilyChoice::Only4),
            "6" | "ipv6" => Ok(IpFamilyChoice::Only6),
            other => Err(format!("ip family {other:?}: expected 4, 6 or both")),
        }
    }
}

/// The probe of one address of an endpoint: its own stages after the shared `dns` stage.
///
/// Addresses are kept as text, as everywhere else in a result: `--redact` replaces a
/// private address by a placeholder, which must still read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressResult {
    pub addr: String,
    pub family: IpFamily,
    pub status: Status,
    pub summary: String,
    pub duration_ms: f64,
    /// `tcp`, `tls`, `http` for this address.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stages: Vec<StageResult>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cause: Option<Cause>,
}

/// How a name was resolved: who answered, and the CNAME chain from the asked name to the
/// one that holds the addresses (where split-horizon DNS and DNS filters show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DnsInfo {
    /// The resolver that answered (`127.0.0.1:5353`), or why none is named.
    pub resolver: String,
    /// The asked name first, then each CNAME target; one element when there is no CNAME.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cname_chain: Vec<String>,
    /// The answers per family (empty when the family has none or was not asked).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ipv4: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ipv6: Vec<String>,
    /// What went wrong with one family's records while the other's came back ("AAAA: no
    /// answer within 3.0 s"): a resolver that drops AAAA queries makes clients wait.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

/// What a [`PrivateName`] is; its placeholder says so: `<domain-1>`, `<proxy-2>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrivateKind {
    /// This machine's host name.
    Host,
    /// The signed-in user.
    User,
    /// A tenant or Windows domain (`--domain`, the lab's tenant, `DOMAIN\user`).
    Domain,
    /// A proxy server's host name or address.
    Proxy,
    /// The host a PAC file is served from.
    Pac,
    /// A DNS server.
    Dns,
}

impl PrivateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrivateKind::Host => "host",
            PrivateKind::User => "user",
            PrivateKind::Domain => "domain",
            PrivateKind::Proxy => "proxy",
            PrivateKind::Pac => "pac",
            PrivateKind::Dns => "dns",
        }
    }
}

/// A name the user or the machine supplied (not Microsoft's), which `--redact` replaces by
/// a placeholder. The session adds those of the options and the host; checks add those
/// they read from the machine ([`CheckResult::private`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PrivateName {
    pub kind: PrivateKind,
    pub value: String,
}

impl PrivateName {
    pub fn new(kind: PrivateKind, value: impl Into<String>) -> Self {
        PrivateName {
            kind,
            value: value.into(),
        }
    }

    /// The private names in a URL or `host:port` as people configure proxies and PAC
    /// files (`http://user:pass@proxy.corp:8080/x`, `proxy.corp:3128`, `PROXY a:1; DIRECT`):
    /// the host, as `kind`. Credentials are not collected: a private name is shown in
    /// reports without `--redact`, and credentials never are (every text replaces them by
    /// `<credentials>`). Loopback hosts (`127.0.0.0/8`, `::1`, `localhost`) say nothing
    /// about anyone and are left out.
    pub fn from_url(kind: PrivateKind, text: &str) -> Vec<PrivateName> {
        let mut out = Vec::new();
        for word in text.split(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | '"' | '\'')) {
            let rest = word.split_once("://").map_or(word, |(_, r)| r);
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
            let host = if let Some(v6) = host_port.strip_prefix('[') {
                v6.split(']').next().unwrap_or("")
            } else if host_port.matches(':').count() > 1 {
                host_port // a bare IPv6 address
            } else {
                host_port.split(':').next().unwrap_or("")
            };
            let host = host.trim_end_matches('.');
            let looks_like_host = host.contains(['.', ':'])
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'));
            if looks_like_host && !is_loopback(host) {
                out.push(PrivateName::new(kind, host.to_ascii_lowercase()));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Whether a host name or address is this machine's loopback.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// Milliseconds of a duration as f64, rounded to 0.1 ms for stable output.
pub fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn private_names_of_proxy_urls() {
        use super::{PrivateKind::*, PrivateName};
        let names = |t| {
            PrivateName::from_url(Proxy, t)
                .into_iter()
                .map(|n| (n.kind, n.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("http://alice:S3cret@Proxy.Corp.example:3128/"),
            [(Proxy, "proxy.corp.example".to_string())],
            "never the credentials: they must not be in any output"
        );
        assert_eq!(
            names("PROXY 10.1.2.3:8080; DIRECT"),
            [(Proxy, "10.1.2.3".to_string())]
        );
        assert!(names("http://127.0.0.1:3128").is_empty(), "loopback says nothing");
        assert!(names("direct").is_empty());
        assert_eq!(names("[fd00::1]:3128"), [(Proxy, "fd00::1".to_string())]);
    }

    #[test]
    fn every_cause_is_in_all_at_its_index() {
        for (i, c) in super::Cause::ALL.iter().enumerate() {
            assert_eq!(c.index(), i, "{c:?}");
        }
    }

    use super::*;

    #[test]
    fn overall_is_worst_and_skip_counts_as_pass() {
        assert_eq!(Status::overall([Status::Skip]), Status::Pass);
        assert_eq!(Status::overall([Status::Pass, Status::Warn]), Status::Warn);
        assert_eq!(
            Status::overall([Status::Warn, Status::Fail, Status::Skip]),
            Status::Fail
        );
        assert_eq!(Status::overall([]), Status::Pass);
    }

    #[test]
    fn statuses_serialize_lowercase() {
        assert_eq!(serde_json::to_string(&Status::Fail).unwrap(), "\"fail\"");
        assert_eq!(
            serde_json::to_string(&Cause::TcpTimeout).unwrap(),
            "\"tcp-timeout\""
        );
        assert_eq!(Cause::TlsIntercepted.as_str(), "tls-intercepted");
    }
}
