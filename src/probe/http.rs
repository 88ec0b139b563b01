//! The `http` stage: one request, and a judgement of the answer.
//!
//! An answer from the origin means the endpoint is reachable — a 404 on a bare host is
//! normal, so 2xx, 3xx and the 4xx a bare host gives pass. What is not an answer from the
//! origin: a 407 (a proxy wants credentials), a 403 whose headers or body show a proxy or
//! a block page (the rule Microsoft's own connectivity test uses), and a 502 or 504 that
//! carries a proxy's or gateway's signature — those are made by the device in the path.
//! A server error (5xx) or a 401 with no authentication challenge is an answer, but not a
//! healthy one: a warning, as curl's `--fail` and blackbox_exporter's default
//! `valid_status_codes` (2xx) would not call it a success either.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::StageFailure;
use crate::http::{self as wire, ResponseHead};
use crate::model::{Cause, HttpInfo, StageName};

/// How much body we look at for block-page words.
const BODY_PEEK: usize = 8 * 1024;

/// What a probe keeps of a response head.
pub fn info_of(head: &ResponseHead) -> HttpInfo {
    HttpInfo {
        status: head.status,
        server: head.headers.get("server"),
        via: head.headers.get("via"),
        date: head.headers.get("date"),
        proxy_authenticate: if head.status == 407 {
            head.headers.auth_schemes("proxy-authenticate")
        } else {
            Vec::new()
        },
    }
}

/// What a proxy's 407 asks for, in words, from the schemes it offers: "Negotiate
/// (Kerberos/Windows) or NTLM (Windows) credentials", "Basic (name and password)
/// credentials", or just "credentials" when it names none.
pub fn asks_for(schemes: &[String]) -> String {
    if schemes.is_empty() {
        return "credentials".into();
    }
    let named: Vec<String> = schemes
        .iter()
        .map(|s| {
            let kind = match s.to_ascii_lowercase().as_str() {
                "negotiate" => " (Kerberos/Windows)",
                "ntlm" => " (Windows)",
                "kerberos" => " (Windows)",
                "basic" => " (name and password)",
                "digest" => " (name and password)",
                _ => "",
            };
            format!("{s}{kind}")
        })
        .collect();
    format!("{} credentials", named.join(" or "))
}

fn fail(cause: Cause, detail: impl Into<String>, info: Option<HttpInfo>) -> StageFailure {
    StageFailure::new(StageName::Http, cause, detail).with_http(info)
}

/// Sends `request` and reads the answer's head (and a little of a 403's body), within
/// `timeout`; a 407 or a block page is a failure, any other answer is the origin's.
pub async fn request<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &wire::Request,
    timeout: Duration,
) -> Result<Answer, StageFailure> {
    match tokio::time::timeout(timeout, exchange(stream, request)).await {
        Err(_) => Err(fail(
            Cause::HttpTimeout,
            format!("no HTTP answer within {:.1} s", timeout.as_secs_f64()),
            None,
        )),
        Ok(Err(e)) => Err(e),
        Ok(Ok((info, body, challenged))) => judge(info, &body, challenged),
    }
}

/// An answer the stage accepts, with a warning when it is not a healthy one.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub info: HttpInfo,
    /// Why the answer, though from the origin, is not healthy (a 5xx, a bare 401).
    pub warning: Option<(Cause, String)>,
}

/// The answer's head, a little of its body, and whether a 401 came with a
/// `WWW-Authenticate` challenge.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &wire::Request,
) -> Result<(HttpInfo, Vec<u8>, bool), StageFailure> {
    let io_fail = |e: std::io::Error| {
        let cause = match e.kind() {
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => Cause::TcpReset,
            _ => Cause::HttpProtocol,
        };
        fail(
            cause,
            format!("connection failed during the HTTP request: {e}"),
            None,
        )
    };
    stream.write_all(&request.to_bytes()).await.map_err(io_fail)?;
    stream.flush().await.map_err(io_fail)?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            // A TLS peer that closes without close_notify after answering is common.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !buf.is_empty() => 0,
            Err(e) => return Err(io_fail(e)),
        };
        if n == 0 {
            if buf.is_empty() {
                return Err(fail(
                    Cause::HttpProtocol,
                    "the connection closed without an HTTP answer",
                    None,
                ));
            }
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let parsed = match wire::parse_response(&buf) {
            Ok(p) => p,
            Err(wire::HeadError::TooLarge) => break,
            // Judged once the head has ended, as before: a peer that sends a line of
            // something else and then waits is a timeout, not a protocol error.
            Err(wire::HeadError::Malformed(_)) if !buf.windows(4).any(|w| w == b"\r\n\r\n") => {
                if buf.len() > wire::MAX_HEAD {
                    break;
                }
                continue;
            }
            Err(wire::HeadError::Malformed(_)) => {
                return Err(fail(Cause::HttpProtocol, "the answer is not valid HTTP", None))
            }
        };
        if let Some((head, head_end)) = parsed {
            let info = info_of(&head);
            let challenged = head.headers.get("www-authenticate").is_some();
            let mut body = buf[head_end..].to_vec();
            if matches!(info.status, 403 | 502 | 504) && body.len() < BODY_PEEK {
                // Read a little more of a 403, 502 or 504 to recognise a proxy's page;
                // never wait long.
                let _ = tokio::time::timeout(Duration::from_millis(300), async {
                    while body.len() < BODY_PEEK {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => body.extend_from_slice(&chunk[..n]),
                        }
                    }
                })
                .await;
            }
            return Ok((info, body, challenged));
        }
    }
    Err(fail(Cause::HttpProtocol, "the answer is not HTTP", None))
}

/// Who gave an answer, as its `Via` (else `Server`) header says: `" (1.1 contoso-swg)"`,
/// or nothing when neither is there. For the words of a block.
pub fn answered_by(info: &HttpInfo) -> String {
    info.via
        .clone()
        .or_else(|| info.server.clone())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default()
}

/// Words that betray a proxy or filter block page.
const BLOCK_WORDS: &[&str] = &[
    "blocked",
    "access denied",
    "web filter",
    "url filtering",
    "policy",
    "proxy",
    "zscaler",
    "bluecoat",
    "blue coat",
    "fortiguard",
    "fortigate",
    "netskope",
    "palo alto",
    "forcepoint",
    "websense",
    "squid",
    "secure web gateway",
];

/// Words that name a proxy product in a 502/504's `Server` header or error page. Not
/// "gateway": every 504 page says "Gateway Timeout", the origin's front door's too.
const PROXY_WORDS: &[&str] = &[
    "proxy",
    "squid",
    "zscaler",
    "bluecoat",
    "blue coat",
    "fortigate",
    "fortiguard",
    "netskope",
    "palo alto",
    "forcepoint",
    "websense",
    "secure web gateway",
];

/// Decides whether an answer came from the origin, and whether it is a healthy one.
/// `challenged`: a 401 came with a `WWW-Authenticate` header (an origin asking for a
/// token, which is how Exchange and Graph answer a bare request).
fn judge(info: HttpInfo, body: &[u8], challenged: bool) -> Result<Answer, StageFailure> {
    let ok = |info| Ok(Answer { info, warning: None });
    let warn = |info, cause, why: String| {
        Ok(Answer {
            info,
            warning: Some((cause, why)),
        })
    };
    let text = || String::from_utf8_lossy(body).to_ascii_lowercase();
    let server = info.server.clone().unwrap_or_default().to_ascii_lowercase();
    match info.status {
        407 => Err(fail(
            Cause::HttpProxyAuth,
            format!(
                "HTTP 407: a proxy asks for {}",
                asks_for(&info.proxy_authenticate)
            ),
            Some(info),
        )),
        403 => {
            let text = text();
            let via_proxy = info.via.is_some();
            let words = BLOCK_WORDS
                .iter()
                .find(|w| text.contains(*w) || server.contains(*w));
            if via_proxy || words.is_some() {
                let by = answered_by(&info);
                Err(fail(
                    Cause::HttpBlocked,
                    format!("HTTP 403 block page from a proxy or filter{by}"),
                    Some(info),
                ))
            } else {
                ok(info)
            }
        }
        status @ (502 | 504) => {
            let text = text();
            let signed = info.via.is_some()
                || PROXY_WORDS
                    .iter()
                    .any(|w| server.contains(*w) || text.contains(*w));
            if signed {
                let by = answered_by(&info);
                let what = if status == 502 {
                    "bad gateway"
                } else {
                    "gateway timeout"
                };
                Err(fail(
                    Cause::HttpGateway,
                    format!(
                        "HTTP {status} ({what}) from a proxy or gateway{by}: it could not reach the origin"
                    ),
                    Some(info),
                ))
            } else {
                let why = format!("HTTP {status}, a gateway error, with nothing naming a proxy");
                warn(info, Cause::HttpServerError, why)
            }
        }
        status @ 500..=599 => warn(
            info,
            Cause::HttpServerError,
            format!("HTTP {status}: the server answered with an error"),
        ),
        401 if !challenged => warn(
            info,
            Cause::HttpServerError,
            "HTTP 401 with no authentication challenge".into(),
        ),
        _ => ok(info),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(status: u16, via: Option<&str>) -> HttpInfo {
        HttpInfo {
            status,
            server: None,
            via: via.map(str::to_string),
            date: None,
            proxy_authenticate: Vec::new(),
        }
    }

    #[test]
    fn a_407_names_the_schemes_it_offers() {
        let (head, _) = wire::parse_response(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\n\
              Proxy-Authenticate: NTLM\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        let e = judge(info_of(&head), b"", false).unwrap_err();
        assert_eq!(e.cause, Cause::HttpProxyAuth);
        assert_eq!(
            e.detail,
            "HTTP 407: a proxy asks for Negotiate (Kerberos/Windows) or NTLM (Windows) credentials"
        );
        let http = e.http.unwrap();
        assert_eq!(http.proxy_authenticate, ["Negotiate", "NTLM"]);
        assert!(http.asks_windows_credentials());
        assert_eq!(
            asks_for(&["Basic".into()]),
            "Basic (name and password) credentials"
        );
        assert_eq!(asks_for(&[]), "credentials");
        let (head, _) = wire::parse_response(b"HTTP/1.1 200 OK\r\nProxy-Authenticate: NTLM\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(info_of(&head).proxy_authenticate.is_empty(), "only a 407 is read");
    }

    #[test]
    fn any_origin_answer_is_reachable() {
        for status in [200, 204, 301, 302, 400, 404, 405] {
            let a = judge(info(status, None), b"", false).unwrap();
            assert_eq!(a.warning, None, "{status}");
        }
        assert_eq!(
            judge(info(403, None), b"{\"error\":\"forbidden\"}", false)
                .unwrap()
                .warning,
            None,
            "a plain origin 403 is an answer"
        );
        assert_eq!(
            judge(info(401, None), b"", true).unwrap().warning,
            None,
            "an origin asking for a token is healthy"
        );
    }

    #[test]
    fn proxy_answers_are_blocks() {
        assert_eq!(
            judge(info(407, None), b"", false).unwrap_err().cause,
            Cause::HttpProxyAuth
        );
        assert_eq!(
            judge(info(403, Some("1.1 swg")), b"", false).unwrap_err().cause,
            Cause::HttpBlocked
        );
        let e = judge(
            info(403, None),
            b"<html>Access Denied: blocked by policy</html>",
            false,
        )
        .unwrap_err();
        assert_eq!(e.cause, Cause::HttpBlocked);
    }

    #[test]
    fn server_errors_and_bare_401_warn_and_a_gateway_is_named() {
        for status in [500, 501, 502, 503, 504] {
            let a = judge(info(status, None), b"", false).unwrap();
            let (cause, why) = a.warning.unwrap_or_else(|| panic!("{status} is not healthy"));
            assert_eq!(cause, Cause::HttpServerError, "{status}");
            assert!(why.contains(&status.to_string()), "{why}");
        }
        let (cause, why) = judge(info(401, None), b"", false).unwrap().warning.unwrap();
        assert_eq!(cause, Cause::HttpServerError);
        assert!(why.contains("401"), "{why}");
        // A 502/504 with a proxy's signature: a Via header, a proxy's Server, its page.
        let e = judge(info(502, Some("1.1 edge-proxy")), b"", false).unwrap_err();
        assert_eq!(e.cause, Cause::HttpGateway);
        assert!(
            e.detail
                .contains("HTTP 502 (bad gateway) from a proxy or gateway (1.1 edge-proxy)"),
            "{}",
            e.detail
        );
        let mut squid = info(504, None);
        squid.server = Some("squid/5.7".into());
        let e = judge(squid, b"", false).unwrap_err();
        assert_eq!(e.cause, Cause::HttpGateway);
        assert!(e.detail.contains("gateway timeout"), "{}", e.detail);
        let page = b"<h1>Gateway Timeout</h1><p>Generated by gw1.contoso.com (squid/5.7)</p>";
        let e = judge(info(504, None), page, false).unwrap_err();
        assert_eq!(e.cause, Cause::HttpGateway);
        // An origin's plain "Gateway Timeout" page names no proxy: a warning, not a proxy.
        let a = judge(info(504, None), b"<h1>504 Gateway Time-out</h1>", false).unwrap();
        assert_eq!(a.warning.map(|w| w.0), Some(Cause::HttpServerError));
        // A 500 or 503 is the origin's, whatever its headers.
        assert!(judge(info(503, Some("1.1 edge-proxy")), b"", false).is_ok());
    }

    #[test]
    fn head_parsing() {
        let (head, _) = wire::parse_response(
            b"HTTP/1.1 404 Not Found\r\nServer: x\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        let h = info_of(&head);
        assert_eq!(h.status, 404);
        assert_eq!(h.server.as_deref(), Some("x"));
        assert!(h.date.is_some());
        assert!(wire::parse_response(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }
}
