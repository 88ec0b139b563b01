//! Findings: what is wrong, derived from all current check results at once.
//!
//! A technician needs the cause, not twenty red lights. [`diagnose`] reads every result of
//! a sweep and applies root-cause rules first (every DNS lookup failing is one DNS
//! problem; only the activation endpoints failing is a firewall rule; the same inspection
//! root on many endpoints is one inspection device), then groups what is left by cause, so
//! each failing check is explained by exactly one finding. Findings are ranked: root
//! causes before symptoms, failures before warnings, wider before narrower.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::diagnosis::remediation::{self, Remediation};
use crate::model::{Cause, CheckKind, CheckResult, IpFamily, Status};

/// One diagnosed problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable id (`dns-failure`, `endpoint-blocked`, `tls-interception`, ...).
    pub id: String,
    pub severity: Status,
    pub title: String,
    /// What was seen, with the figures.
    pub detail: String,
    /// The checks this finding explains.
    pub checks: Vec<String>,
    /// Id of the remediation entry (a static entry, so a snapshot read back from JSON —
    /// the remote view — points at this build's text).
    pub remediation_id: &'static str,
    /// Whether a rule that explains several symptoms at once produced it.
    pub root_cause: bool,
}

/// A finding as read back from JSON (the remote view).
#[derive(Deserialize)]
struct FindingWire {
    id: String,
    severity: Status,
    title: String,
    detail: String,
    checks: Vec<String>,
    remediation_id: String,
    root_cause: bool,
}

impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        FindingWire::deserialize(d).map(Finding::from)
    }
}

impl From<FindingWire> for Finding {
    fn from(w: FindingWire) -> Self {
        let remediation_id = remediation::get(&w.remediation_id)
            .map(|r| r.id)
            .unwrap_or("generic-connectivity");
        Finding {
            id: w.id,
            severity: w.severity,
            title: w.title,
            detail: w.detail,
            checks: w.checks,
            remediation_id,
            root_cause: w.root_cause,
        }
    }
}

impl Finding {
    /// The remediation entry; every id used here exists (tested).
    pub fn remediation(&self) -> &'static Remediation {
        remediation::get(self.remediation_id)
            .or_else(|| remediation::get("generic-connectivity"))
            .expect("the generic-connectivity remediation entry exists")
    }
}

/// Finding id and remediation id for a failure cause.
fn by_cause(cause: Cause) -> (&'static str, &'static str, &'static str) {
    use Cause::*;
    match cause {
        DnsNxdomain | DnsServfail | DnsTimeout => ("dns-lookup", "dns-failure", "Name lookups fail"),
        TcpTimeout | TcpRefused | TcpUnreachable => ("endpoint-blocked", "firewall", "Endpoints are blocked"),
        TcpReset => ("connection-reset", "connection-reset", "Connections are cut"),
        TlsUntrusted => ("tls-untrusted", "tls-untrusted", "Certificates are not trusted"),
        TlsIntercepted => (
            "tls-interception",
            "tls-interception",
            "TLS traffic is being inspected",
        ),
        TlsUnexpectedCa => (
            "tls-unexpected-ca",
            "tls-unexpected-ca",
            "Certificates come from an unexpected CA",
        ),
        TlsExpired => ("tls-expired", "tls-expired", "Certificates look expired"),
        TlsWrongName => (
            "tls-wrong-name",
            "tls-wrong-name",
            "Certificates are for the wrong name",
        ),
        TlsHandshake | TlsTimeout => ("tls-handshake", "tls-handshake", "TLS handshakes fail"),
        HttpProxyAuth => ("proxy-auth", "proxy-auth", "A proxy asks for credentials"),
        HttpBlocked => ("proxy-block", "proxy-block", "A proxy or filter blocks endpoints"),
        HttpTimeout | HttpProtocol => ("http-timeout", "http-timeout", "Endpoints do not answer"),
        HttpServerError => (
            "http-server-error",
            "http-server-error",
            "Endpoints answer with server errors",
        ),
        HttpGateway => (
            "http-gateway",
            "http-gateway",
            "A proxy or gateway cannot reach endpoints",
        ),
        Other => (
            "endpoint-unreachable",
            "generic-connectivity",
            "Endpoints cannot be reached",
        ),
    }
}

/// Finding id, remediation id and title for a failing endpoint: its cause's, except that
/// a 407 offering Negotiate or NTLM is its own finding, because Office answers those with
/// the user's Windows sign-in and the fix differs from a proxy that wants a password.
fn by_check(c: &CheckResult) -> (&'static str, &'static str, &'static str) {
    let cause = c.cause.unwrap_or(Cause::Other);
    if cause == Cause::HttpProxyAuth && c.http.as_ref().is_some_and(|h| h.asks_windows_credentials()) {
        return (
            "proxy-auth-windows",
            "proxy-auth-windows",
            "A proxy asks for Windows sign-in (Negotiate/NTLM)",
        );
    }
    by_cause(cause)
}

/// Whether every probed address of `broken` failed while one of `works` passed.
fn family_broken(c: &CheckResult, broken: IpFamily, works: IpFamily) -> bool {
    let of = |f: IpFamily| c.addresses.iter().filter(move |a| a.family == f);
    of(broken).next().is_some()
        && of(broken).all(|a| a.status != Status::Pass)
        && of(works).any(|a| a.status == Status::Pass)
}

/// Host names of check ids, for readable details.
fn hosts(ids: &[String]) -> String {
    let mut names: Vec<&str> = ids.iter().map(|i| i.trim_start_matches("endpoint:")).collect();
    names.dedup();
    if names.len() > 4 {
        format!("{} and {} more", names[..3].join(", "), names.len() - 3)
    } else {
        names.join(", ")
    }
}

/// Reads all results and names what is wrong, most important first.
pub fn diagnose(checks: &[CheckResult]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let endpoints: Vec<&CheckResult> = checks
        .iter()
        .filter(|c| c.kind == CheckKind::Endpoint && c.status != Status::Skip)
        .collect();
    let failing: Vec<&CheckResult> = endpoints
        .iter()
        .copied()
        .filter(|c| c.status == Status::Fail)
        .collect();
    let mut explained: Vec<&str> = Vec::new();

    // Rule: every endpoint fails at DNS -> one DNS problem.
    let dns_failed: Vec<&CheckResult> = failing
        .iter()
        .copied()
        .filter(|c| c.cause.and_then(|x| x.stage()) == Some(crate::model::StageName::Dns))
        .collect();
    if endpoints.len() >= 2 && dns_failed.len() == endpoints.len() {
        let endpoint_count = dns_failed.len();
        // Network checks that failed for the same reason (the NCSI lookup, the resolver
        // check) are symptoms of this one problem, not findings of their own.
        let dns_symptoms: Vec<&CheckResult> = checks
            .iter()
            .filter(|c| c.kind != CheckKind::Endpoint && matches!(c.status, Status::Warn | Status::Fail))
            .filter(|c| {
                c.cause.and_then(|x| x.stage()) == Some(crate::model::StageName::Dns)
                    || c.remediation.as_deref() == Some("dns-failure")
            })
            .collect();
        let ids: Vec<String> = dns_failed
            .iter()
            .chain(&dns_symptoms)
            .map(|c| c.id.clone())
            .collect();
        let detail = dns_failed
            .first()
            .and_then(|c| c.failing_stage())
            .map(|s| s.detail.clone())
            .unwrap_or_default();
        findings.push(Finding {
            id: "dns-failure".into(),
            severity: Status::Fail,
            title: "DNS is not resolving Microsoft 365 names".into(),
            detail: format!("All {endpoint_count} endpoint lookups failed ({detail}). Fix DNS first: nothing else can work without it."),
            checks: ids,
            remediation_id: "dns-failure",
            root_cause: true,
        });
        explained.extend(dns_failed.iter().chain(&dns_symptoms).map(|c| c.id.as_str()));
    }

    // Rule: one address family fails while the other works -> that family's path, one
    // finding per family naming the broken addresses (Windows tries IPv6 first).
    for (broken, works) in [(IpFamily::Ipv6, IpFamily::Ipv4), (IpFamily::Ipv4, IpFamily::Ipv6)] {
        let split: Vec<&CheckResult> = failing
            .iter()
            .copied()
            .filter(|c| !explained.contains(&c.id.as_str()) && family_broken(c, broken, works))
            .collect();
        if split.is_empty() {
            continue;
        }
        let ids: Vec<String> = split.iter().map(|c| c.id.clone()).collect();
        let mut addrs: Vec<String> = split
            .iter()
            .flat_map(|c| &c.addresses)
            .filter(|a| a.family == broken && a.status != Status::Pass)
            .map(|a| a.addr.clone())
            .collect();
        addrs.dedup();
        let dropped = split.iter().any(|c| c.cause == Some(Cause::TcpTimeout));
        let cost = split
            .iter()
            .flat_map(|c| &c.facts)
            .find(|(k, _)| k == "blackhole_cost")
            .map(|(_, v)| v.clone());
        let consequence = match (broken, dropped, cost) {
            (IpFamily::Ipv6, true, Some(cost)) => format!(
                " Windows tries IPv6 first when it has an IPv6 address: a client without fast fallback waits on each dropped address, {cost}, before it tries IPv4."
            ),
            (IpFamily::Ipv6, _, _) => {
                " Windows tries IPv6 first when it has an IPv6 address, so Office meets the broken path before the working one.".to_string()
            }
            (IpFamily::Ipv4, _, _) => " Clients that prefer IPv4, or have no IPv6, cannot reach it.".to_string(),
        };
        findings.push(Finding {
            id: format!("{}-path-broken", broken.label().to_ascii_lowercase()),
            severity: Status::Fail,
            title: format!("{} path broken while {} works", broken.label(), works.label()),
            detail: format!(
                "{} {} over {} at {} while {} works.{consequence}",
                hosts(&ids),
                if ids.len() == 1 { "fails" } else { "fail" },
                broken.label(),
                addrs.join(", "),
                works.label()
            ),
            checks: ids,
            remediation_id: match broken {
                IpFamily::Ipv6 => "ipv6-path-broken",
                IpFamily::Ipv4 => "firewall",
            },
            root_cause: true,
        });
        explained.extend(split.iter().map(|c| c.id.as_str()));
    }

    // Rule: a proxy is configured and (nearly) every endpoint times out -> the proxy.
    let fact = |id: &str, key: &str| -> Option<String> {
        checks
            .iter()
            .find(|c| c.id == id)?
            .facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    // Through a proxy, a dead proxy shows as refused connections; a stalled one as timeouts.
    let timed_out = |c: &CheckResult| {
        matches!(
            c.cause,
            Some(
                Cause::TcpTimeout
                    | Cause::TcpRefused
                    | Cause::TcpUnreachable
                    | Cause::HttpGateway
                    | Cause::HttpTimeout
                    | Cause::TlsTimeout
                    | Cause::DnsTimeout
            )
        )
    };
    let open: Vec<&CheckResult> = failing
        .iter()
        .copied()
        .filter(|c| !explained.contains(&c.id.as_str()))
        .collect();
    if fact("network:proxy", "proxy_configured").as_deref() == Some("yes")
        && endpoints.len() >= 2
        && open.len() * 10 >= endpoints.len() * 8
        && open.iter().all(|c| timed_out(c))
    {
        let mut ids: Vec<String> = open.iter().map(|c| c.id.clone()).collect();
        let proxy = fact("network:proxy", "proxy").unwrap_or_else(|| "the configured proxy".into());
        // The proxy check itself failing is the same problem, seen from the other side.
        let proxy_check = checks
            .iter()
            .find(|c| c.id == "network:proxy" && c.status == Status::Fail);
        if let Some(p) = proxy_check {
            ids.push(p.id.clone());
            explained.push(p.id.as_str());
        }
        findings.push(Finding {
            id: "proxy-timeout".into(),
            severity: Status::Fail,
            title: format!("The proxy ({proxy}) does not pass Microsoft 365 traffic"),
            detail: format!(
                "{} of {} endpoints time out or are refused while a proxy is configured: the proxy is down, unreachable, overloaded or drops the traffic.",
                open.len(),
                endpoints.len()
            ),
            checks: ids,
            remediation_id: "proxy",
            root_cause: true,
        });
        explained.extend(open.iter().map(|c| c.id.as_str()));
    }

    // Rule: a proxy is configured and the endpoints fail with its 407 or its 403 -> one
    // proxy problem, over the endpoints and the network checks that saw the same answer.
    let open: Vec<&CheckResult> = failing
        .iter()
        .copied()
        .filter(|c| !explained.contains(&c.id.as_str()))
        .collect();
    for cause in [Cause::HttpProxyAuth, Cause::HttpBlocked] {
        let hit: Vec<&CheckResult> = open.iter().copied().filter(|c| c.cause == Some(cause)).collect();
        if fact("network:proxy", "proxy_configured").as_deref() != Some("yes")
            || hit.len() < 2
            || hit.len() != open.len()
        {
            continue;
        }
        let (id, rem, title) = by_check(hit[0]);
        let proxy = fact("network:proxy", "proxy").unwrap_or_else(|| "the configured proxy".into());
        let same_answer = |c: &CheckResult| {
            c.kind != CheckKind::Endpoint
                && matches!(c.status, Status::Warn | Status::Fail)
                && (c.cause == Some(cause) || c.remediation.as_deref() == Some(rem))
        };
        let symptoms: Vec<&CheckResult> = checks.iter().filter(|c| same_answer(c)).collect();
        let answer = if cause == Cause::HttpProxyAuth {
            "HTTP 407 (credentials required)"
        } else {
            "HTTP 403 (a block page)"
        };
        let ids: Vec<String> = hit.iter().chain(&symptoms).map(|c| c.id.clone()).collect();
        findings.push(Finding {
            id: id.into(),
            severity: Status::Fail,
            title: format!("{title}: {proxy}"),
            detail: format!(
                "{} of {} endpoints get {answer} from the proxy {proxy}, and the checks that go through it see the same answer: one proxy rule explains all {} failing checks.",
                hit.len(),
                endpoints.len(),
                ids.len()
            ),
            checks: ids,
            remediation_id: rem,
            root_cause: true,
        });
        explained.extend(hit.iter().chain(&symptoms).map(|c| c.id.as_str()));
    }

    // Rule: a VPN is up while endpoints fail to connect -> look at the VPN first.
    let open: Vec<&CheckResult> = failing
        .iter()
        .copied()
        .filter(|c| !explained.contains(&c.id.as_str()))
        .collect();
    let network_failure = |c: &CheckResult| {
        matches!(
            c.cause.and_then(|x| x.stage()),
            Some(crate::model::StageName::Dns | crate::model::StageName::Tcp)
        )
    };
    if fact("network:vpn", "vpn_up").as_deref() == Some("yes")
        && !open.is_empty()
        && open.iter().all(|c| network_failure(c))
    {
        let ids: Vec<String> = open.iter().map(|c| c.id.clone()).collect();
        let tunnel = fact("network:vpn", "tunnel").unwrap_or_else(|| "unknown".into());
        // `vpn_interfaces` reads "tun0 (tun device), wg0 (WireGuard)": name the first.
        let adapter = fact("network:vpn", "vpn_interfaces")
            .filter(|i| i != "none")
            .and_then(|i| i.split(" (").next().map(str::to_string))
            .map(|i| format!(" ({i})"))
            .unwrap_or_default();
        findings.push(Finding {
            id: "vpn-in-path".into(),
            severity: Status::Fail,
            title: format!("A VPN{adapter} is up while endpoints fail"),
            detail: format!(
                "{} endpoint(s) fail at DNS or TCP with a {tunnel}-tunnel VPN up ({}): the VPN's DNS, routes or its own firewall are the first suspects.",
                ids.len(),
                hosts(&ids)
            ),
            checks: ids,
            remediation_id: "vpn-full-tunnel",
            root_cause: true,
        });
        explained.extend(open.iter().map(|c| c.id.as_str()));
    }

    // Rule: only activation/licensing endpoints fail to connect -> a firewall rule forgot them.
    let is_activation = |c: &CheckResult| {
        let host =
            c.id.trim_start_matches("endpoint:")
                .split(['/', ':'])
                .next()
                .unwrap_or("");
        crate::catalog::cloud::is_activation_host(host)
    };
    let blocked = |c: &CheckResult| {
        matches!(
            c.cause,
            Some(Cause::TcpTimeout | Cause::TcpRefused | Cause::TcpUnreachable | Cause::TcpReset)
        )
    };
    let unexplained: Vec<&CheckResult> = failing
        .iter()
        .copied()
        .filter(|c| !explained.contains(&c.id.as_str()))
        .collect();
    if !unexplained.is_empty()
        && unexplained.iter().all(|c| is_activation(c) && blocked(c))
        && endpoints
            .iter()
            .any(|c| !is_activation(c) && c.status == Status::Pass)
    {
        let ids: Vec<String> = unexplained.iter().map(|c| c.id.clone()).collect();
        findings.push(Finding {
            id: "activation-blocked".into(),
            severity: Status::Fail,
            title: "The activation endpoints are blocked".into(),
            detail: format!(
                "Only the activation and licensing endpoints fail ({}), while the others answer: a firewall or proxy rule is missing them.",
                hosts(&ids)
            ),
            checks: ids,
            remediation_id: "activation-blocked",
            root_cause: true,
        });
        explained.extend(unexplained.iter().map(|c| c.id.as_str()));
    }

    // Rule: interception — one finding per inspecting root, naming it.
    let mut by_root: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in failing
        .iter()
        .filter(|c| c.cause == Some(Cause::TlsIntercepted) && !explained.contains(&c.id.as_str()))
    {
        let root = c
            .tls
            .as_ref()
            .and_then(|t| t.root.clone())
            .unwrap_or_else(|| "an unknown root".into());
        // A look-alike of a Microsoft root is named as one, never as the root it copies.
        let impostor = c
            .failing_stage()
            .is_some_and(|s| s.detail.starts_with("intercepted: a root named like"));
        let root = if impostor {
            format!("a root named like {root} but not it")
        } else {
            root
        };
        by_root.entry(root).or_default().push(c.id.clone());
    }
    for (root, ids) in by_root {
        explained.extend(
            failing
                .iter()
                .filter(|c| ids.contains(&c.id))
                .map(|c| c.id.as_str()),
        );
        findings.push(Finding {
            id: "tls-interception".into(),
            severity: Status::Fail,
            title: format!("TLS is intercepted by {root}"),
            detail: format!(
                "{} endpoint(s) present a certificate chain ending in {root}, not a Microsoft 365 root: a proxy or security product is decrypting the traffic ({}).",
                ids.len(),
                hosts(&ids)
            ),
            root_cause: ids.len() > 1,
            checks: ids,
            remediation_id: "tls-interception",
        });
    }

    // Everything else, grouped by cause.
    let mut groups: BTreeMap<&'static str, (&'static str, &'static str, Vec<&CheckResult>)> = BTreeMap::new();
    for c in failing
        .iter()
        .copied()
        .filter(|c| !explained.contains(&c.id.as_str()))
    {
        let (id, rem, title) = by_check(c);
        groups.entry(id).or_insert((rem, title, Vec::new())).2.push(c);
    }
    for (id, (rem, title, group)) in groups {
        let ids: Vec<String> = group.iter().map(|c| c.id.clone()).collect();
        let first = group[0]
            .failing_stage()
            .map(|s| format!("{}: {}", s.name.label(), s.detail))
            .unwrap_or_default();
        findings.push(Finding {
            id: id.into(),
            severity: Status::Fail,
            title: title.into(),
            detail: format!("{} endpoint(s) fail ({}); e.g. {first}", ids.len(), hosts(&ids)),
            checks: ids,
            remediation_id: rem,
            root_cause: false,
        });
    }

    // Endpoints that answer, but not as they should (an unexpected CA, a server error):
    // warnings, grouped by cause.
    let mut warned: BTreeMap<&'static str, (&'static str, &'static str, Vec<&CheckResult>)> = BTreeMap::new();
    for c in endpoints
        .iter()
        .copied()
        .filter(|c| c.status == Status::Warn && c.cause.is_some())
    {
        let (id, rem, title) = by_check(c);
        warned.entry(id).or_insert((rem, title, Vec::new())).2.push(c);
    }
    for (id, (rem, title, group)) in warned {
        let ids: Vec<String> = group.iter().map(|c| c.id.clone()).collect();
        let first = group[0]
            .stages
            .iter()
            .find(|s| s.status == Status::Warn)
            .map(|s| format!("{}: {}", s.name.label(), s.detail))
            .unwrap_or_default();
        findings.push(Finding {
            id: id.into(),
            severity: Status::Warn,
            title: title.into(),
            detail: format!("{} endpoint(s) ({}); e.g. {first}", ids.len(), hosts(&ids)),
            checks: ids,
            remediation_id: rem,
            root_cause: false,
        });
    }

    // Non-endpoint checks carry their own remediation id.
    for c in checks.iter().filter(|c| {
        c.kind != CheckKind::Endpoint
            && matches!(c.status, Status::Warn | Status::Fail)
            && !explained.contains(&c.id.as_str())
    }) {
        let rem = c
            .remediation
            .as_deref()
            .and_then(remediation::get)
            .map(|r| r.id)
            .unwrap_or("generic-connectivity");
        findings.push(Finding {
            id: c.id.clone(),
            severity: c.status,
            title: c.summary.clone(),
            detail: c
                .facts
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; "),
            checks: vec![c.id.clone()],
            remediation_id: rem,
            root_cause: false,
        });
    }

    rank(&mut findings);
    findings
}

/// Root causes first, then failures before warnings, then the widest.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.root_cause
            .cmp(&a.root_cause)
            .then(b.severity.cmp(&a.severity))
            .then(b.checks.len().cmp(&a.checks.len()))
            .then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StageName, StageResult, TlsInfo};

    fn ep(host: &str, cause: Option<Cause>) -> CheckResult {
        let status = if cause.is_some() {
            Status::Fail
        } else {
            Status::Pass
        };
        let mut c = CheckResult::simple(
            format!("endpoint:{host}"),
            CheckKind::Endpoint,
            format!("https://{host}/"),
            status,
            "",
        );
        c.cause = cause;
        if let Some(cause) = cause {
            c.stages.push(StageResult {
                name: cause.stage().unwrap_or(StageName::Tcp),
                status: Status::Fail,
                ms: 1.0,
                detail: cause.as_str().into(),
                cause: Some(cause),
            });
        }
        c
    }

    #[test]
    fn healthy_has_no_findings() {
        let checks = vec![ep("a.com", None), ep("b.com", None)];
        assert!(diagnose(&checks).is_empty());
    }

    #[test]
    fn all_dns_failing_is_one_root_cause() {
        let checks: Vec<_> = (0..20)
            .map(|i| ep(&format!("h{i}.com"), Some(Cause::DnsServfail)))
            .collect();
        let f = diagnose(&checks);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "dns-failure");
        assert!(f[0].root_cause);
        assert_eq!(f[0].checks.len(), 20);
    }

    #[test]
    fn only_activation_blocked_is_a_firewall_rule() {
        let checks = vec![
            ep("activation.sls.microsoft.com", Some(Cause::TcpTimeout)),
            ep("ols.officeapps.live.com/olsc", Some(Cause::TcpTimeout)),
            ep("login.microsoftonline.com", None),
        ];
        let f = diagnose(&checks);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "activation-blocked");
        assert_eq!(f[0].checks.len(), 2);
    }

    #[test]
    fn interception_names_the_root_and_groups() {
        let mut a = ep("a.com", Some(Cause::TlsIntercepted));
        a.tls = Some(TlsInfo {
            root: Some("Contoso Root".into()),
            ..Default::default()
        });
        let mut b = ep("b.com", Some(Cause::TlsIntercepted));
        b.tls = a.tls.clone();
        let f = diagnose(&[a, b, ep("c.com", None)]);
        assert_eq!(f.len(), 1);
        assert!(f[0].title.contains("Contoso Root"));
        assert!(f[0].root_cause);
    }

    #[test]
    fn a_look_alike_root_is_named_as_one() {
        let mut a = ep("a.com", Some(Cause::TlsIntercepted));
        a.tls = Some(TlsInfo {
            root: Some("DigiCert Global Root G2".into()),
            ..Default::default()
        });
        a.stages[0].detail =
            "intercepted: a root named like DigiCert Global Root G2 but not it (SHA-256 ab)".into();
        let f = diagnose(&[a, ep("c.com", None)]);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "TLS is intercepted by a root named like DigiCert Global Root G2 but not it"
        );
    }

    #[test]
    fn warning_endpoints_are_warning_findings_grouped_by_cause() {
        let warn = |host: &str, cause: Cause| {
            let mut c = ep(host, Some(cause));
            c.status = Status::Warn;
            c.stages[0].status = Status::Warn;
            c
        };
        let checks = vec![
            warn("a.com", Cause::HttpServerError),
            warn("b.com", Cause::HttpServerError),
            warn("c.com", Cause::TlsUnexpectedCa),
            ep("d.com", None),
        ];
        let f = diagnose(&checks);
        let ids: Vec<(&str, Status, usize)> = f
            .iter()
            .map(|x| (x.id.as_str(), x.severity, x.checks.len()))
            .collect();
        assert_eq!(
            ids,
            [
                ("http-server-error", Status::Warn, 2),
                ("tls-unexpected-ca", Status::Warn, 1)
            ]
        );
        assert_eq!(f[1].remediation_id, "tls-unexpected-ca");
    }

    #[test]
    fn mixed_causes_group_and_rank() {
        let checks = vec![
            ep("a.com", Some(Cause::TcpTimeout)),
            ep("b.com", Some(Cause::TcpRefused)),
            ep("c.com", Some(Cause::HttpProxyAuth)),
            ep("d.com", None),
        ];
        let f = diagnose(&checks);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].id, "endpoint-blocked", "wider first");
        assert_eq!(f[0].checks.len(), 2);
        assert_eq!(f[1].id, "proxy-auth");
        assert_eq!(f[1].remediation_id, "proxy-auth");
        // every failing check is explained exactly once
        let mut all: Vec<_> = f.iter().flat_map(|x| x.checks.clone()).collect();
        all.sort();
        assert_eq!(all, vec!["endpoint:a.com", "endpoint:b.com", "endpoint:c.com"]);
    }

    #[test]
    fn a_proxy_asking_for_windows_sign_in_is_its_own_finding() {
        let with_schemes = |host: &str, schemes: &[&str]| {
            let mut c = ep(host, Some(Cause::HttpProxyAuth));
            c.http = Some(crate::model::HttpInfo {
                status: 407,
                proxy_authenticate: schemes.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            });
            c
        };
        let checks = vec![
            with_schemes("a.com", &["Negotiate", "NTLM"]),
            with_schemes("b.com", &["NTLM"]),
            with_schemes("c.com", &["Basic"]),
            ep("d.com", None),
        ];
        let f = diagnose(&checks);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(
            (f[0].id.as_str(), f[0].remediation_id, f[0].checks.len()),
            ("proxy-auth-windows", "proxy-auth-windows", 2)
        );
        assert!(f[0].title.contains("Negotiate/NTLM"), "{}", f[0].title);
        assert_eq!(
            (f[1].id.as_str(), f[1].remediation_id),
            ("proxy-auth", "proxy-auth")
        );
    }

    fn with_facts(id: &str, facts: &[(&str, &str)]) -> CheckResult {
        let mut c = CheckResult::simple(id, CheckKind::Network, id, Status::Pass, "");
        c.facts = facts
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        c
    }

    #[test]
    fn everything_timing_out_behind_a_proxy_is_the_proxy() {
        let mut checks: Vec<_> = (0..10)
            .map(|i| ep(&format!("h{i}.com"), Some(Cause::TcpTimeout)))
            .collect();
        checks.push(with_facts(
            "network:proxy",
            &[("proxy_configured", "yes"), ("proxy", "proxy.contoso.com:8080")],
        ));
        let f = diagnose(&checks);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "proxy-timeout");
        assert!(f[0].title.contains("proxy.contoso.com:8080"));
        // Without a proxy the same symptoms are a firewall.
        checks.pop();
        assert_eq!(diagnose(&checks)[0].id, "endpoint-blocked");
    }

    #[test]
    fn a_vpn_up_while_endpoints_fail_points_at_the_vpn() {
        let checks = vec![
            ep("a.com", Some(Cause::TcpTimeout)),
            ep("b.com", Some(Cause::DnsNxdomain)),
            ep("c.com", None),
            with_facts(
                "network:vpn",
                &[
                    ("vpn_up", "yes"),
                    ("tunnel", "full"),
                    ("vpn_interfaces", "tun0 (tun device)"),
                ],
            ),
        ];
        let f = diagnose(&checks);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "vpn-in-path");
        assert_eq!(f[0].checks.len(), 2);
        assert!(f[0].title.contains("tun0"));
        let no_vpn = vec![
            checks[0].clone(),
            checks[1].clone(),
            checks[2].clone(),
            with_facts("network:vpn", &[("vpn_up", "no")]),
        ];
        assert!(diagnose(&no_vpn).iter().all(|f| f.id != "vpn-in-path"));
    }

    #[test]
    fn every_cause_maps_to_an_existing_remediation() {
        for c in crate::model::Cause::ALL {
            let (_, rem, _) = by_cause(c);
            assert!(
                crate::diagnosis::remediation::get(rem).is_some(),
                "no remediation {rem} for {c:?}"
            );
        }
        assert!(crate::diagnosis::remediation::get("activation-blocked").is_some());
    }
}
