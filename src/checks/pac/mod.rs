//! `network:pac`: the proxy auto-configuration file, fetched and run the way Windows and
//! browsers run it, with the route it gives each endpoint.
//!
//! Many networks send Microsoft 365 direct and everything else through a proxy with a PAC
//! file; a PAC file that cannot be downloaded, throws, or sends a sign-in host to the
//! wrong proxy breaks Office while the browser (which may cache an older copy) works.
//! The same evaluation decides the probes' routes for each sweep
//! ([`plan_for_sweep`]), so what the check shows is what the probes did.

pub mod engine;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::catalog::Endpoint;
use crate::engine::monitor::SweepPlan;
use crate::model::{ms, CheckKind, CheckResult, Status};
use crate::probe::route::{self, redact_credentials, Route, RoutePlan};
use crate::probe::{Dns, DnsChoice, ProbeSettings};
pub use engine::PacError;

/// Check id.
pub const ID: &str = "network:pac";
/// The largest PAC file accepted; real ones are a few kilobytes.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Wall-clock limit for loading the file and for each `FindProxyForURL` call.
pub const CALL_LIMIT: Duration = Duration::from_millis(200);
/// Rounds of "run, resolve the names it asked for, run again".
const MAX_ROUNDS: usize = 3;

/// What the PAC file decided for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub url: String,
    /// `FindProxyForURL`'s answer, or why there is none.
    pub answer: Result<String, PacError>,
    /// The route taken: the first usable entry of the answer; `Direct` when none is.
    pub route: Route,
    /// Entries skipped, or why the answer could not be used.
    pub note: Option<String>,
}

/// Reads `FindProxyForURL`'s answer (`"PROXY a:8080; PROXY b:8080; DIRECT"`): the first
/// entry a probe can use wins, as a client would fall over to the next entry.
pub fn parse_answer(answer: &str) -> Result<(Route, Option<String>), String> {
    let mut skipped = Vec::new();
    for entry in answer.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let mut words = entry.split_whitespace();
        let kind = words.next().unwrap_or("").to_ascii_uppercase();
        let target = words.next().unwrap_or("");
        let note = || (!skipped.is_empty()).then(|| format!("skipped: {}", skipped.join("; ")));
        match kind.as_str() {
            "DIRECT" => return Ok((Route::Direct, note())),
            "PROXY" | "HTTP" => match Route::from_proxy_url(target) {
                Ok(r) => return Ok((r, note())),
                Err(why) => skipped.push(format!("{entry} ({why})")),
            },
            "SOCKS" | "SOCKS4" | "SOCKS5" | "HTTPS" | "QUIC" => {
                skipped.push(format!("{entry} (not supported)"))
            }
            _ => skipped.push(format!("{entry} (not a PAC route)")),
        }
    }
    Err(if skipped.is_empty() {
        "empty answer".into()
    } else {
        format!("no usable route: {}", skipped.join("; "))
    })
}

/// Downloads the PAC file (plain HTTP, direct, at most [`MAX_BYTES`]).
pub async fn fetch(url: &str, resolver: &Dns, timeout: Duration) -> Result<String, String> {
    let shown = redact_credentials(url);
    // A local PAC file (`--pac-url file:///path`), for trying a new PAC before deploying it.
    if let Some(path) = url.strip_prefix("file://") {
        let bytes = tokio::fs::read(path).await.map_err(|e| format!("{shown}: {e}"))?;
        if bytes.len() > MAX_BYTES {
            return Err(format!("{shown} is larger than {} KiB", MAX_BYTES / 1024));
        }
        return String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"));
    }
    let (host, port, path) = route::split_http_url(url)?;
    let addrs = resolver
        .resolve(&host, timeout)
        .await
        .map_err(|f| format!("cannot resolve {host}: {}", f.detail))?;
    let addr = SocketAddr::new(addrs[0], port);
    let got = route::http_get(&host, port, &path, &Route::Direct, Some(addr), timeout, MAX_BYTES)
        .await
        .map_err(|e| format!("{shown}: {e}"))?;
    if got.status != 200 {
        return Err(format!("{shown} answered HTTP {}", got.status));
    }
    if got.truncated {
        return Err(format!("{shown} is larger than {} KiB", MAX_BYTES / 1024));
    }
    String::from_utf8(got.body).map_err(|_| format!("{shown} is not UTF-8 text"))
}

/// Runs the PAC file for every probed endpoint, resolving the names it asks for with the
/// sweep's resolver. `Err` when the file cannot be loaded at all.
pub async fn evaluate(
    script: &str,
    endpoints: &[Endpoint],
    resolver: &Dns,
    timeout: Duration,
    my_ip: IpAddr,
) -> Result<Vec<Decision>, PacError> {
    let queries: Vec<(String, String)> = endpoints
        .iter()
        .filter(|e| e.probe)
        .map(|e| (e.url(), e.host.clone()))
        .collect();
    let now = chrono::Local::now();
    let mut env = engine::Environment {
        names: HashMap::new(),
        my_ip,
        now_local: now.naive_local(),
        now_utc: now.naive_utc(),
    };
    let mut round = 0;
    let run = loop {
        round += 1;
        let (script, queries, env_now) = (script.to_string(), queries.clone(), env.clone());
        let run = tokio::task::spawn_blocking(move || engine::run(&script, &queries, &env_now, CALL_LIMIT))
            .await
            .map_err(|e| PacError::Script(format!("the PAC evaluation stopped: {e}")))?;
        if run.misses.is_empty() || round >= MAX_ROUNDS {
            break run;
        }
        for name in &run.misses {
            let ip = resolver
                .resolve(name, timeout)
                .await
                .ok()
                .and_then(|ips| ips.into_iter().find(IpAddr::is_ipv4));
            env.names.insert(name.clone(), ip);
        }
    };
    if let Some(e) = run.load_error {
        return Err(e);
    }
    Ok(queries
        .into_iter()
        .zip(run.answers)
        .map(|((url, _), answer)| {
            let (route, note) = match &answer {
                Ok(text) => parse_answer(text).unwrap_or_else(|why| (Route::Direct, Some(why))),
                Err(_) => (Route::Direct, None),
            };
            Decision {
                url,
                answer,
                route,
                note,
            }
        })
        .collect())
}

/// The address `myIpAddress()` returns: the one this machine would use towards its DNS
/// server. A UDP "connect" only consults the routing table; nothing is sent.
pub fn my_ip_for(dns: &DnsChoice) -> IpAddr {
    let toward = match dns {
        DnsChoice::Server(addr) => *addr,
        DnsChoice::System => SocketAddr::from(([192, 0, 2, 1], 53)),
    };
    let local = std::net::UdpSocket::bind(("0.0.0.0", 0))
        .and_then(|s| s.connect(toward).and_then(|()| s.local_addr()))
        .map(|a| a.ip());
    match local {
        Ok(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// Fetches and runs the PAC file for this sweep's endpoints; the per-URL routes the probes
/// take. A PAC file that cannot be used sends everything direct, as Windows does.
pub async fn plan_for_sweep(
    url: &str,
    source: &str,
    endpoints: &[Endpoint],
    resolver: &Dns,
    settings: &ProbeSettings,
) -> RoutePlan {
    let source = format!("{source}: PAC {}", redact_credentials(url));
    let script = match fetch(url, resolver, settings.timeout).await {
        Ok(s) => s,
        Err(why) => {
            return RoutePlan::PerUrl {
                routes: HashMap::new(),
                source,
                note: Some(format!("PAC not used: {why}")),
            }
        }
    };
    match evaluate(
        &script,
        endpoints,
        resolver,
        settings.timeout,
        my_ip_for(&settings.dns),
    )
    .await
    {
        Ok(decisions) => {
            let routes = decisions.into_iter().map(|d| (d.url, d.route)).collect();
            RoutePlan::PerUrl {
                routes,
                source,
                note: None,
            }
        }
        Err(e) => RoutePlan::PerUrl {
            routes: HashMap::new(),
            source,
            note: Some(format!("PAC not used: {e}")),
        },
    }
}

/// The `network:pac` check.
pub async fn check(plan: &SweepPlan) -> CheckResult {
    let started = Instant::now();
    let mut r = check_inner(plan).await;
    r.duration_ms = ms(started.elapsed());
    r
}

async fn check_inner(plan: &SweepPlan) -> CheckResult {
    let RoutePlan::Pac { url, source } = &plan.settings.routes else {
        let mut r = CheckResult::simple(
            ID,
            CheckKind::Network,
            "PAC file",
            Status::Skip,
            "no PAC file in use",
        );
        r.facts.push(("routes".into(), plan.settings.routes.source()));
        return r;
    };
    let shown = redact_credentials(url);
    let fail = |summary: String, facts: Vec<(String, String)>| {
        let mut r = CheckResult::simple(ID, CheckKind::Network, shown.clone(), Status::Fail, summary);
        r.facts = facts;
        r.remediation = Some("proxy".into());
        r
    };
    let mut facts = vec![
        ("PAC URL".to_string(), shown.clone()),
        ("configured by".to_string(), source.clone()),
    ];
    let resolver = match Dns::new(&plan.settings.dns, plan.settings.timeout) {
        Ok(r) => r,
        Err(why) => return fail(format!("cannot look up the PAC server: {why}"), facts),
    };
    let script = match fetch(url, &resolver, plan.settings.timeout).await {
        Ok(s) => s,
        Err(why) => {
            facts.push((
                "effect".into(),
                "without the PAC file, Windows sends everything direct".into(),
            ));
            return fail(format!("cannot download the PAC file: {why}"), facts);
        }
    };
    facts.push(("size".into(), format!("{} bytes", script.len())));
    let decisions = match evaluate(
        &script,
        &plan.endpoints,
        &resolver,
        plan.settings.timeout,
        my_ip_for(&plan.settings.dns),
    )
    .await
    {
        Ok(d) => d,
        Err(e) => return fail(format!("the PAC file does not run: {e}"), facts),
    };
    let mut errors = Vec::new();
    let mut tally: Vec<(String, usize)> = Vec::new();
    for d in &decisions {
        let shown_route = match (&d.answer, &d.note) {
            (Err(e), _) => {
                errors.push(format!("{}: {e}", d.url));
                format!("error: {e}")
            }
            (Ok(_), Some(note)) => format!("{} ({note})", d.route.describe()),
            (Ok(_), None) => d.route.describe(),
        };
        if d.answer.is_ok() {
            let key = d.route.describe();
            match tally.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => tally.push((key, 1)),
            }
        }
        facts.push((d.url.clone(), shown_route));
    }
    if !errors.is_empty() {
        let summary = format!(
            "FindProxyForURL failed for {} of {} endpoints: {}",
            errors.len(),
            decisions.len(),
            errors[0]
        );
        return fail(summary, facts);
    }
    let summary = tally
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut r = CheckResult::simple(
        ID,
        CheckKind::Network,
        shown,
        Status::Pass,
        format!("PAC file routes {summary}"),
    );
    r.facts = facts;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_take_the_first_usable_entry() {
        assert_eq!(parse_answer("DIRECT").unwrap(), (Route::Direct, None));
        let (r, note) = parse_answer("PROXY proxy.contoso.com:8080; DIRECT").unwrap();
        assert_eq!(r.describe(), "PROXY proxy.contoso.com:8080");
        assert_eq!(note, None);
        let (r, note) = parse_answer("SOCKS5 s:1080; proxy p:3128").unwrap();
        assert_eq!(r.describe(), "PROXY p:3128");
        assert!(note.unwrap().contains("SOCKS5 s:1080 (not supported)"));
        assert!(parse_answer("").is_err());
        assert!(parse_answer("SOCKS s:1080")
            .unwrap_err()
            .contains("no usable route"));
        assert!(parse_answer("BANANA").unwrap_err().contains("not a PAC route"));
    }
}
