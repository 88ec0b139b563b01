//! `network:ncsi`: Windows' network connectivity status indicator, checked the way
//! Windows checks it.
//!
//! Windows fetches `http://www.msftconnecttest.com/connecttest.txt` (the body must be
//! exactly `Microsoft Connect Test`) and resolves `dns.msftncsi.com` (it must be
//! 131.107.255.255). When either fails Windows shows "No internet", and Office, which
//! trusts that status, may refuse to sign in while websites work. A redirect or other
//! content is the mark of a captive portal or a proxy's login page.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use super::Sweep;
use crate::catalog::{Endpoint, Scheme};
use crate::http::get::{self, Fetched, Via};
use crate::model::{ms, Cause, CheckKind, CheckResult, Status};
use crate::probe::Dns;
use crate::route::Route;

/// Check id.
pub const ID: &str = "network:ncsi";
pub const PROBE_HOST: &str = "www.msftconnecttest.com";
pub const PROBE_PATH: &str = "/connecttest.txt";
pub const EXPECTED_BODY: &str = "Microsoft Connect Test";
pub const DNS_HOST: &str = "dns.msftncsi.com";
pub const DNS_ADDR: Ipv4Addr = Ipv4Addr::new(131, 107, 255, 255);
/// Enough to recognise a portal page; the expected body is 22 bytes.
const MAX_BODY: usize = 16 * 1024;

/// The `network:ncsi` check.
pub async fn check(plan: &Sweep<'_>) -> CheckResult {
    let started = Instant::now();
    let settings = &plan.settings;
    // Whether each half failed at name resolution, and how: when both did, the check's
    // cause says so, and a DNS root cause explains it.
    let mut dns_causes: [Option<Cause>; 2] = [None, None];
    let (fetched, lookup) = match Dns::new(&settings.dns, settings.timeout) {
        Err(why) => (Err(why.clone()), Err(why)),
        Ok(resolver) => {
            let probe = Endpoint::new(PROBE_HOST, Scheme::Http, PROBE_PATH);
            let route = plan.routes.route_for(&probe);
            let port = settings.port_for(&probe);
            let fetch = async {
                let authorization = match &route {
                    Route::HttpProxy { auth: Some(a), .. } => Some(a.header_value()),
                    _ => None,
                };
                let via = match &route {
                    Route::Direct => {
                        let ips = resolver
                            .resolve(PROBE_HOST, settings.timeout)
                            .await
                            .map_err(|f| {
                                dns_causes[0] = Some(f.cause);
                                f.detail
                            })?;
                        Via::Direct(SocketAddr::new(ips[0], port))
                    }
                    // The proxy's name through the sweep's resolver, as the probes
                    // look it up (never the system's behind the monitor's back).
                    Route::HttpProxy { addr, .. } => {
                        let ips = resolver
                            .resolve(&addr.host, settings.timeout)
                            .await
                            .map_err(|f| {
                                format!("cannot resolve the proxy's name {}: {}", addr.host, f.detail)
                            })?;
                        Via::Proxy {
                            name: &addr.host,
                            addr: SocketAddr::new(ips[0], addr.port),
                            authorization: authorization.as_deref(),
                        }
                    }
                };
                get::get(PROBE_HOST, port, PROBE_PATH, via, settings.timeout, MAX_BODY).await
            };
            let lookup = async { resolver.resolve(DNS_HOST, settings.timeout).await };
            let (fetched, lookup) = tokio::join!(fetch, lookup);
            let lookup = lookup.map_err(|f| {
                dns_causes[1] = Some(f.cause);
                f.detail
            });
            (fetched, lookup)
        }
    };
    let mut r = judge(fetched, lookup);
    if let [Some(_), Some(cause)] = dns_causes {
        r.cause = Some(cause);
    }
    r.duration_ms = ms(started.elapsed());
    r
}

/// The check's result from the probe's answer and the name lookup.
fn judge(fetched: Result<Fetched, String>, lookup: Result<Vec<IpAddr>, String>) -> CheckResult {
    let url = format!("http://{PROBE_HOST}{PROBE_PATH}");
    let mut facts = Vec::new();
    let mut problems = Vec::new();
    // What a proxy's answer means, so a proxy root cause can explain this check too.
    let mut cause = None;
    match &fetched {
        Err(why) => {
            facts.push((url.clone(), format!("failed: {why}")));
            problems.push(format!("the probe URL cannot be fetched ({why})"));
        }
        Ok(f) if (300..400).contains(&f.status) => {
            let to = f.location.clone().unwrap_or_else(|| "somewhere else".into());
            facts.push((url.clone(), format!("HTTP {} redirect to {to}", f.status)));
            problems.push(format!("captive portal: the probe URL redirects to {to}"));
        }
        Ok(f) if f.status == 407 => {
            facts.push((url.clone(), "HTTP 407 (proxy authentication required)".into()));
            problems.push("a proxy asks for credentials before the probe URL".into());
            cause = Some(Cause::HttpProxyAuth);
        }
        // A refusal, not a portal: portals redirect or serve their page with a 200. The
        // probe URL's own server never forbids it, so a 403 is a proxy's or filter's.
        Ok(f) if f.status == 403 => {
            let start = String::from_utf8_lossy(&f.body[..f.body.len().min(80)]).replace(['\r', '\n'], " ");
            facts.push((
                url.clone(),
                format!("HTTP 403, {} bytes: {}", f.body.len(), start.trim()),
            ));
            problems.push("a proxy or filter blocks the probe URL (HTTP 403)".into());
            cause = Some(Cause::HttpBlocked);
        }
        Ok(f) if f.status == 200 && f.body == EXPECTED_BODY.as_bytes() => {
            facts.push((url.clone(), format!("HTTP 200 \"{EXPECTED_BODY}\"")));
        }
        Ok(f) => {
            let start = String::from_utf8_lossy(&f.body[..f.body.len().min(80)]).replace(['\r', '\n'], " ");
            facts.push((
                url.clone(),
                format!("HTTP {}, {} bytes: {}", f.status, f.body.len(), start.trim()),
            ));
            problems.push(format!(
                "captive portal or proxy page: the probe URL answered HTTP {} with other content",
                f.status
            ));
        }
    }
    match &lookup {
        Err(why) => {
            facts.push((DNS_HOST.into(), format!("failed: {why}")));
            problems.push(format!("{DNS_HOST} does not resolve ({why})"));
        }
        Ok(ips) => {
            let shown = ips.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ");
            facts.push((DNS_HOST.into(), shown.clone()));
            if !ips.contains(&IpAddr::V4(DNS_ADDR)) {
                problems.push(format!("{DNS_HOST} resolves to {shown}, not {DNS_ADDR}"));
            }
        }
    }
    let (status, summary) = match problems.first() {
        None => (Status::Pass, "Windows' connectivity probe succeeds".to_string()),
        Some(first) => (Status::Fail, format!("Windows will report no internet: {first}")),
    };
    let mut r = CheckResult::simple(ID, CheckKind::Network, url, status, summary);
    r.facts = facts;
    if status != Status::Pass {
        r.remediation = Some("ncsi".into());
        if problems.len() == 1 {
            r.cause = cause;
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn got(status: u16, location: Option<&str>, body: &str) -> Result<Fetched, String> {
        Ok(Fetched {
            status,
            location: location.map(Into::into),
            etag: None,
            last_modified: None,
            body: body.as_bytes().to_vec(),
            truncated: false,
        })
    }

    fn ok_dns() -> Result<Vec<IpAddr>, String> {
        Ok(vec![IpAddr::V4(DNS_ADDR)])
    }

    #[test]
    fn exact_body_and_address_pass() {
        let r = judge(got(200, None, EXPECTED_BODY), ok_dns());
        assert_eq!((r.status, r.remediation), (Status::Pass, None));
    }

    #[test]
    fn portals_and_wrong_answers_fail_with_the_ncsi_remediation() {
        let cases = [
            (
                got(302, Some("http://portal.hotel.example/login"), ""),
                ok_dns(),
                "redirects to http://portal.hotel.example/login",
            ),
            (
                got(200, None, "<html>Sign in to Wi-Fi</html>"),
                ok_dns(),
                "other content",
            ),
            (
                got(200, None, "Microsoft Connect Test\n"),
                ok_dns(),
                "other content",
            ),
            (Err("connection refused".into()), ok_dns(), "cannot be fetched"),
            (
                got(407, None, "Proxy authentication required"),
                ok_dns(),
                "asks for credentials",
            ),
            (
                got(403, None, "<html>Access Denied: blocked by policy</html>"),
                ok_dns(),
                "a proxy or filter blocks the probe URL (HTTP 403)",
            ),
            (
                got(200, None, EXPECTED_BODY),
                Ok(vec!["10.0.0.1".parse().unwrap()]),
                "not 131.107.255.255",
            ),
            (
                got(200, None, EXPECTED_BODY),
                Err("NXDOMAIN".into()),
                "does not resolve",
            ),
        ];
        for (fetched, lookup, words) in cases {
            let r = judge(fetched, lookup);
            assert_eq!((r.status, r.remediation.as_deref()), (Status::Fail, Some("ncsi")));
            assert!(r.summary.contains(words), "{}", r.summary);
        }
    }

    #[test]
    fn a_proxy_403_or_407_is_named_as_the_proxy_not_a_captive_portal() {
        let r = judge(got(403, None, "<html>Access Denied</html>"), ok_dns());
        assert!(!r.summary.contains("captive portal"), "{}", r.summary);
        assert_eq!(r.cause, Some(Cause::HttpBlocked));
        let r = judge(got(407, None, ""), ok_dns());
        assert_eq!(r.cause, Some(Cause::HttpProxyAuth));
    }
}
