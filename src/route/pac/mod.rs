//! Proxy auto-configuration: the PAC file fetched and run the way Windows and browsers
//! run it, giving each endpoint its route for the sweep.
//!
//! Many networks send Microsoft 365 direct and everything else through a proxy with a PAC
//! file; a PAC file that cannot be downloaded, throws, or sends a sign-in host to the
//! wrong proxy breaks Office while the browser (which may cache an older copy) works.
//! [`run`] happens once per sweep, before the probes start; its [`PacRun`] is what the
//! probes follow and what the `network:pac` check reports, so the two never disagree and
//! the file is downloaded once.

pub mod sandbox;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::{Network, Route};
use crate::catalog::Endpoint;
use crate::http::get::{self, Via};
use crate::http::url::{redact_credentials, split_http_url};
pub use sandbox::PacError;

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

/// One sweep's run of the PAC file: what the probes follow and the PAC check reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacRun {
    /// The PAC file's URL as configured (it may carry credentials: show it through
    /// [`redact_credentials`]).
    pub url: String,
    /// Where the URL came from (`--pac-url`, `user settings (WinINet)`, ...).
    pub source: String,
    /// The script's size in bytes, once downloaded.
    pub size: Option<usize>,
    /// Every probed endpoint's decision, or why the file could not be used at all.
    pub outcome: Result<Vec<Decision>, PacFailure>,
}

/// Why a PAC file could not be used; the endpoints then go direct, as on Windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacFailure {
    /// The file could not be downloaded (or read, for `file://`).
    Download(String),
    /// The file was downloaded but does not load or run.
    Script(PacError),
}

impl std::fmt::Display for PacFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacFailure::Download(why) => write!(f, "cannot download the PAC file: {why}"),
            PacFailure::Script(e) => write!(f, "the PAC file does not run: {e}"),
        }
    }
}

impl PacRun {
    /// The route the PAC file gave an endpoint URL; `Direct` when it gave none.
    pub fn route_for(&self, url: &str) -> Route {
        match &self.outcome {
            Ok(decisions) => decisions
                .iter()
                .find(|d| d.url == url)
                .map(|d| d.route.clone())
                .unwrap_or_default(),
            Err(_) => Route::Direct,
        }
    }
}

/// Downloads and runs the PAC file at `url` for `endpoints`.
pub async fn run(url: &str, source: &str, endpoints: &[Endpoint], net: &impl Network) -> PacRun {
    let mut run = PacRun {
        url: url.to_string(),
        source: source.to_string(),
        size: None,
        outcome: Err(PacFailure::Download(String::new())),
    };
    let script = match fetch(url, net).await {
        Ok(s) => s,
        Err(why) => {
            run.outcome = Err(PacFailure::Download(why));
            return run;
        }
    };
    run.size = Some(script.len());
    run.outcome = evaluate(&script, endpoints, net)
        .await
        .map_err(PacFailure::Script);
    run
}

/// Downloads the PAC file (plain HTTP, direct, at most [`MAX_BYTES`]), or reads it from
/// a `file://` URL.
pub async fn fetch(url: &str, net: &impl Network) -> Result<String, String> {
    let shown = redact_credentials(url);
    // A local PAC file (`--pac-url file:///path`), for trying a new PAC before deploying it.
    if let Some(path) = url.strip_prefix("file://") {
        let bytes = tokio::fs::read(path).await.map_err(|e| format!("{shown}: {e}"))?;
        if bytes.len() > MAX_BYTES {
            return Err(format!("{shown} is larger than {} KiB", MAX_BYTES / 1024));
        }
        return String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"));
    }
    let (host, port, path) = split_http_url(url)?;
    let addrs = net
        .resolve(&host)
        .await
        .map_err(|why| format!("cannot resolve {host}: {why}"))?;
    let addr = SocketAddr::new(addrs[0], port);
    let got = get::get(&host, port, &path, Via::Direct(addr), net.timeout(), MAX_BYTES)
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

/// Runs the PAC file for every probed endpoint, resolving the names it asks for through
/// `net`. `Err` when the file cannot be loaded at all.
pub async fn evaluate(
    script: &str,
    endpoints: &[Endpoint],
    net: &impl Network,
) -> Result<Vec<Decision>, PacError> {
    let queries: Vec<(String, String)> = endpoints
        .iter()
        .filter(|e| e.probe)
        .map(|e| (e.url(), e.host.clone()))
        .collect();
    let now = chrono::Local::now();
    let mut env = sandbox::Environment {
        names: HashMap::new(),
        my_ip: net.my_ip(),
        now_local: now.naive_local(),
        now_utc: now.naive_utc(),
    };
    let mut round = 0;
    let run = loop {
        round += 1;
        let (script, queries, env_now) = (script.to_string(), queries.clone(), env.clone());
        let run = tokio::task::spawn_blocking(move || sandbox::run(&script, &queries, &env_now, CALL_LIMIT))
            .await
            .map_err(|e| PacError::Script(format!("the PAC evaluation stopped: {e}")))?;
        if run.misses.is_empty() || round >= MAX_ROUNDS {
            break run;
        }
        for name in &run.misses {
            let ip = net
                .resolve(name)
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
/// server (`None`: the system's). A UDP "connect" only consults the routing table;
/// nothing is sent.
pub fn my_ip_toward(dns_server: Option<SocketAddr>) -> IpAddr {
    let toward = dns_server.unwrap_or_else(|| SocketAddr::from(([192, 0, 2, 1], 53)));
    let local = std::net::UdpSocket::bind(("0.0.0.0", 0))
        .and_then(|s| s.connect(toward).and_then(|()| s.local_addr()))
        .map(|a| a.ip());
    match local {
        Ok(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
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
