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
pub mod worker;

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
    /// Why the answer is not a valid PAC answer (quoting it); the PAC check fails on it.
    pub invalid: Option<String>,
}

/// Why an answer gives no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// Not a PAC answer at all: a directive that is none, a bad host or port. Quoted.
    Invalid(String),
    /// Valid, but nothing in it the probes can follow (only SOCKS, say).
    NoRoute(String),
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerError::Invalid(why) | AnswerError::NoRoute(why) => f.write_str(why),
        }
    }
}

/// One `;`-separated directive of a PAC answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    Direct,
    /// `PROXY`, `HTTPS`, `SOCKS`, `SOCKS4` or `SOCKS5` (upper case), with `host:port`.
    Via {
        kind: String,
        target: String,
    },
}

/// Checks a whole answer the way a browser parses it, before any of it is used: each
/// `;`-separated directive must be `DIRECT`, or `PROXY`, `HTTPS`, `SOCKS`, `SOCKS4` or
/// `SOCKS5` followed by one `host:port` (a host name or IP address, port 1-65535).
/// Keywords are case-insensitive, empty directives (a trailing `;`) are ignored. `Err`
/// says what is wrong, quoting the answer.
pub fn validate_answer(answer: &str) -> Result<Vec<Directive>, String> {
    let quoted = || format!("\"{}\"", answer.chars().take(200).collect::<String>());
    let mut directives = Vec::new();
    for entry in answer.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let mut words = entry.split_whitespace();
        let kind = words.next().unwrap_or("").to_ascii_uppercase();
        let target = words.next();
        if let Some(extra) = words.next() {
            return Err(format!("{}: unexpected \"{extra}\" in \"{entry}\"", quoted()));
        }
        match (kind.as_str(), target) {
            ("DIRECT", None) => directives.push(Directive::Direct),
            ("DIRECT", Some(t)) => return Err(format!("{}: DIRECT takes no address (\"{t}\")", quoted())),
            ("PROXY" | "HTTPS" | "SOCKS" | "SOCKS4" | "SOCKS5", Some(t)) => {
                check_host_port(t).map_err(|why| format!("{}: {why}", quoted()))?;
                directives.push(Directive::Via {
                    kind,
                    target: t.to_string(),
                });
            }
            ("PROXY" | "HTTPS" | "SOCKS" | "SOCKS4" | "SOCKS5", None) => {
                return Err(format!("{}: {kind} needs host:port", quoted()))
            }
            _ => return Err(format!("{}: \"{entry}\" is not a PAC directive", quoted())),
        }
    }
    if directives.is_empty() {
        return Err(format!("{}: an empty answer", quoted()));
    }
    Ok(directives)
}

/// `host:port` of a PAC directive: a host name, an IPv4 address or a bracketed IPv6
/// address, and a port 1-65535.
fn check_host_port(target: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (v6, port) = rest
            .split_once("]:")
            .ok_or_else(|| format!("\"{target}\" is not [IPv6]:port"))?;
        v6.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("\"{v6}\" is not an IPv6 address"))?;
        (None, port)
    } else {
        let (host, port) = target
            .rsplit_once(':')
            .ok_or_else(|| format!("\"{target}\" has no port"))?;
        (Some(host), port)
    };
    let port_ok = !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && matches!(port.parse::<u32>(), Ok(1..=65535));
    if !port_ok {
        return Err(format!("\"{port}\" is not a port (1-65535)"));
    }
    let Some(host) = host else { return Ok(()) };
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return name
            .parse::<Ipv4Addr>()
            .map(|_| ())
            .map_err(|_| format!("\"{host}\" is not an IPv4 address"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!("\"{host}\" is not a host name"));
    }
    Ok(())
}

/// Reads `FindProxyForURL`'s answer (`"PROXY a:8080; PROXY b:8080; DIRECT"`): checked
/// whole first ([`validate_answer`]), then the first entry a probe can use wins, as a
/// client would fall over to the next entry.
pub fn parse_answer(answer: &str) -> Result<(Route, Option<String>), AnswerError> {
    let directives = validate_answer(answer).map_err(AnswerError::Invalid)?;
    let mut skipped = Vec::new();
    for directive in directives {
        let note = || (!skipped.is_empty()).then(|| format!("skipped: {}", skipped.join("; ")));
        match directive {
            Directive::Direct => return Ok((Route::Direct, note())),
            Directive::Via { kind, target } if kind == "PROXY" => match Route::from_proxy_url(&target) {
                Ok(r) => return Ok((r, note())),
                Err(why) => skipped.push(format!("PROXY {target} ({why})")),
            },
            Directive::Via { kind, target } => {
                skipped.push(format!("{kind} {target} (not supported by the probes)"))
            }
        }
    }
    Err(AnswerError::NoRoute(format!(
        "no usable route: {}",
        skipped.join("; ")
    )))
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
    /// Where the script ran ([`worker::describe`]).
    pub evaluated_in: String,
    /// How this sweep got the file: downloaded, or unchanged since an earlier sweep (a
    /// `304 Not Modified` answer to a conditional GET), or read from disk.
    pub fetched: Option<String>,
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
        evaluated_in: worker::describe(),
        fetched: None,
    };
    let script = match fetch_cached(url, net).await {
        Ok((s, how)) => {
            run.fetched = Some(how);
            s
        }
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

/// A PAC file downloaded by an earlier sweep, with the validators its server sent.
#[derive(Debug, Clone)]
struct Cached {
    etag: Option<String>,
    last_modified: Option<String>,
    script: String,
}

/// PAC files by URL, for conditional GETs: a monitor downloads the same file every sweep,
/// and a server that sends `ETag` or `Last-Modified` can answer `304 Not Modified` instead
/// of the whole file again. Process-wide because sweeps are independent tasks; a handful
/// of URLs at most (one per configuration), each at most [`MAX_BYTES`].
static CACHE: std::sync::Mutex<Vec<(String, Cached)>> = std::sync::Mutex::new(Vec::new());
/// URLs remembered; the oldest is forgotten past this.
const CACHED_URLS: usize = 4;

fn cached(url: &str) -> Option<Cached> {
    let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.iter().find(|(u, _)| u == url).map(|(_, c)| c.clone())
}

fn remember(url: &str, entry: Option<Cached>) {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|(u, _)| u != url);
    if let Some(entry) = entry {
        cache.push((url.to_string(), entry));
        if cache.len() > CACHED_URLS {
            cache.remove(0);
        }
    }
}

/// [`fetch`], conditional when an earlier sweep got the file with validators: the script
/// and how it was had ("HTTP 200", "HTTP 304, unchanged since an earlier sweep").
pub async fn fetch_cached(url: &str, net: &impl Network) -> Result<(String, String), String> {
    if url.starts_with("file://") {
        return fetch(url, net).await.map(|s| (s, "read from the file".into()));
    }
    let earlier = cached(url);
    let mut conditions = Vec::new();
    if let Some(c) = &earlier {
        if let Some(etag) = &c.etag {
            conditions.push(("If-None-Match", etag.clone()));
        }
        if let Some(date) = &c.last_modified {
            conditions.push(("If-Modified-Since", date.clone()));
        }
    }
    let got = download(url, net, &conditions).await?;
    if got.status == 304 {
        return match earlier {
            Some(c) => Ok((c.script, "HTTP 304, unchanged since an earlier sweep".into())),
            None => Err(format!(
                "{} answered 304 Not Modified to a request that was not conditional",
                redact_credentials(url)
            )),
        };
    }
    let script = check_body(url, got.status, got.truncated, got.body)?;
    let validators = got.etag.is_some() || got.last_modified.is_some();
    remember(
        url,
        validators.then(|| Cached {
            etag: got.etag,
            last_modified: got.last_modified,
            script: script.clone(),
        }),
    );
    Ok((script, "HTTP 200".into()))
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
    let got = download(url, net, &[]).await?;
    check_body(url, got.status, got.truncated, got.body)
}

/// One GET of the PAC file's URL.
async fn download(
    url: &str,
    net: &impl Network,
    headers: &[(&'static str, String)],
) -> Result<get::Fetched, String> {
    let shown = redact_credentials(url);
    let (host, port, path) = split_http_url(url)?;
    let addrs = net
        .resolve(&host)
        .await
        .map_err(|why| format!("cannot resolve {host}: {why}"))?;
    let addr = SocketAddr::new(addrs[0], port);
    get::get_with(
        &host,
        port,
        &path,
        Via::Direct(addr),
        net.timeout(),
        MAX_BYTES,
        headers,
    )
    .await
    .map_err(|e| format!("{shown}: {e}"))
}

/// The script from a download's answer, or why it is none.
fn check_body(url: &str, status: u16, truncated: bool, body: Vec<u8>) -> Result<String, String> {
    let shown = redact_credentials(url);
    if status != 200 {
        return Err(format!("{shown} answered HTTP {status}"));
    }
    if truncated {
        return Err(format!("{shown} is larger than {} KiB", MAX_BYTES / 1024));
    }
    String::from_utf8(body).map_err(|_| format!("{shown} is not UTF-8 text"))
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
        let run = match worker::installed() {
            Some(program) => worker::run(program, script, &queries, &env, CALL_LIMIT).await,
            None => {
                let (script, queries, env_now) = (script.to_string(), queries.clone(), env.clone());
                tokio::task::spawn_blocking(move || sandbox::run(&script, &queries, &env_now, CALL_LIMIT))
                    .await
                    .map_err(|e| PacError::Crashed(format!("the PAC evaluation stopped: {e}")))?
            }
        };
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
            let (route, note, invalid) = match &answer {
                Ok(text) => match parse_answer(text) {
                    Ok((route, note)) => (route, note, None),
                    Err(AnswerError::NoRoute(why)) => (Route::Direct, Some(why), None),
                    Err(AnswerError::Invalid(why)) => (Route::Direct, None, Some(why)),
                },
                Err(_) => (Route::Direct, None, None),
            };
            Decision {
                url,
                answer,
                route,
                note,
                invalid,
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
        let (r, note) = parse_answer("SOCKS5 s:1080; proxy p:3128;").unwrap();
        assert_eq!(r.describe(), "PROXY p:3128");
        assert!(note.unwrap().contains("SOCKS5 s:1080 (not supported"));
        assert!(matches!(
            parse_answer("SOCKS s:1080"),
            Err(AnswerError::NoRoute(m)) if m.contains("no usable route")
        ));
    }

    #[test]
    fn valid_answers_are_accepted() {
        for ok in [
            "DIRECT",
            "direct",
            "PROXY proxy.contoso.com:8080",
            "PROXY 10.0.0.1:3128; DIRECT",
            "HTTPS secure-proxy.contoso.com:443",
            "SOCKS s:1080; SOCKS4 s4:1080; SOCKS5 s5:1080;",
            "PROXY [2001:db8::1]:8080",
            "PROXY p_1.contoso.com.:1",
            "  PROXY   a:65535 ;  DIRECT  ",
        ] {
            assert!(validate_answer(ok).is_ok(), "{ok}: {:?}", validate_answer(ok));
        }
    }

    #[test]
    fn invalid_answers_are_refused_quoting_them() {
        for (bad, why) in [
            ("GARBAGE", "\"GARBAGE\" is not a PAC directive"),
            ("PROXY 999.999.999.999:99999", "\"99999\" is not a port"),
            (
                "PROXY 999.999.999.999:8080",
                "\"999.999.999.999\" is not an IPv4 address",
            ),
            ("PROXY proxy.contoso.com", "has no port"),
            ("PROXY proxy.contoso.com:0", "\"0\" is not a port"),
            ("PROXY proxy.contoso.com:+80", "is not a port"),
            ("PROXY", "PROXY needs host:port"),
            ("DIRECT now", "DIRECT takes no address"),
            ("PROXY a:80 b:80", "unexpected \"b:80\""),
            ("PROXY bad..name:80", "is not a host name"),
            ("PROXY -bad.example:80", "is not a host name"),
            ("PROXY [::zz]:80", "is not an IPv6 address"),
            ("HTTP proxy:80", "\"HTTP proxy:80\" is not a PAC directive"),
            ("DIRECT; QUIC q:443", "is not a PAC directive"),
            ("", "an empty answer"),
            (" ; ", "an empty answer"),
        ] {
            let err = validate_answer(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(err.starts_with(&format!("\"{bad}\"")), "quotes the answer: {err}");
            assert!(matches!(parse_answer(bad), Err(AnswerError::Invalid(_))), "{bad}");
        }
    }
}
