//! The `http` stage: one request, and a judgement of the answer.
//!
//! Any answer from the origin means the endpoint is reachable — a 404 on a bare host is
//! normal. What is not an answer from the origin: a 407 (a proxy wants credentials), and a
//! 403 whose headers or body show a proxy or a block page. That is the rule Microsoft's own
//! connectivity test uses.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::model::{Cause, HttpInfo};

/// Largest response head we read; anything bigger is not a sane origin answer.
const MAX_HEAD: usize = 64 * 1024;
/// How much body we look at for block-page words.
const BODY_PEEK: usize = 8 * 1024;

/// A classified HTTP failure.
#[derive(Debug, Clone)]
pub struct HttpFailure {
    pub cause: Cause,
    pub detail: String,
    pub info: Option<HttpInfo>,
}

/// Sends `GET path` and reads the answer's head (and a little of a 403's body).
pub async fn request<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    path: &str,
    timeout: Duration,
) -> Result<HttpInfo, HttpFailure> {
    request_with(stream, host, path, "", timeout).await
}

/// [`request`] with a request target that may be absolute (`http://host/path`, for a
/// proxy) and extra header lines, each ending in CRLF (`Proxy-Authorization`).
pub async fn request_with<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    target: &str,
    extra_headers: &str,
    timeout: Duration,
) -> Result<HttpInfo, HttpFailure> {
    match tokio::time::timeout(timeout, exchange(stream, host, target, extra_headers)).await {
        Err(_) => Err(HttpFailure {
            cause: Cause::HttpTimeout,
            detail: format!("no HTTP answer within {:.1} s", timeout.as_secs_f64()),
            info: None,
        }),
        Ok(Err(e)) => Err(e),
        Ok(Ok((info, body))) => judge(info, &body),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    path: &str,
    extra_headers: &str,
) -> Result<(HttpInfo, Vec<u8>), HttpFailure> {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: m365mon/{}\r\nAccept: */*\r\n{extra_headers}Connection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let io_fail = |e: std::io::Error| {
        let cause = match e.kind() {
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => Cause::TcpReset,
            _ => Cause::HttpProtocol,
        };
        HttpFailure {
            cause,
            detail: format!("connection failed during the HTTP request: {e}"),
            info: None,
        }
    };
    stream.write_all(req.as_bytes()).await.map_err(io_fail)?;
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
                return Err(HttpFailure {
                    cause: Cause::HttpProtocol,
                    detail: "the connection closed without an HTTP answer".into(),
                    info: None,
                });
            }
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(head_end) = find_head_end(&buf) {
            let info = parse_head(&buf[..head_end])?;
            let mut body = buf[head_end..].to_vec();
            if info.status == 403 && body.len() < BODY_PEEK {
                // Read a little more of a 403 to recognise a block page; never wait long.
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
            return Ok((info, body));
        }
        if buf.len() > MAX_HEAD {
            break;
        }
    }
    Err(HttpFailure {
        cause: Cause::HttpProtocol,
        detail: "the answer is not HTTP".into(),
        info: None,
    })
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn parse_head(head: &[u8]) -> Result<HttpInfo, HttpFailure> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(HttpFailure {
                cause: Cause::HttpProtocol,
                detail: "the answer is not valid HTTP".into(),
                info: None,
            })
        }
    }
    let get = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    Ok(HttpInfo {
        status: resp.code.unwrap_or(0),
        server: get("server"),
        via: get("via"),
        date: get("date"),
    })
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

/// Decides whether an answer came from the origin.
fn judge(info: HttpInfo, body: &[u8]) -> Result<HttpInfo, HttpFailure> {
    match info.status {
        407 => Err(HttpFailure {
            cause: Cause::HttpProxyAuth,
            detail: "HTTP 407: a proxy asks for credentials".into(),
            info: Some(info),
        }),
        403 => {
            let text = String::from_utf8_lossy(body).to_ascii_lowercase();
            let via_proxy = info.via.is_some();
            let server = info.server.clone().unwrap_or_default().to_ascii_lowercase();
            let words = BLOCK_WORDS
                .iter()
                .find(|w| text.contains(*w) || server.contains(*w));
            if via_proxy || words.is_some() {
                let by = info
                    .via
                    .clone()
                    .or_else(|| info.server.clone())
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                Err(HttpFailure {
                    cause: Cause::HttpBlocked,
                    detail: format!("HTTP 403 block page from a proxy or filter{by}"),
                    info: Some(info),
                })
            } else {
                Ok(info)
            }
        }
        _ => Ok(info),
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
        }
    }

    #[test]
    fn any_origin_answer_is_reachable() {
        assert!(judge(info(404, None), b"").is_ok());
        assert!(judge(info(200, None), b"").is_ok());
        assert!(
            judge(info(403, None), b"{\"error\":\"forbidden\"}").is_ok(),
            "a plain origin 403 is an answer"
        );
    }

    #[test]
    fn proxy_answers_are_blocks() {
        assert_eq!(
            judge(info(407, None), b"").unwrap_err().cause,
            Cause::HttpProxyAuth
        );
        assert_eq!(
            judge(info(403, Some("1.1 swg")), b"").unwrap_err().cause,
            Cause::HttpBlocked
        );
        let e = judge(info(403, None), b"<html>Access Denied: blocked by policy</html>").unwrap_err();
        assert_eq!(e.cause, Cause::HttpBlocked);
    }

    #[test]
    fn head_parsing() {
        let h =
            parse_head(b"HTTP/1.1 404 Not Found\r\nServer: x\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n")
                .unwrap();
        assert_eq!(h.status, 404);
        assert_eq!(h.server.as_deref(), Some("x"));
        assert!(h.date.is_some());
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }
}
