//! The lab's origin servers: what answers once a TCP connection is accepted.
//!
//! Each accepted connection looks up the faults in effect at that moment: a `reset`
//! closes it with an RST before any byte, a TLS fault picks the certificate presented, an
//! HTTP fault picks the answer. The answer is HTTP/1.1 with `Connection: close`; one
//! request per connection is all a probe needs.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::pki::{Pki, TlsFace};
use super::scenario::{CaptivePortal, Fault, FaultMode, Layer};
use super::timeline::Timeline;
use crate::catalog::Scheme;
use crate::http::{self as wire, http_date, ReadHeadError, RequestHead};

/// How long a client may take to finish its TLS handshake or its request head.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// `Server` header of the lab's origins.
pub const SERVER: &str = "m365mon-lab";
/// `Server` and `Via` of the imitation secure web gateway that sends block pages.
pub const GATEWAY_SERVER: &str = "contoso-swg";
pub const GATEWAY_VIA: &str = "1.1 contoso-swg (Secure Web Gateway)";
/// What Windows' connectivity indicator expects from `/connecttest.txt`.
pub const NCSI_BODY: &str = "Microsoft Connect Test";
/// Where the lab's captive portal redirects.
pub const PORTAL_URL: &str =
    "http://portal.contoso.lab/login?continue=http%3A%2F%2Fwww.msftconnecttest.com%2Fconnecttest.txt";
/// The lab's captive portal login page.
const PORTAL_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi</title></head>\n<body><h1>Welcome to Contoso Guest Wi-Fi</h1>\n\
     <p>Accept the terms of use to connect.</p><form method=\"post\"><button>Connect</button></form></body></html>\n";

/// Everything a connection handler needs to know about its endpoint.
pub struct EndpointContext {
    pub host: String,
    /// The family of the listener's address: faults can target one.
    pub family: crate::model::IpFamily,
    pub scheme: Scheme,
    pub timeline: Timeline,
    pub pki: Arc<Pki>,
}

/// Serves one accepted connection to the end.
pub async fn serve_connection(stream: TcpStream, ep: Arc<EndpointContext>) {
    if matches!(ep.timeline.fault(&ep.host, Layer::Socket, Some(ep.family)), Some(f) if f.mode == FaultMode::Reset)
    {
        // SO_LINGER 0: close() sends an RST instead of a FIN.
        let _ = stream.set_zero_linger();
        drop(stream);
        return;
    }
    match ep.scheme {
        Scheme::Http => serve_http(stream, &ep).await,
        Scheme::Https => {
            let face = tls_face(ep.timeline.fault(&ep.host, Layer::Tls, Some(ep.family)));
            let Some(config) = ep.pki.server_config(&ep.host, face) else {
                return;
            };
            let accept = TlsAcceptor::from(config).accept(stream);
            if let Ok(Ok(tls)) = tokio::time::timeout(CLIENT_TIMEOUT, accept).await {
                serve_http(tls, &ep).await;
            }
        }
    }
}

fn tls_face(fault: Option<&Fault>) -> TlsFace {
    match fault.map(|f| f.mode) {
        Some(FaultMode::TlsIntercept) => TlsFace::Intercept,
        Some(FaultMode::BadCert) => TlsFace::BadCert,
        Some(FaultMode::ExpiredCert) => TlsFace::Expired,
        Some(FaultMode::WrongName) => TlsFace::WrongName,
        _ => TlsFace::Healthy,
    }
}

async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, ep: &EndpointContext) {
    let request = match tokio::time::timeout(CLIENT_TIMEOUT, read_request(&mut stream)).await {
        Ok(Ok(head)) => head,
        // The client went away or never finished: nothing to answer.
        Ok(Err(_)) | Err(_) => return,
    };
    let latency = ep.timeline.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let scenario = ep.timeline.scenario();
    let fault = ep.timeline.fault(&ep.host, Layer::Http, Some(ep.family)).cloned();
    if let Some(Fault {
        mode: FaultMode::Slow,
        delay_ms: Some(ms),
        ..
    }) = &fault
    {
        tokio::time::sleep(Duration::from_millis(*ms)).await;
    }
    let response = match (&request, &fault) {
        (None, _) => Response::text(400, "bad request\n"),
        (
            Some(_),
            Some(Fault {
                mode: FaultMode::HttpStatus,
                status: Some(status),
                ..
            }),
        ) => Response::for_status(*status, &ep.host),
        (Some(_), _) if ep.host == super::NCSI_HTTP_HOST && scenario.captive_portal.is_some() => {
            Response::captive_portal(scenario.captive_portal.unwrap_or(CaptivePortal::Redirect))
        }
        (Some(req), _) => Response::content(&ep.host, &req.target),
    };
    let head_only = request.as_ref().is_some_and(|r| r.method == "HEAD");
    if stream
        .write_all(&response.render(head_only, scenario.clock_offset_secs))
        .await
        .is_ok()
    {
        let _ = stream.flush().await;
        let _ = stream.shutdown().await;
        // Read what the client still sends so that closing does not turn into an RST
        // that could destroy the answer before it is read.
        let mut sink = [0u8; 1024];
        let drain = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }
}

/// Reads one request head. `Ok(None)` when it is not HTTP or too long (answered with a
/// 400); `Err` when the client went away first.
pub(super) async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> std::io::Result<Option<RequestHead>> {
    let mut buf = Vec::with_capacity(1024);
    match wire::read_head(stream, &mut buf, wire::parse_request).await {
        Ok(Some((head, _))) => Ok(Some(head)),
        Ok(None) => Err(std::io::ErrorKind::UnexpectedEof.into()),
        Err(ReadHeadError::Io(e)) => Err(e),
        Err(ReadHeadError::Head(_)) => Ok(None),
    }
}

/// An HTTP answer before serialisation.
#[derive(Debug)]
pub(super) struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    pub(super) fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("Server", SERVER.into()), ("Content-Type", content_type.into())],
            body,
        }
    }

    pub(super) fn text(status: u16, body: &str) -> Self {
        Self::new(status, "text/plain; charset=utf-8", body.as_bytes().to_vec())
    }

    /// What a captive portal answers in place of the connectivity indicator's text.
    fn captive_portal(kind: CaptivePortal) -> Self {
        match kind {
            CaptivePortal::Redirect => {
                let mut r = Self::text(302, "Found\n");
                r.headers.push(("Location", PORTAL_URL.into()));
                r
            }
            CaptivePortal::LoginPage => {
                Self::new(200, "text/html; charset=utf-8", PORTAL_PAGE.as_bytes().to_vec())
            }
        }
    }

    /// What the origin serves at `path` when all is well.
    fn content(host: &str, path: &str) -> Self {
        let path_only = path.split('?').next().unwrap_or(path);
        if path_only.ends_with(".crl") {
            Self::new(200, "application/pkix-crl", CRL_BODY.to_vec())
        } else if path_only == "/connecttest.txt" {
            Self::text(200, NCSI_BODY)
        } else {
            Self::text(200, &format!("m365mon lab: {host} answered {path_only}\n"))
        }
    }

    /// The answer of an `http-status` fault. 403 and 407 come from an imitation secure web
    /// gateway, as they do in the field; other statuses come from the origin.
    pub(super) fn for_status(status: u16, host: &str) -> Self {
        match status {
            403 => {
                let mut r = Self::new(403, "text/html; charset=utf-8", block_page(host).into_bytes());
                r.headers[0].1 = GATEWAY_SERVER.into();
                r.headers.push(("Via", GATEWAY_VIA.into()));
                r.headers.push(("Cache-Control", "no-store".into()));
                r
            }
            407 => {
                let mut r = Self::text(407, "Proxy authentication required\n");
                r.headers[0].1 = GATEWAY_SERVER.into();
                r.headers.push(("Via", GATEWAY_VIA.into()));
                r.headers
                    .push(("Proxy-Authenticate", "Basic realm=\"lab\"".into()));
                r
            }
            // 502 and 504 are what a gateway says when it cannot reach the origin: the
            // lab's secure web gateway says it, with its headers and its own page.
            502 | 504 => {
                let page = format!(
                    "<html><body><h1>{status} {}</h1><p>The proxy could not reach {host}.</p></body></html>\n",
                    wire::reason(status)
                );
                let mut r = Self::new(status, "text/html; charset=utf-8", page.into_bytes());
                r.headers[0].1 = GATEWAY_SERVER.into();
                r.headers.push(("Via", GATEWAY_VIA.into()));
                r
            }
            _ => Self::text(status, &format!("{status} {}\n", wire::reason(status))),
        }
    }

    /// The bytes on the wire; the `Date` header is `clock_offset_secs` off real time.
    pub(super) fn render(&self, head_only: bool, clock_offset_secs: i64) -> Vec<u8> {
        let date = chrono::Utc::now() + chrono::Duration::seconds(clock_offset_secs);
        let mut headers = vec![("Date", http_date(date))];
        headers.extend(self.headers.iter().map(|(n, v)| (*n, v.clone())));
        headers.push(("Content-Length", self.body.len().to_string()));
        headers.push(("Connection", "close".to_string()));
        let mut bytes = wire::response_head(self.status, &headers).into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

fn block_page(host: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>Access Denied</title></head>\n<body>\n\
         <h1>Access Denied</h1>\n\
         <p>Your request to <b>{host}</b> was blocked by your organization's policy.</p>\n\
         <p>Category: Uncategorized &middot; Contoso Secure Web Gateway</p>\n\
         <p>If you believe this is a mistake, contact your IT help desk.</p>\n\
         </body></html>\n"
    )
}

/// A short stand-in for a CRL: DER-looking bytes (a SEQUENCE header and filler), enough
/// for a probe that checks the content type and that bytes arrived.
const CRL_BODY: &[u8] = &[
    0x30, 0x82, 0x00, 0x2c, 0x30, 0x1c, 0x02, 0x01, 0x01, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x04, 0x03, 0x02, 0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x00,
    0x03, 0x0c, 0x00, 0x6d, 0x33, 0x36, 0x35, 0x6d, 0x6f, 0x6e, 0x2d, 0x6c, 0x61, 0x62,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(r: &Response) -> String {
        String::from_utf8_lossy(&r.render(false, 0)).into_owned()
    }

    #[test]
    fn healthy_answer_has_the_documented_headers() {
        let text = rendered(&Response::content("go.microsoft.com", "/"));
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("\r\nServer: m365mon-lab\r\n"));
        assert!(text.contains("\r\nConnection: close\r\n"));
        let body = "m365mon lab: go.microsoft.com answered /\n";
        assert!(text.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert!(text.ends_with(body));
    }

    #[test]
    fn crl_and_ncsi_paths() {
        let crl = Response::content(
            "crl.microsoft.com",
            "/pki/crl/products/MicrosoftRootAuthority.crl",
        );
        assert!(crl
            .headers
            .iter()
            .any(|(n, v)| *n == "Content-Type" && v == "application/pkix-crl"));
        assert_eq!(crl.body[0], 0x30);
        assert_eq!(
            Response::content("www.msftconnecttest.com", "/connecttest.txt").body,
            NCSI_BODY.as_bytes()
        );
    }

    #[test]
    fn block_page_and_proxy_auth_look_like_a_gateway() {
        let text = rendered(&Response::for_status(403, "ols.officeapps.live.com"));
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(text.contains("\r\nVia: 1.1 contoso-swg (Secure Web Gateway)\r\n"));
        assert!(text.contains("Access Denied") && text.contains("blocked by your organization's policy"));
        let text = rendered(&Response::for_status(407, "x"));
        assert!(
            text.contains("\r\nProxy-Authenticate: Basic realm=\"lab\"\r\n"),
            "{text}"
        );
        let text = rendered(&Response::for_status(503, "x"));
        assert!(
            text.starts_with("HTTP/1.1 503 Service Unavailable\r\n") && text.contains("Server: m365mon-lab")
        );
    }

    #[test]
    fn head_gets_headers_only() {
        let r = Response::content("a", "/");
        let text = String::from_utf8(r.render(true, 0)).unwrap();
        assert!(text.ends_with("\r\n\r\n") && text.contains("Content-Length: "));
    }

    #[test]
    fn date_is_imf_fixdate() {
        let at = chrono::DateTime::parse_from_rfc3339("1994-11-06T08:49:37Z")
            .unwrap()
            .to_utc();
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[tokio::test]
    async fn request_heads_are_read_or_refused() {
        let mut ok: &[u8] = b"GET /olsc?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
        let r = read_request(&mut ok).await.unwrap().unwrap();
        assert_eq!((r.method.as_str(), r.target.as_str()), ("GET", "/olsc?x=1"));
        let mut bad: &[u8] = b"NOT HTTP\r\n\r\n";
        assert!(read_request(&mut bad).await.unwrap().is_none());
        let mut gone: &[u8] = b"GET / HT";
        assert!(read_request(&mut gone).await.is_err());
    }
}
