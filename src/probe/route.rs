//! How a probe reaches an endpoint: directly, or through an HTTP proxy.
//!
//! Office on a corporate network rarely talks to Microsoft 365 directly: a proxy named in
//! the environment, in the WinHTTP or user settings, or chosen per URL by a PAC file sits
//! in between, and is often the thing that breaks sign-in. So the probe takes the same
//! route the machine's settings give, and failures of the proxy itself (unreachable,
//! asking for credentials, answering with a block page) show up as what they are.
//!
//! Through a proxy an HTTPS endpoint is reached with a `CONNECT host:443` tunnel, opened
//! between the `tcp` stage (the connection to the proxy) and the `tls` stage; the TLS
//! handshake then runs end to end through the tunnel, so an inspecting proxy is still seen
//! by the certificate it presents. A plain-HTTP endpoint gets an absolute-form request
//! (`GET http://host/path`) sent to the proxy.
//!
//! Proxy credentials are kept out of every `Debug`, `Display` and report text: only
//! [`ProxyAuth::header_value`] ever produces them, for the wire.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::catalog::{Endpoint, Scheme};
use crate::model::{Cause, HttpInfo};

/// A proxy's address as configured: a host name or IP literal, and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyServer {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Basic credentials for a proxy. Neither `Debug` nor any other text shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyAuth {
    user: String,
    password: String,
}

impl ProxyAuth {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The `Proxy-Authorization` header value: the only place the secret is written.
    pub fn header_value(&self) -> String {
        format!(
            "Basic {}",
            base64_encode(format!("{}:{}", self.user, self.password).as_bytes())
        )
    }
}

impl fmt::Debug for ProxyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProxyAuth(<credentials>)")
    }
}

/// How a connection reaches the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Route {
    #[default]
    Direct,
    /// Through an HTTP proxy: CONNECT for HTTPS, absolute-form requests for HTTP.
    HttpProxy {
        addr: ProxyServer,
        auth: Option<ProxyAuth>,
    },
}

impl Route {
    /// The route in PAC words, without credentials: `DIRECT` or `PROXY host:port`.
    pub fn describe(&self) -> String {
        match self {
            Route::Direct => "DIRECT".into(),
            Route::HttpProxy { addr, auth: None } => format!("PROXY {addr}"),
            Route::HttpProxy { addr, auth: Some(_) } => format!("PROXY {addr} (with credentials)"),
        }
    }

    /// A proxy route from a proxy URL (`http://user:pass@host:port`, or `host:port`).
    pub fn from_proxy_url(text: &str) -> Result<Route, String> {
        let (addr, auth) = parse_proxy_url(text)?;
        Ok(Route::HttpProxy { addr, auth })
    }
}

/// Parses a proxy URL as found in `HTTPS_PROXY`, `--proxy` or a settings dialog:
/// `http://[user:password@]host[:port][/]`, or `host:port` without a scheme.
///
/// Only plain-HTTP proxies are supported: that is what Windows, macOS and PAC files hand
/// to Office for Microsoft 365 traffic. The error text never contains the credentials.
pub fn parse_proxy_url(text: &str) -> Result<(ProxyServer, Option<ProxyAuth>), String> {
    let shown = redact_credentials(text.trim());
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the proxy address is empty".into());
    }
    let rest = match trimmed.split_once("://") {
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "http" => rest,
            "https" => {
                return Err(format!(
                    "{shown}: proxies reached over TLS (https://) are not supported; give the proxy's http:// address"
                ))
            }
            s if s.starts_with("socks") => {
                return Err(format!("{shown}: SOCKS proxies are not supported, only HTTP proxies"))
            }
            other => return Err(format!("{shown}: unknown proxy scheme {other:?} (expected http://)")),
        },
        None => trimmed,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport).map_err(|why| format!("{shown}: {why}"))?;
    let auth = userinfo.map(|u| {
        let (user, password) = u.split_once(':').unwrap_or((u, ""));
        ProxyAuth::new(percent_decode(user), percent_decode(password))
    });
    Ok((
        ProxyServer {
            host,
            port: port.unwrap_or(80),
        },
        auth,
    ))
}

/// Splits `host[:port]` (`[v6]:port` for IPv6) and checks the host's characters.
fn split_host_port(text: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unclosed [ in the IPv6 address")?;
        (h, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("no host name".into());
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':');
    if !host.chars().all(ok) {
        return Err(format!("{host:?} is not a host name or IP address"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or(format!("{p:?} is not a port number"))?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces the `user:password@` part of every URL in `text` by `<credentials>@`, so a
/// proxy setting can be shown, logged or reported.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | ';' | ',' | '>'))
            .unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(at) => {
                out.push_str("<credentials>@");
                rest = &after[at + 1..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// Hosts that go direct even when a proxy is set: `NO_PROXY`, WinINet's `ProxyOverride`,
/// macOS's `ExceptionsList`, in their common shapes (`*`, `.suffix`, `suffix`, `*.suffix`,
/// `<local>` for names without a dot, exact IP addresses).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bypass {
    patterns: Vec<String>,
}

impl Bypass {
    /// Parses a list separated by commas, semicolons or spaces.
    pub fn parse(list: &str) -> Self {
        let patterns = list
            .split([',', ';', ' ', '\t', '\n'])
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        Self { patterns }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns, for display.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `host` skips the proxy.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.patterns.iter().any(|p| bypass_matches(p, &host))
    }
}

fn bypass_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if pattern == "<local>" {
        return !host.contains('.');
    }
    // An IP pattern with a port or CIDR is not worth guessing at: exact addresses only.
    if pattern.parse::<IpAddr>().is_ok() {
        return pattern == host;
    }
    let pattern = pattern.split(':').next().unwrap_or(pattern);
    let suffix = pattern.trim_start_matches('*').trim_start_matches('.');
    if suffix.is_empty() {
        return false;
    }
    if pattern.contains('*') && !pattern.starts_with('*') {
        // Shell-style patterns in the middle (WinINet allows "10.*"): a simple glob.
        return glob(pattern, host);
    }
    host == suffix || host.ends_with(&format!(".{suffix}"))
}

/// `*` matches any run of characters, `?` one character; case already folded.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Fixed proxies per scheme, with the hosts that bypass them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticRoutes {
    pub https: Option<Route>,
    pub http: Option<Route>,
    pub bypass: Bypass,
}

/// How the routes of a sweep are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RoutePlan {
    /// Every endpoint direct.
    #[default]
    Direct,
    /// Fixed proxies (environment, WinINet/WinHTTP manual settings, `--proxy`, the lab).
    Static { routes: StaticRoutes, source: String },
    /// A PAC file decides per URL; it is fetched and evaluated at the start of every sweep,
    /// so a changed PAC file shows on the next sweep.
    Pac { url: String, source: String },
    /// Decided per endpoint URL (a PAC file's answers for this sweep). `note` says why an
    /// endpoint went direct when the PAC file could not be used.
    PerUrl {
        routes: HashMap<String, Route>,
        source: String,
        note: Option<String>,
    },
}

impl RoutePlan {
    /// One proxy for every endpoint (`--proxy URL`, or a lab's proxy).
    pub fn single(route: Route, source: impl Into<String>) -> Self {
        match route {
            Route::Direct => RoutePlan::Direct,
            route => RoutePlan::Static {
                routes: StaticRoutes {
                    https: Some(route.clone()),
                    http: Some(route),
                    bypass: Bypass::default(),
                },
                source: source.into(),
            },
        }
    }

    /// Where the routes come from, for the detail view ("HTTPS_PROXY (environment)").
    pub fn source(&self) -> String {
        match self {
            RoutePlan::Direct => "no proxy".into(),
            RoutePlan::Static { source, .. } | RoutePlan::PerUrl { source, .. } => source.clone(),
            RoutePlan::Pac { url, source } => format!("{source}: PAC {}", redact_credentials(url)),
        }
    }

    /// The route for one endpoint. A PAC plan not yet evaluated answers `Direct`; the sweep
    /// evaluates it first (see [`super::sweep`]).
    pub fn route_for(&self, e: &Endpoint) -> Route {
        match self {
            RoutePlan::Direct | RoutePlan::Pac { .. } => Route::Direct,
            RoutePlan::Static { routes, .. } => {
                if routes.bypass.matches(&e.host) {
                    return Route::Direct;
                }
                let r = match e.scheme {
                    Scheme::Https => &routes.https,
                    Scheme::Http => &routes.http,
                };
                r.clone().unwrap_or_default()
            }
            RoutePlan::PerUrl { routes, .. } => routes.get(&e.url()).cloned().unwrap_or_default(),
        }
    }
}

/// A classified failure to open a tunnel through the proxy.
#[derive(Debug, Clone)]
pub struct TunnelFailure {
    pub cause: Cause,
    pub detail: String,
    pub info: Option<HttpInfo>,
}

/// Largest proxy answer head read.
const MAX_HEAD: usize = 16 * 1024;

/// Asks the proxy on `stream` for a tunnel to `host:port` and reads its answer. On success
/// the stream carries the tunnel and nothing of the endpoint's bytes has been read.
pub async fn connect_tunnel(
    stream: &mut TcpStream,
    proxy: &ProxyServer,
    auth: Option<&ProxyAuth>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<(), TunnelFailure> {
    let mut req = format!(
        "CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: m365mon/{}\r\nProxy-Connection: keep-alive\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(a) = auth {
        req.push_str(&format!("Proxy-Authorization: {}\r\n", a.header_value()));
    }
    req.push_str("\r\n");
    let exchange = async {
        stream.write_all(req.as_bytes()).await?;
        read_head_exact(stream).await
    };
    let head = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => {
            return Err(TunnelFailure {
                cause: Cause::HttpTimeout,
                detail: format!(
                    "proxy {proxy} did not answer CONNECT {host}:{port} within {:.1} s",
                    timeout.as_secs_f64()
                ),
                info: None,
            })
        }
        Ok(Err(e)) => {
            let cause = match e.kind() {
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
                    Cause::TcpReset
                }
                _ => Cause::HttpProtocol,
            };
            return Err(TunnelFailure {
                cause,
                detail: format!("proxy {proxy} failed during CONNECT {host}:{port}: {e}"),
                info: None,
            });
        }
        Ok(Ok(head)) => head,
    };
    let info = parse_response_head(&head).ok_or_else(|| TunnelFailure {
        cause: Cause::HttpProtocol,
        detail: format!("proxy {proxy} answered CONNECT with something that is not HTTP"),
        info: None,
    })?;
    judge_connect(info, proxy, host, port)
}

/// What a proxy's answer to CONNECT means. Unlike an origin's answer, a 403 to CONNECT can
/// only come from the proxy: it is a block, whatever the page says.
fn judge_connect(info: HttpInfo, proxy: &ProxyServer, host: &str, port: u16) -> Result<(), TunnelFailure> {
    let target = format!("{host}:{port}");
    let (cause, detail) = match info.status {
        200..=299 => return Ok(()),
        407 => (
            Cause::HttpProxyAuth,
            format!("HTTP 407 from proxy {proxy}: it asks for credentials (CONNECT {target})"),
        ),
        403 => {
            let by = info
                .via
                .clone()
                .or_else(|| info.server.clone())
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            (
                Cause::HttpBlocked,
                format!("HTTP 403 from proxy {proxy}{by}: it blocks the tunnel to {target}"),
            )
        }
        504 => (
            Cause::HttpTimeout,
            format!("HTTP 504 from proxy {proxy}: it timed out reaching {target}"),
        ),
        s => (
            Cause::Other,
            format!("HTTP {s} from proxy {proxy}: it could not open a tunnel to {target}"),
        ),
    };
    Err(TunnelFailure {
        cause,
        detail,
        info: Some(info),
    })
}

/// Reads a response head up to its blank line, one byte at a time: after a CONNECT the
/// next bytes belong to the tunnel and must stay unread.
async fn read_head_exact<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection",
            ));
        }
        head.push(byte[0]);
        if head.len() > MAX_HEAD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "answer head too long",
            ));
        }
    }
    Ok(head)
}

/// Status and the headers a probe keeps, from a response head.
pub fn parse_response_head(head: &[u8]) -> Option<HttpInfo> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return None,
    }
    let get = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    Some(HttpInfo {
        status: resp.code?,
        server: get("server"),
        via: get("via"),
        date: get("date"),
    })
}

/// A small HTTP GET: what the PAC download and the connectivity-indicator check need.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
    /// Whether the body was cut at the size limit.
    pub truncated: bool,
}

/// Fetches `http://host:port/path` over `route`, reading at most `max_body` bytes of body.
/// `connect_to` is the address to connect to when direct (the caller resolved it).
pub async fn http_get(
    host: &str,
    port: u16,
    path: &str,
    route: &Route,
    connect_to: Option<std::net::SocketAddr>,
    timeout: Duration,
    max_body: usize,
) -> Result<Fetched, String> {
    let work = async {
        let (mut stream, target) = match route {
            Route::Direct => {
                let addr = connect_to.ok_or_else(|| format!("no address for {host}"))?;
                let s = TcpStream::connect(addr)
                    .await
                    .map_err(|e| format!("cannot connect to {host} ({addr}): {e}"))?;
                (s, path.to_string())
            }
            Route::HttpProxy { addr, .. } => {
                let s = TcpStream::connect((addr.host.as_str(), addr.port))
                    .await
                    .map_err(|e| format!("cannot connect to proxy {addr}: {e}"))?;
                let authority = if port == 80 {
                    host.to_string()
                } else {
                    format!("{host}:{port}")
                };
                (s, format!("http://{authority}{path}"))
            }
        };
        let mut req = format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: m365mon/{}\r\nAccept: */*\r\nConnection: close\r\n",
            env!("CARGO_PKG_VERSION")
        );
        if let Route::HttpProxy { auth: Some(a), .. } = route {
            req.push_str(&format!("Proxy-Authorization: {}\r\n", a.header_value()));
        }
        req.push_str("\r\n");
        stream
            .write_all(req.as_bytes())
            .await
            .map_err(|e| format!("sending the request failed: {e}"))?;
        read_response(&mut stream, max_body).await
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no complete answer from http://{host}{path} within {:.1} s",
            timeout.as_secs_f64()
        )),
    }
}

async fn read_response<S: AsyncRead + Unpin>(stream: &mut S, max_body: usize) -> Result<Fetched, String> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let limit = MAX_HEAD + max_body;
    let mut truncated = false;
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            Err(e) if !buf.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(format!("reading the answer failed: {e}")),
        };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            // Stop once Content-Length bytes are in, or past the limit.
            let head = &buf[..end + 4];
            let length = content_length(head);
            let have = buf.len() - (end + 4);
            if length.is_some_and(|l| have >= l) {
                break;
            }
            if have > max_body {
                truncated = true;
                break;
            }
        }
        if buf.len() > limit {
            truncated = true;
            break;
        }
    }
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not HTTP")?
        + 4;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(&buf[..end]) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err("the answer is not valid HTTP".into()),
    }
    let status = resp.code.unwrap_or(0);
    let location = resp
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("location"))
        .map(|h| String::from_utf8_lossy(h.value).trim().to_string());
    let mut body = buf[end..].to_vec();
    if let Some(l) = content_length(&buf[..end]) {
        body.truncate(l);
    }
    if body.len() > max_body {
        body.truncate(max_body);
        truncated = true;
    }
    Ok(Fetched {
        status,
        location,
        body,
        truncated,
    })
}

fn content_length(head: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(head);
    text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

/// Splits an `http://host[:port]/path` URL (what PAC URLs look like); `None` for other
/// schemes.
pub fn split_http_url(url: &str) -> Result<(String, u16, String), String> {
    let shown = redact_credentials(url);
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("HTTP://"))
        .ok_or_else(|| format!("{shown}: only http:// URLs can be fetched here"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let (host, port) = split_host_port(authority).map_err(|why| format!("{shown}: {why}"))?;
    Ok((host, port.unwrap_or(80), path.to_string()))
}

/// Standard base64 with padding (for the Basic credentials header).
pub fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_parse_in_their_common_shapes() {
        let (s, a) = parse_proxy_url("http://proxy.contoso.com:8080/").unwrap();
        assert_eq!((s.host.as_str(), s.port, a), ("proxy.contoso.com", 8080, None));
        let (s, a) = parse_proxy_url("10.0.0.1:3128").unwrap();
        assert_eq!((s.to_string(), a.is_none()), ("10.0.0.1:3128".to_string(), true));
        let (s, _) = parse_proxy_url("HTTP://Proxy").unwrap();
        assert_eq!(s.to_string(), "proxy:80");
        let (s, _) = parse_proxy_url("http://[::1]:8080").unwrap();
        assert_eq!(s.to_string(), "[::1]:8080");
        let (_, a) = parse_proxy_url("http://bob:p%40ss@proxy:8080").unwrap();
        assert_eq!(a.unwrap(), ProxyAuth::new("bob", "p@ss"));
    }

    #[test]
    fn unsupported_or_broken_proxy_urls_say_why_without_the_secret() {
        for (url, why) in [
            ("https://bob:S3cret@proxy:443", "not supported"),
            ("socks5://proxy:1080", "SOCKS"),
            ("http://bob:S3cret@proxy:99999", "not a port"),
            ("http://bob:S3cret@", "no host"),
            ("ftp://proxy", "unknown proxy scheme"),
            ("", "empty"),
        ] {
            let e = parse_proxy_url(url).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
            assert!(!e.contains("S3cret") && !e.contains("bob"), "{e}");
        }
    }

    #[test]
    fn credentials_never_show_in_debug_display_or_descriptions() {
        let route = Route::from_proxy_url("http://alice:Hunter2!@proxy.contoso.com:8080").unwrap();
        let debug = format!("{route:?}");
        assert!(!debug.contains("Hunter2") && !debug.contains("alice"), "{debug}");
        assert_eq!(
            route.describe(),
            "PROXY proxy.contoso.com:8080 (with credentials)"
        );
        let plan = RoutePlan::Pac {
            url: "http://alice:Hunter2!@pac.contoso.com/proxy.pac".into(),
            source: "test".into(),
        };
        assert!(!plan.source().contains("Hunter2"), "{}", plan.source());
        assert_eq!(
            redact_credentials("HTTPS_PROXY=http://alice:Hunter2!@proxy:8080 and http://plain/x"),
            "HTTPS_PROXY=http://<credentials>@proxy:8080 and http://plain/x"
        );
    }

    #[test]
    fn basic_header_is_rfc_7617() {
        assert_eq!(
            ProxyAuth::new("Aladdin", "open sesame").header_value(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64_encode(b"a"), "YQ==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b""), "");
    }

    #[test]
    fn bypass_lists() {
        let b = Bypass::parse("localhost, .contoso.com;*.lab.test 10.1.2.3 <local> 192.168.*");
        assert!(b.matches("localhost"));
        assert!(b.matches("intranet"), "<local>: no dot");
        assert!(b.matches("contoso.com") && b.matches("www.contoso.com") && !b.matches("notcontoso.com"));
        assert!(b.matches("a.lab.test") && !b.matches("lab.tester"));
        assert!(b.matches("10.1.2.3") && !b.matches("10.1.2.30"));
        assert!(b.matches("192.168.0.9"));
        assert!(!b.matches("login.microsoftonline.com"));
        assert!(Bypass::parse("*").matches("anything.example"));
        assert!(Bypass::parse("").is_empty());
    }

    #[test]
    fn static_plans_route_by_scheme_and_bypass() {
        let proxy = Route::from_proxy_url("proxy:8080").unwrap();
        let plan = RoutePlan::Static {
            routes: StaticRoutes {
                https: Some(proxy.clone()),
                http: None,
                bypass: Bypass::parse(".officeapps.live.com"),
            },
            source: "test".into(),
        };
        let catalog = crate::catalog::Catalog::builtin();
        let find = |host: &str, scheme: Scheme| {
            catalog
                .endpoints
                .iter()
                .find(|e| e.host == host && e.scheme == scheme)
                .unwrap()
                .clone()
        };
        assert_eq!(
            plan.route_for(&find("login.microsoftonline.com", Scheme::Https)),
            proxy
        );
        assert_eq!(
            plan.route_for(&find("ols.officeapps.live.com", Scheme::Https)),
            Route::Direct
        );
        assert_eq!(
            plan.route_for(&find("crl.microsoft.com", Scheme::Http)),
            Route::Direct
        );
        assert_eq!(RoutePlan::single(Route::Direct, "x"), RoutePlan::Direct);
    }

    #[test]
    fn connect_answers_are_classified() {
        let proxy = ProxyServer {
            host: "127.0.0.1".into(),
            port: 3128,
        };
        let info = |status, via: Option<&str>| HttpInfo {
            status,
            server: None,
            via: via.map(Into::into),
            date: None,
        };
        assert!(judge_connect(info(200, None), &proxy, "a", 443).is_ok());
        let e = judge_connect(info(407, None), &proxy, "a", 443).unwrap_err();
        assert_eq!(e.cause, Cause::HttpProxyAuth);
        assert!(e.detail.contains("127.0.0.1:3128"), "{}", e.detail);
        let e = judge_connect(info(403, Some("1.1 swg")), &proxy, "a", 443).unwrap_err();
        assert_eq!(e.cause, Cause::HttpBlocked);
        assert!(e.detail.contains("swg"));
        assert_eq!(
            judge_connect(info(502, None), &proxy, "a", 443)
                .unwrap_err()
                .cause,
            Cause::Other
        );
    }

    #[test]
    fn glob_matches_shell_patterns() {
        assert!(glob("*.microsoft.com", "login.microsoft.com"));
        assert!(!glob("*.microsoft.com", "microsoft.com"));
        assert!(glob("10.?.*", "10.1.2.3"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "ac"));
    }

    #[test]
    fn http_urls_split() {
        assert_eq!(
            split_http_url("http://127.0.0.1:8080/proxy.pac").unwrap(),
            ("127.0.0.1".into(), 8080, "/proxy.pac".into())
        );
        assert_eq!(
            split_http_url("http://wpad").unwrap(),
            ("wpad".into(), 80, "/".into())
        );
        assert!(split_http_url("file:///etc/proxy.pac").is_err());
    }
}
