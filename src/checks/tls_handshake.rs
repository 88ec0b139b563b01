//! TLS 1.2: does a handshake restricted to TLS 1.2 work with the sign-in endpoints?
//!
//! Activation and sign-in need TLS 1.2. A machine, proxy or firewall that cannot do it
//! fails every handshake with Microsoft 365 once the other side insists on it, while a
//! probe that is free to use TLS 1.3 still passes — so this check offers TLS 1.2 and
//! nothing else. It goes exactly the probes' way: the same resolver, port overrides,
//! trust and proxy route, through the probe stages themselves (`probe::dns`, `probe::tcp`,
//! `probe::tls`). Beside it, the detail view shows which version each sign-in endpoint
//! negotiated in its normal probe ([`annotate`], from the endpoint results).
//!
//! A failure that is not about the protocol (no address, no connection, a rejected
//! certificate) says nothing about TLS 1.2: the endpoint checks report those, and this
//! check calls the host "not tested" (or, for a certificate, "TLS 1.2 agreed").
//!
//! Facts with stable keys:
//! - `tls12`: `works`, `fails` or `untested` (the worst over the sign-in hosts).
//! - `tls12 <host>`: what the TLS 1.2-only handshake gave for that host.
//! - `negotiated <host>`: the version the normal probe agreed on (after [`annotate`]).

use std::time::Instant;

use super::Sweep;
use crate::catalog::{Endpoint, Scheme};
use crate::model::{ms, Cause, CheckKind, CheckResult, StageName, Status};
use crate::probe::tls::{self, Versions};
use crate::probe::{tcp, tunnel, Dns, ProbeSettings};
use crate::route::Route;

/// Check id.
pub const ID: &str = "network:tls12";
const TARGET: &str = "TLS 1.2 with the sign-in endpoints";
/// Key prefix of the per-host facts, and the words their values start with.
const HOST_PREFIX: &str = "tls12 ";
const WORKS: &str = "works";
const AGREED: &str = "TLS 1.2 agreed";
const FAILS: &str = "fails:";
const UNTESTED: &str = "not tested:";

/// Entra ID sign-in hosts of every cloud instance; the check tests those in the catalog.
pub const SIGN_IN_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];

/// What the TLS 1.2-only handshake gave for one host.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The handshake completed with TLS 1.2.
    Works { cipher: String, ms: f64 },
    /// TLS 1.2 was agreed, then the certificate was rejected: a certificate problem (the
    /// endpoint check names it), not a protocol one.
    CertificateRejected { detail: String },
    /// The server or something in the path would not complete a TLS 1.2 handshake.
    Fails { cause: Cause, detail: String },
    /// The handshake was never reached (no address, no connection, proxy refused).
    Untested { why: String },
}

impl Outcome {
    /// The fact value; its first word is what [`judge`] reads.
    fn describe(&self) -> String {
        match self {
            Outcome::Works { cipher, ms } => format!("{WORKS} ({cipher}, {ms:.0} ms)"),
            Outcome::CertificateRejected { detail } => {
                format!("{AGREED}, then the certificate was rejected: {detail}")
            }
            Outcome::Fails { detail, .. } => format!("{FAILS} {detail}"),
            Outcome::Untested { why } => format!("{UNTESTED} {why}"),
        }
    }
}

/// The sign-in endpoints of the plan that this check tests (HTTPS, probed, one per host).
pub fn sign_in_endpoints(endpoints: &[Endpoint]) -> Vec<&Endpoint> {
    let mut out: Vec<&Endpoint> = Vec::new();
    for e in endpoints {
        if e.scheme == Scheme::Https
            && e.probe
            && SIGN_IN_HOSTS.contains(&e.host.as_str())
            && !out.iter().any(|o| o.host == e.host)
        {
            out.push(e);
        }
    }
    out
}

/// Runs the check: one TLS 1.2-only handshake per sign-in host, concurrently.
pub async fn check(plan: &Sweep<'_>) -> CheckResult {
    let targets: Vec<Endpoint> = sign_in_endpoints(plan.endpoints).into_iter().cloned().collect();
    if targets.is_empty() {
        return skip(
            "no Entra ID sign-in endpoint (login.microsoftonline.com, ...) is in this sweep's catalog",
        );
    }
    let settings = plan.settings;
    let dns = match Dns::new(&settings.dns, settings.timeout) {
        Ok(d) => std::sync::Arc::new(d),
        Err(why) => return skip(&format!("cannot build the resolver: {why}")),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (i, e) in targets.iter().cloned().enumerate() {
        let dns = dns.clone();
        let settings = settings.clone();
        let route = plan.routes.route_for(&e);
        tasks.spawn(async move { (i, handshake_tls12(&e, &route, &dns, &settings).await) });
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; targets.len()];
    while let Some(Ok((i, o))) = tasks.join_next().await {
        outcomes[i] = Some(o);
    }
    let results: Vec<(String, Outcome)> = targets
        .iter()
        .zip(outcomes)
        .map(|(e, o)| {
            (
                e.host.clone(),
                o.unwrap_or(Outcome::Untested {
                    why: "the test task failed".into(),
                }),
            )
        })
        .collect();
    evaluate(&results, &crate::platform::os_description())
}

/// One TLS 1.2-only handshake along the probe's route.
pub async fn handshake_tls12(e: &Endpoint, route: &Route, dns: &Dns, settings: &ProbeSettings) -> Outcome {
    let timeout = settings.timeout;
    let port = settings.port_for(e);
    let (lookup, connect_port) = match route {
        Route::Direct => (e.host.as_str(), port),
        Route::HttpProxy { addr, .. } => (addr.host.as_str(), addr.port),
    };
    let addrs = match dns.resolve(lookup, timeout).await {
        Ok(a) => a,
        Err(f) => {
            return Outcome::Untested {
                why: format!("no address for {lookup} ({})", f.detail),
            }
        }
    };
    let (mut stream, addr) = match tcp::connect(&addrs, connect_port, timeout).await {
        Ok(c) => c,
        Err(f) => {
            return Outcome::Untested {
                why: format!("no connection ({})", f.detail),
            }
        }
    };
    if let Route::HttpProxy { addr: proxy, auth } = route {
        if let Err(f) = tunnel::connect(&mut stream, proxy, auth.as_ref(), &e.host, port, timeout).await {
            return Outcome::Untested { why: f.detail };
        }
    }
    let started = Instant::now();
    match tls::handshake(stream, &e.host, &settings.trust, Versions::Tls12Only, timeout).await {
        Ok((_, info)) => Outcome::Works {
            cipher: info.cipher.unwrap_or_else(|| "?".into()),
            ms: ms(started.elapsed()),
        },
        Err(f) => match f.cause {
            Cause::TlsUntrusted | Cause::TlsWrongName | Cause::TlsExpired | Cause::TlsIntercepted => {
                Outcome::CertificateRejected { detail: f.detail }
            }
            cause => Outcome::Fails {
                cause,
                detail: format!("{} (with {addr})", f.detail),
            },
        },
    }
}

/// The check as a plain function of the per-host outcomes and this machine's OS.
pub fn evaluate(results: &[(String, Outcome)], os: &str) -> CheckResult {
    let mut r = CheckResult::simple(ID, CheckKind::Network, TARGET, Status::Skip, "");
    r.facts.push(("tls12".into(), String::new()));
    for (host, o) in results {
        r.facts.push((format!("{HOST_PREFIX}{host}"), o.describe()));
    }
    judge(&mut r, remediation_for(os, cfg!(windows)));
    r
}

/// Sets status, summary, the `tls12` verdict and the remediation from the per-host facts,
/// whose values start with a fixed word (see [`Outcome::describe`]): the gathered result
/// and its completion by [`annotate`] are judged by the same rule.
fn judge(r: &mut CheckResult, remediation: &str) {
    let hosts: Vec<(String, String)> = r
        .facts
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(HOST_PREFIX).map(|h| (h.to_string(), v.clone())))
        .collect();
    let failing: Vec<&(String, String)> = hosts.iter().filter(|(_, v)| v.starts_with(FAILS)).collect();
    let agreed = hosts
        .iter()
        .filter(|(_, v)| v.starts_with(WORKS) || v.starts_with(AGREED))
        .count();
    let (status, summary, verdict) = if let Some((_, first)) = failing.first() {
        let names: Vec<&str> = failing.iter().map(|(h, _)| h.as_str()).collect();
        let why = first.trim_start_matches(FAILS).trim();
        (
            Status::Fail,
            format!("TLS 1.2 handshake fails with {} ({why})", names.join(", ")),
            "fails",
        )
    } else if agreed > 0 {
        (
            Status::Pass,
            format!("TLS 1.2 works with {agreed} of {} sign-in hosts", hosts.len()),
            "works",
        )
    } else {
        (
            Status::Skip,
            "TLS 1.2 not tested: no sign-in host could be reached".to_string(),
            "untested",
        )
    };
    r.status = status;
    r.summary = summary;
    r.remediation = (status == Status::Fail).then(|| remediation.to_string());
    for (k, v) in r.facts.iter_mut() {
        if k == "tls12" {
            *v = verdict.to_string();
        }
    }
}

/// On an old Windows (7, 8, 8.1, Server 2008 R2 and 2012) the usual cause is TLS 1.2 not
/// switched on; elsewhere the handshake fails for reasons the general entry covers. The
/// test itself runs in this program's TLS stack, not Windows', so only the OS version can
/// point at the Windows settings.
pub fn remediation_for(os: &str, windows: bool) -> &'static str {
    let old = [
        "Windows 7",
        "Windows 8",
        "Windows Vista",
        "Server 2008",
        "Server 2012",
    ];
    if windows && old.iter().any(|v| os.contains(v)) {
        "tls12-old-windows"
    } else {
        "tls-handshake"
    }
}

/// Adds what the normal probes of the sign-in hosts negotiated, from this sweep's
/// endpoint results, to the gathered `network:tls12` result. A TLS 1.2 failure on a host
/// whose normal probe failed as well (a reset, a dead server) is not about TLS 1.2: it
/// becomes "not tested" and the check is judged again.
pub fn annotate(check: &mut CheckResult, endpoints: &[CheckResult]) {
    let mut rejudge = false;
    let mut added = Vec::new();
    for (key, value) in check.facts.iter_mut() {
        let Some(host) = key.strip_prefix(HOST_PREFIX) else {
            continue;
        };
        let probe = endpoints.iter().find(|c| {
            c.kind == CheckKind::Endpoint
                && c.id.trim_start_matches("endpoint:").split('/').next() == Some(host)
        });
        let Some(probe) = probe else { continue };
        let negotiated = match probe.tls.as_ref().and_then(|t| t.version.clone()) {
            Some(v) => v,
            None => match probe.failing_stage() {
                Some(stage) => {
                    if value.starts_with(FAILS) && matches!(stage.name, StageName::Tcp | StageName::Tls) {
                        *value = format!(
                            "{UNTESTED} the normal probe fails too ({}: {}), so this says nothing about TLS 1.2",
                            stage.name.as_str(),
                            stage.detail
                        );
                        rejudge = true;
                    }
                    format!("no handshake completed (failed at {})", stage.name.as_str())
                }
                None => "not negotiated".to_string(),
            },
        };
        added.push((format!("negotiated {host}"), negotiated));
    }
    check.facts.extend(added);
    if rejudge {
        let remediation = check
            .remediation
            .clone()
            .unwrap_or_else(|| "tls-handshake".into());
        judge(check, &remediation);
    }
}

fn skip(why: &str) -> CheckResult {
    let mut r = CheckResult::simple(ID, CheckKind::Network, TARGET, Status::Skip, why);
    r.facts.push(("tls12".into(), "untested".into()));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StageResult, TlsInfo};

    fn works() -> Outcome {
        Outcome::Works {
            cipher: "TLS13_AES_128_GCM_SHA256".into(),
            ms: 12.0,
        }
    }

    fn fact<'a>(r: &'a CheckResult, key: &str) -> &'a str {
        r.facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} in {:?}", r.facts))
    }

    #[test]
    fn all_working_passes() {
        let r = evaluate(
            &[
                ("login.microsoftonline.com".into(), works()),
                ("login.windows.net".into(), works()),
            ],
            "Linux",
        );
        assert_eq!(r.status, Status::Pass);
        assert_eq!(fact(&r, "tls12"), "works");
        assert!(fact(&r, "tls12 login.windows.net").starts_with("works"));
        assert_eq!(r.remediation, None);
    }

    #[test]
    fn one_failing_host_fails_with_remediation() {
        let fails = Outcome::Fails {
            cause: Cause::TlsHandshake,
            detail: "the server ended the handshake with alert ProtocolVersion".into(),
        };
        let r = evaluate(
            &[
                ("login.microsoftonline.com".into(), works()),
                ("login.microsoft.com".into(), fails),
            ],
            "Linux",
        );
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.summary.contains("login.microsoft.com") && r.summary.contains("ProtocolVersion"),
            "{}",
            r.summary
        );
        assert_eq!(fact(&r, "tls12"), "fails");
        assert_eq!(r.remediation.as_deref(), Some("tls-handshake"));
    }

    #[test]
    fn unreachable_hosts_are_not_tested_not_passed() {
        let r = evaluate(
            &[(
                "login.microsoftonline.com".into(),
                Outcome::Untested {
                    why: "no connection".into(),
                },
            )],
            "Linux",
        );
        assert_eq!(r.status, Status::Skip);
        assert_eq!(fact(&r, "tls12"), "untested");
    }

    #[test]
    fn a_rejected_certificate_still_shows_tls12_was_agreed() {
        let cert = Outcome::CertificateRejected {
            detail: "untrusted".into(),
        };
        let r = evaluate(&[("login.microsoftonline.com".into(), cert)], "Linux");
        assert_eq!(r.status, Status::Pass);
        assert!(fact(&r, "tls12 login.microsoftonline.com").contains("certificate was rejected"));
    }

    #[test]
    fn old_windows_points_at_the_tls12_switch() {
        assert_eq!(
            remediation_for("Windows 7 Professional", true),
            "tls12-old-windows"
        );
        assert_eq!(
            remediation_for("Windows Server 2012 R2 Datacenter", true),
            "tls12-old-windows"
        );
        assert_eq!(remediation_for("Windows 11 Pro", true), "tls-handshake");
        assert_eq!(
            remediation_for("Windows 7", false),
            "tls-handshake",
            "only on Windows itself"
        );
    }

    #[test]
    fn targets_are_the_sign_in_hosts_once_each() {
        let mut eps = crate::catalog::Catalog::builtin().endpoints;
        eps.push(Endpoint::new(
            "login.microsoftonline.com",
            Scheme::Https,
            "/other",
        ));
        let hosts: Vec<&str> = sign_in_endpoints(&eps).iter().map(|e| e.host.as_str()).collect();
        assert_eq!(hosts.len(), 3, "{hosts:?}");
        for h in [
            "login.microsoftonline.com",
            "login.microsoft.com",
            "login.windows.net",
        ] {
            assert!(hosts.contains(&h), "{hosts:?}");
        }
    }

    #[test]
    fn a_failure_the_normal_probe_shares_is_not_about_tls12() {
        let fails = || Outcome::Fails {
            cause: Cause::TcpReset,
            detail: "connection reset during the TLS handshake".into(),
        };
        let mut r = evaluate(
            &[
                ("login.microsoftonline.com".into(), fails()),
                ("login.windows.net".into(), fails()),
            ],
            "Linux",
        );
        assert_eq!(r.status, Status::Fail);
        let mut reset = CheckResult::simple(
            "endpoint:login.microsoftonline.com",
            CheckKind::Endpoint,
            "",
            Status::Fail,
            "",
        );
        reset.stages.push(StageResult {
            name: StageName::Tls,
            status: Status::Fail,
            ms: 1.0,
            detail: "connection reset during the TLS handshake".into(),
            cause: Some(Cause::TcpReset),
        });
        let mut fine = CheckResult::simple(
            "endpoint:login.windows.net",
            CheckKind::Endpoint,
            "",
            Status::Pass,
            "",
        );
        fine.tls = Some(TlsInfo {
            version: Some("TLS 1.3".into()),
            ..Default::default()
        });
        // One host fails only with TLS 1.2: still a failure, and only that host is named.
        let mut one = r.clone();
        annotate(&mut one, &[reset.clone(), fine]);
        assert_eq!(one.status, Status::Fail);
        assert!(
            one.summary
                .starts_with("TLS 1.2 handshake fails with login.windows.net ("),
            "{}",
            one.summary
        );
        assert!(fact(&one, "tls12 login.microsoftonline.com")
            .starts_with("not tested: the normal probe fails too (tls:"));
        assert_eq!(one.remediation.as_deref(), Some("tls-handshake"));
        // Both hosts fail the same way in the normal probe: nothing is known about TLS 1.2.
        let mut reset2 = reset.clone();
        reset2.id = "endpoint:login.windows.net".into();
        annotate(&mut r, &[reset, reset2]);
        assert_eq!(
            (r.status, fact(&r, "tls12")),
            (Status::Skip, "untested"),
            "{}",
            r.summary
        );
        assert_eq!(r.remediation, None);
    }

    #[test]
    fn annotate_adds_the_normal_probe_versions() {
        let mut r = evaluate(
            &[
                ("login.microsoftonline.com".into(), works()),
                ("login.windows.net".into(), works()),
            ],
            "Linux",
        );
        let mut ok = CheckResult::simple(
            "endpoint:login.microsoftonline.com",
            CheckKind::Endpoint,
            "",
            Status::Pass,
            "",
        );
        ok.tls = Some(TlsInfo {
            version: Some("TLS 1.3".into()),
            ..Default::default()
        });
        let mut failed = CheckResult::simple(
            "endpoint:login.windows.net",
            CheckKind::Endpoint,
            "",
            Status::Fail,
            "",
        );
        failed.stages.push(StageResult {
            name: StageName::Tcp,
            status: Status::Fail,
            ms: 1.0,
            detail: "timed out".into(),
            cause: None,
        });
        annotate(&mut r, &[ok, failed]);
        assert_eq!(fact(&r, "negotiated login.microsoftonline.com"), "TLS 1.3");
        assert_eq!(
            fact(&r, "negotiated login.windows.net"),
            "no handshake completed (failed at tcp)"
        );
    }
}
