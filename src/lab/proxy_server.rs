//! The lab's HTTP proxy: what stands between Office and Microsoft 365 on most corporate
//! networks, with the ways it fails.
//!
//! It speaks the two forms a client uses: `CONNECT host:port` (a tunnel, for HTTPS; the
//! TLS inside is the endpoint's, untouched) and absolute-form requests
//! (`GET http://host/path`, for plain HTTP), and it serves its own PAC file at
//! `/proxy.pac`. Names are resolved in the lab's zone, never on the real network.
//!
//! Its faults come from the scenario's `[proxy]` table: Basic credentials required (407
//! when missing or wrong), a 403 block page for some hosts, or nothing listening at all.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::origin::{read_request, Response};
use super::scenario::{host_matches, LabProxy};
use crate::http::{base64_encode, RequestHead};
use crate::route::bypass::glob;

/// Where the proxy serves its PAC file.
pub const PAC_PATH: &str = "/proxy.pac";
/// How long a client may take to send its request head.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the proxy tries to reach an endpoint.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// What the proxy knows: the lab's names and its own settings.
pub struct ProxyContext {
    /// Host name (lower case) to the lab address serving it.
    pub zone: HashMap<String, IpAddr>,
    pub settings: LabProxy,
    /// The PAC file's text, when the scenario asks for one.
    pub pac: Option<String>,
    /// Added to the `Date` header of the proxy's own answers.
    pub clock_offset_secs: i64,
}

/// The PAC file the lab serves: the scenario's script, or one that sends the `pac_direct`
/// hosts direct and everything else through the proxy (falling back to direct, as
/// corporate PAC files often do).
pub fn pac_text(settings: &LabProxy, proxy: SocketAddr) -> String {
    if let Some(script) = &settings.pac_script {
        return script.replace("{proxy}", &proxy.to_string());
    }
    let direct: Vec<String> = settings
        .pac_direct
        .iter()
        .map(|p| format!("shExpMatch(host, {p:?})"))
        .collect();
    let direct = if direct.is_empty() {
        "false".to_string()
    } else {
        direct.join(" ||\n      ")
    };
    format!(
        "// m365mon lab PAC file\nfunction FindProxyForURL(url, host) {{\n  host = host.toLowerCase();\n  \
         if (isPlainHostName(host) ||\n      {direct})\n    return \"DIRECT\";\n  \
         return \"PROXY {proxy}; DIRECT\";\n}}\n"
    )
}

/// Accepts connections until shutdown.
pub async fn serve(listener: TcpListener, ctx: Arc<ProxyContext>, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    conns.spawn(serve_connection(stream, Arc::clone(&ctx)));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// One parsed request head.
#[derive(Debug, PartialEq)]
struct ProxyRequest {
    method: String,
    target: String,
    /// `Proxy-Authorization` value, if any.
    auth: Option<String>,
    /// The head's header lines other than `Proxy-*`, to forward.
    forward_headers: Vec<(String, String)>,
}

impl From<RequestHead> for ProxyRequest {
    fn from(head: RequestHead) -> Self {
        let mut auth = None;
        let mut forward_headers = Vec::new();
        for (name, value) in head.headers.iter() {
            let value = String::from_utf8_lossy(value).trim().to_string();
            if name.eq_ignore_ascii_case("proxy-authorization") {
                auth = Some(value);
            } else if !name.to_ascii_lowercase().starts_with("proxy-") {
                forward_headers.push((name.to_string(), value));
            }
        }
        ProxyRequest {
            method: head.method,
            target: head.target,
            auth,
            forward_headers,
        }
    }
}

async fn serve_connection(mut client: TcpStream, ctx: Arc<ProxyContext>) {
    let req = match tokio::time::timeout(CLIENT_TIMEOUT, read_request(&mut client)).await {
        Ok(Ok(Some(head))) => ProxyRequest::from(head),
        Ok(Ok(None)) => {
            let _ = send(&mut client, &Response::text(400, "bad request\n"), &ctx).await;
            return;
        }
        _ => return,
    };
    // A request for the proxy itself: its PAC file.
    if req.target.starts_with('/') {
        let response = match (&ctx.pac, req.target.split('?').next()) {
            (Some(pac), Some(PAC_PATH)) => {
                Response::new(200, "application/x-ns-proxy-autoconfig", pac.clone().into_bytes())
            }
            _ => Response::text(404, "not found\n"),
        };
        let _ = send(&mut client, &response, &ctx).await;
        return;
    }
    if let Some(creds) = &ctx.settings.credentials {
        let expected = format!("Basic {}", base64_encode(creds.as_bytes()));
        if req.auth.as_deref() != Some(expected.as_str()) {
            let _ = send(&mut client, &Response::for_status(407, "proxy"), &ctx).await;
            return;
        }
    }
    let Some((host, port, path)) = split_target(&req.method, &req.target) else {
        let _ = send(&mut client, &Response::text(400, "bad request target\n"), &ctx).await;
        return;
    };
    if ctx
        .settings
        .block
        .iter()
        .any(|p| host_matches(p, &host) || glob(p, &host))
    {
        let _ = send(&mut client, &Response::for_status(403, &host), &ctx).await;
        return;
    }
    let Some(ip) = ctx.zone.get(&host).copied() else {
        let _ = send(
            &mut client,
            &Response::text(502, &format!("cannot resolve {host}\n")),
            &ctx,
        )
        .await;
        return;
    };
    let upstream = match tokio::time::timeout(UPSTREAM_TIMEOUT, TcpStream::connect((ip, port))).await {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => {
            let _ = send(
                &mut client,
                &Response::text(502, &format!("cannot connect to {host}:{port}\n")),
                &ctx,
            )
            .await;
            return;
        }
        Err(_) => {
            let _ = send(
                &mut client,
                &Response::text(504, &format!("{host}:{port} did not answer\n")),
                &ctx,
            )
            .await;
            return;
        }
    };
    let mut upstream = upstream;
    if req.method.eq_ignore_ascii_case("CONNECT") {
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    } else {
        // Forward the request in origin form, without the proxy's own headers.
        let mut out = format!("{} {path} HTTP/1.1\r\n", req.method);
        for (name, value) in &req.forward_headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        if upstream.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// Host (lower case), port and origin-form path of a proxy request target:
/// `host:port` for CONNECT, `http://host[:port]/path` otherwise.
fn split_target(method: &str, target: &str) -> Option<(String, u16, String)> {
    if method.eq_ignore_ascii_case("CONNECT") {
        let (host, port) = target.rsplit_once(':')?;
        return Some((
            host.trim_matches(['[', ']']).to_ascii_lowercase(),
            port.parse().ok()?,
            String::new(),
        ));
    }
    let rest = target.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (authority, 80),
    };
    Some((host.to_ascii_lowercase(), port, path.to_string()))
}

async fn send(stream: &mut TcpStream, response: &Response, ctx: &ProxyContext) -> std::io::Result<()> {
    stream
        .write_all(&response.render(false, ctx.clock_offset_secs))
        .await?;
    stream.flush().await?;
    stream.shutdown().await?;
    // Drain what the client still sends, so the close is a FIN and not an RST.
    let mut sink = [0u8; 1024];
    let drain = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_targets() {
        assert_eq!(
            split_target("CONNECT", "Login.Microsoftonline.com:443"),
            Some(("login.microsoftonline.com".into(), 443, String::new()))
        );
        assert_eq!(
            split_target("GET", "http://crl.microsoft.com:8080/pki/x.crl"),
            Some(("crl.microsoft.com".into(), 8080, "/pki/x.crl".into()))
        );
        assert_eq!(
            split_target("GET", "http://crl.microsoft.com"),
            Some(("crl.microsoft.com".into(), 80, "/".into()))
        );
        assert_eq!(split_target("CONNECT", "nohost"), None);
        assert_eq!(split_target("GET", "/relative"), None);
    }

    #[test]
    fn proxy_headers_are_not_forwarded() {
        let head = b"GET http://a/ HTTP/1.1\r\nHost: a\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: x\r\n\r\n";
        let (head, _) = crate::http::parse_request(head).unwrap().unwrap();
        let r = ProxyRequest::from(head);
        assert_eq!(r.auth.as_deref(), Some("Basic eA=="));
        assert_eq!(r.forward_headers, vec![("Host".to_string(), "a".to_string())]);
    }

    #[test]
    fn generated_pac_sends_listed_hosts_direct() {
        let settings = LabProxy {
            pac: true,
            pac_direct: vec!["*.microsoftonline.com".into()],
            ..Default::default()
        };
        let text = pac_text(&settings, "127.0.0.1:3128".parse().unwrap());
        assert!(
            text.contains("shExpMatch(host, \"*.microsoftonline.com\")"),
            "{text}"
        );
        assert!(text.contains("return \"PROXY 127.0.0.1:3128; DIRECT\""), "{text}");
        let custom = LabProxy {
            pac: true,
            pac_script: Some("// {proxy}".into()),
            ..Default::default()
        };
        assert_eq!(
            pac_text(&custom, "127.0.0.1:1".parse().unwrap()),
            "// 127.0.0.1:1"
        );
    }
}
