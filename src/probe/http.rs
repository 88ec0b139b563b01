//! The `http` stage: one request, and a judgement of the answer.
//!
//! Any answer from the origin means the endpoint is reachable — a 404 on a bare host is
//! normal. What is not an answer from the origin: a 407 (a proxy wants credentials), and a
//! 403 whose headers or body show a proxy or a block page. That is the rule Microsoft's own
//! connectivity test uses.

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
) -> Result<HttpInfo, StageFailure> {
    match tokio::time::timeout(timeout, exchange(stream, request)).await {
        Err(_) => Err(fail(
            Cause::HttpTimeout,
            format!("no HTTP answer within {:.1} s", timeout.as_secs_f64()),
            None,
        )),
        Ok(Err(e)) => Err(e),
        Ok(Ok((info, body))) => judge(info, &body),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &wire::Request,
) -> Result<(HttpInfo, Vec<u8>), StageFailure> {
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

/// Decides whether an answer came from the origin.
fn judge(info: HttpInfo, body: &[u8]) -> Result<HttpInfo, StageFailure> {
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
            let text = String::from_utf8_lossy(body).to_ascii_lowercase();
            let via_proxy = info.via.is_some();
            let server = info.server.clone().unwrap_or_default().to_ascii_lowercase();
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
        let e = judge(info_of(&head), b"").unwrap_err();
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
