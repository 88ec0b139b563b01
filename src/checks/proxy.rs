//! `network:proxy`: which proxy settings this machine has, where each comes from, whether
//! they agree, and whether the proxy the probes use lets Microsoft 365 through.
//!
//! The settings come from this sweep's [`RoutePlan`] (its [`Discovery`] of the machine's
//! sources, and what decided the probes' routes). Then the proxy in use is tried with a
//! `CONNECT` to a Microsoft 365 endpoint: an unreachable proxy, a 407 (credentials
//! wanted) and a 403 block page each have their own remediation. The same failures also
//! show on the endpoints themselves, because the probes take the same routes.
//!
//! Proxy URLs may carry `user:password@`; every text made here is redacted.

use std::time::{Duration, Instant};

use super::Sweep;
use crate::catalog::Scheme;
use crate::model::{
    is_windows_integrated, ms, Cause, CheckKind, CheckResult, PrivateKind, PrivateName, Status,
};
use crate::probe::http::asks_for;
use crate::probe::{tcp, tunnel, Dns};
use crate::route::{Discovery, Route, RoutePlan, RouteSettings};

/// Check id.
pub const ID: &str = "network:proxy";
/// How long the tunnel test may take at most, whatever the stage timeouts.
const TEST_CAP: Duration = Duration::from_secs(10);

/// How a tunnel through the proxy went.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TunnelTest {
    proxy: String,
    target: String,
    outcome: Result<(), (Cause, String)>,
    /// The schemes the proxy offered with a 407 (`Negotiate`, `NTLM`, `Basic`).
    schemes: Vec<String>,
}

/// The `network:proxy` check.
pub async fn check(plan: &Sweep<'_>) -> CheckResult {
    let started = Instant::now();
    let test = match tokio::time::timeout(TEST_CAP, try_tunnel(plan)).await {
        Ok(t) => t,
        Err(_) => Some(TunnelTest {
            proxy: plan.routes.source(),
            target: "Microsoft 365".into(),
            outcome: Err((
                Cause::TcpTimeout,
                format!("no answer within {} s", TEST_CAP.as_secs()),
            )),
            schemes: Vec::new(),
        }),
    };
    let mut r = judge(
        &plan.routes.discovery,
        plan.routes,
        plan.checks.lab,
        test.as_ref(),
    );
    r.duration_ms = ms(started.elapsed());
    r
}

/// Opens a tunnel through the proxy to the first HTTPS endpoint the probes send through
/// one; `None` when no endpoint goes through a proxy (or a PAC file decides).
async fn try_tunnel(plan: &Sweep<'_>) -> Option<TunnelTest> {
    let settings = &plan.settings;
    let (endpoint, addr, auth) = plan
        .endpoints
        .iter()
        .filter(|e| e.probe && e.scheme == Scheme::Https)
        .find_map(|e| match plan.routes.route_for(e) {
            Route::HttpProxy { addr, auth } => Some((e, addr, auth)),
            Route::Direct => None,
        })?;
    let port = settings.port_for(endpoint);
    let target = format!("{}:{port}", endpoint.host);
    let proxy = addr.to_string();
    let fail = |cause, why: String| {
        Some(TunnelTest {
            proxy: proxy.clone(),
            target: target.clone(),
            outcome: Err((cause, why)),
            schemes: Vec::new(),
        })
    };
    let resolver = match Dns::new(&settings.dns, settings.timeout) {
        Ok(r) => r,
        Err(why) => return fail(Cause::DnsServfail, why),
    };
    let ips = match resolver.resolve(&addr.host, settings.timeout).await {
        Ok(ips) => ips,
        Err(f) => {
            return fail(
                f.cause,
                format!("cannot resolve the proxy's name {}: {}", addr.host, f.detail),
            )
        }
    };
    let mut stream = match tcp::connect(&ips, addr.port, settings.timeout).await {
        Ok((s, _)) => s,
        Err(f) => return fail(f.cause, f.detail),
    };
    let (outcome, schemes) = match tunnel::connect(
        &mut stream,
        &addr,
        auth.as_ref(),
        &endpoint.host,
        port,
        settings.timeout,
    )
    .await
    {
        Ok(()) => (Ok(()), Vec::new()),
        Err(f) => {
            let schemes = f.http.map(|h| h.proxy_authenticate).unwrap_or_default();
            (Err((f.cause, f.detail)), schemes)
        }
    };
    Some(TunnelTest {
        proxy,
        target,
        outcome,
        schemes,
    })
}

/// The check's result from the facts: a plain function, tested without a network.
fn judge(discovery: &Discovery, routes: &RoutePlan, lab: bool, test: Option<&TunnelTest>) -> CheckResult {
    let mut facts = Vec::new();
    let machine_note = if lab {
        " (this machine; not used while monitoring a lab)"
    } else {
        ""
    };
    for s in &discovery.sources {
        let shown = match &s.setting {
            Ok(setting) => setting.describe(),
            Err(why) => format!("cannot read: {why}"),
        };
        facts.push((format!("{}{machine_note}", s.name), shown));
    }
    for (k, v) in &discovery.env_vars {
        facts.push((format!("{k}{machine_note}"), v.clone()));
    }
    facts.push(("probes use".into(), routes.source()));
    // Machine-readable facts for the findings rules: is a proxy in the path, and which.
    let configured = !routes.is_direct();
    facts.push((
        "proxy_configured".into(),
        if configured { "yes" } else { "no" }.into(),
    ));
    if let Some(p) = test.map(|t| t.proxy.clone()).or_else(|| routes.proxy_in_use()) {
        facts.push(("proxy".into(), p));
    }
    let mismatch = if lab { None } else { discovery.mismatch() };
    if let Some(m) = &mismatch {
        facts.push(("mismatch".into(), m.clone()));
    }

    let (mut status, mut remediation) = (Status::Pass, None);
    let mut summary: String;
    match test {
        Some(t) => {
            facts.push((
                "tunnel test".into(),
                format!("CONNECT {} via {}", t.target, t.proxy),
            ));
            match &t.outcome {
                Ok(()) => summary = format!("proxy {} tunnels to Microsoft 365 ({})", t.proxy, t.target),
                Err((cause, why)) => {
                    status = Status::Fail;
                    facts.push(("error".into(), why.clone()));
                    if !t.schemes.is_empty() {
                        facts.push(("proxy_auth_schemes".into(), t.schemes.join(", ")));
                    }
                    let integrated = t.schemes.iter().any(|s| is_windows_integrated(s));
                    let (text, rem) = match cause {
                        Cause::HttpProxyAuth => (
                            format!("proxy {} asks for {} (HTTP 407)", t.proxy, asks_for(&t.schemes)),
                            if integrated {
                                "proxy-auth-windows"
                            } else {
                                "proxy-auth"
                            },
                        ),
                        Cause::HttpBlocked => (
                            format!("proxy {} blocks Microsoft 365 (HTTP 403)", t.proxy),
                            "proxy-block",
                        ),
                        c if c.stage() == Some(crate::model::StageName::Tcp)
                            || c.stage() == Some(crate::model::StageName::Dns) =>
                        {
                            (format!("proxy {} is unreachable: {why}", t.proxy), "proxy")
                        }
                        _ => (
                            format!("proxy {} does not tunnel to Microsoft 365: {why}", t.proxy),
                            "proxy",
                        ),
                    };
                    summary = text;
                    remediation = Some(rem);
                }
            }
        }
        None => {
            summary = match &routes.settings {
                RouteSettings::Direct | RouteSettings::Machine => "no proxy: connections go direct".into(),
                RouteSettings::Pac { .. } => {
                    format!(
                        "routes decided by a PAC file ({}); see {}",
                        routes.source(),
                        super::pac::ID
                    )
                }
                RouteSettings::Static { .. } => format!(
                    "proxy configured ({}) but every endpoint bypasses it",
                    routes.source()
                ),
            }
        }
    }
    if let (Some(m), Status::Pass) = (&mismatch, status) {
        status = Status::Warn;
        summary = m.clone();
        remediation = Some("proxy");
    }
    let mut r = CheckResult::simple(ID, CheckKind::Network, "proxy settings", status, summary);
    r.facts = facts;
    r.remediation = remediation.map(str::to_string);
    r.private = private_names(discovery, routes, test);
    r
}

/// The proxy and PAC hosts (and credentials) this check read from the machine or the
/// routes, for `--redact`.
fn private_names(discovery: &Discovery, routes: &RoutePlan, test: Option<&TunnelTest>) -> Vec<PrivateName> {
    let mut names = Vec::new();
    for s in &discovery.sources {
        if let Ok(setting) = &s.setting {
            for url in [&setting.https, &setting.http].into_iter().flatten() {
                names.extend(PrivateName::from_url(PrivateKind::Proxy, url));
            }
            if let Some(pac) = &setting.pac_url {
                names.extend(PrivateName::from_url(PrivateKind::Pac, pac));
            }
        }
    }
    for (k, v) in &discovery.env_vars {
        if !k.to_ascii_uppercase().starts_with("NO_") {
            names.extend(PrivateName::from_url(PrivateKind::Proxy, v));
        }
    }
    if let RouteSettings::Static { .. } = routes.settings {
        if let Some(p) = routes.proxy_in_use() {
            names.extend(PrivateName::from_url(PrivateKind::Proxy, &p));
        }
    }
    if let Some(t) = test {
        names.extend(PrivateName::from_url(PrivateKind::Proxy, &t.proxy));
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::proxy::test_env as env;
    use crate::platform::proxy::ProxySetting;
    use crate::route::discovery::{ProxySource, WINHTTP, WININET};

    fn direct() -> RoutePlan {
        RoutePlan::fixed(RouteSettings::Direct)
    }

    #[test]
    fn credentials_are_redacted_in_every_fact() {
        let d = Discovery::from_parts(
            env(&[
                ("HTTPS_PROXY", "http://alice:Hunter2@proxy.contoso.com:8080"),
                ("no_proxy", "localhost"),
            ]),
            vec![],
        );
        let routes = RoutePlan::fixed(d.settings());
        let test = TunnelTest {
            proxy: "proxy.contoso.com:8080".into(),
            target: "login.microsoftonline.com:443".into(),
            outcome: Err((Cause::HttpProxyAuth, "HTTP 407".into())),
            schemes: vec!["Basic".into()],
        };
        let r = judge(&d, &routes, false, Some(&test));
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("Hunter2") && !text.contains("alice"), "{text}");
        assert!(
            text.contains("http://<credentials>@proxy.contoso.com:8080"),
            "{text}"
        );
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.remediation.as_deref(), Some("proxy-auth"));
    }

    #[test]
    fn outcomes_pick_their_remediation() {
        let d = Discovery::default();
        let routes = RoutePlan::fixed(RouteSettings::single(
            Route::from_proxy_url("p:3128").unwrap(),
            "lab",
        ));
        let outcome = |o| TunnelTest {
            proxy: "p:3128".into(),
            target: "a:443".into(),
            outcome: o,
            schemes: Vec::new(),
        };
        let r = judge(&d, &routes, true, Some(&outcome(Ok(()))));
        assert_eq!((r.status, r.remediation.as_deref()), (Status::Pass, None));
        for (cause, rem, words) in [
            (Cause::HttpProxyAuth, "proxy-auth", "credentials"),
            (Cause::HttpBlocked, "proxy-block", "blocks"),
            (Cause::TcpRefused, "proxy", "unreachable"),
            (Cause::Other, "proxy", "does not tunnel"),
        ] {
            let r = judge(&d, &routes, true, Some(&outcome(Err((cause, "why".into())))));
            assert_eq!(
                (r.status, r.remediation.as_deref()),
                (Status::Fail, Some(rem)),
                "{cause:?}"
            );
            assert!(r.summary.contains(words), "{}", r.summary);
        }
        let fact =
            |r: &CheckResult, k: &str| r.facts.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let r = judge(&d, &routes, true, Some(&outcome(Ok(()))));
        assert_eq!(fact(&r, "proxy_configured").as_deref(), Some("yes"));
        assert_eq!(fact(&r, "proxy").as_deref(), Some("p:3128"));
        // A 407 offering Negotiate or NTLM says so, keeps the schemes, and leads to the
        // entry for Windows integrated sign-in; Basic keeps the plain credentials entry.
        for (schemes, rem, words) in [
            (
                vec!["Negotiate", "NTLM"],
                "proxy-auth-windows",
                "asks for Negotiate (Kerberos/Windows) or NTLM (Windows) credentials",
            ),
            (
                vec!["NTLM"],
                "proxy-auth-windows",
                "asks for NTLM (Windows) credentials",
            ),
            (
                vec!["Basic"],
                "proxy-auth",
                "asks for Basic (name and password) credentials",
            ),
        ] {
            let t = TunnelTest {
                schemes: schemes.iter().map(|s| s.to_string()).collect(),
                ..outcome(Err((Cause::HttpProxyAuth, "HTTP 407".into())))
            };
            let r = judge(&d, &routes, true, Some(&t));
            assert_eq!(r.remediation.as_deref(), Some(rem), "{schemes:?}");
            assert!(r.summary.contains(words), "{}", r.summary);
            assert_eq!(
                fact(&r, "proxy_auth_schemes").as_deref(),
                Some(schemes.join(", ").as_str())
            );
        }
        let r = judge(&d, &direct(), false, None);
        assert_eq!(r.status, Status::Pass);
        assert!(r.summary.contains("direct"));
        assert_eq!(fact(&r, "proxy_configured").as_deref(), Some("no"));
        assert_eq!(fact(&r, "proxy"), None);
    }

    #[test]
    fn a_mismatch_is_a_warning_unless_monitoring_a_lab() {
        let user = ProxySource {
            name: WININET,
            setting: Ok(ProxySetting::from_windows(Some("p:8080"), None, None, false)),
        };
        let machine = ProxySource {
            name: WINHTTP,
            setting: Ok(ProxySetting::default()),
        };
        let d = Discovery::from_parts(env(&[]), vec![user, machine]);
        let r = judge(&d, &direct(), false, None);
        assert_eq!(
            (r.status, r.remediation.as_deref()),
            (Status::Warn, Some("proxy"))
        );
        assert!(r.summary.contains("works in the browser, fails in Office"));
        assert_eq!(judge(&d, &direct(), true, None).status, Status::Pass);
    }
}
