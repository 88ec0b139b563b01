//! Just enough HTTP/1.1 for a scrape endpoint: GET and HEAD, no request bodies,
//! keep-alive, bounded sizes and times.
//!
//! Heads are read and written by [`crate::http`] (on `httparse`), the same code every
//! other part of m365mon uses, rather than by a server framework: three read-only routes
//! do not justify the compile time of one on a two-core build, and every limit that
//! protects the monitor from a misbehaving client is visible here.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::http::{self as wire, HeadError};

/// Largest request head accepted; a scrape request is a few hundred bytes.
pub const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send a request head once it has started one (and, on a
/// fresh connection, from the connect): a scraper sends its few hundred bytes at once, so
/// anything slower is a client holding a connection open for nothing.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a keep-alive connection may sit silent between requests. Idle connections are
/// also the first to be closed when the exporter runs out of room ([`super`]).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long writing one answer may take: a client that asks and never reads is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the routes need to know of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw `Authorization` header value.
    pub authorization: Option<Vec<u8>>,
    /// Whether the client wants the connection kept open after the answer.
    pub keep_alive: bool,
}

/// Why a request could not be read; the connection is answered (when it makes sense) and
/// closed.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Not HTTP, or broken HTTP: answer 400.
    Malformed(String),
    /// The head is larger than [`MAX_HEAD`]: answer 431.
    TooLarge,
    /// A request with a body: answer 413 (nothing here takes one).
    Body,
    /// The client was silent too long, or went away mid-request: just close.
    Gone,
}

/// Reads one request head. `buf` carries bytes across requests of one connection
/// (pipelining). `Ok(None)` when the client closed the connection between requests.
///
/// `idle` is how long to wait for the first byte of a head; the rest of the head must then
/// follow within [`HEAD_TIMEOUT`]. A fresh connection passes `None`: the whole head, first
/// byte included, within [`HEAD_TIMEOUT`] of the connect.
pub async fn read_request<R: AsyncRead + Unpin>(
    stream: &mut R,
    buf: &mut Vec<u8>,
    idle: Option<Duration>,
) -> Result<Option<Request>, ReadError> {
    let start = tokio::time::Instant::now();
    // Deadline of the whole head; on keep-alive connections it starts with the first byte.
    let mut deadline = idle.is_none().then(|| start + HEAD_TIMEOUT);
    let first_byte_by = start + idle.unwrap_or(HEAD_TIMEOUT);
    loop {
        if !buf.is_empty() {
            if let Some((request, used)) = parse(buf)? {
                buf.drain(..used);
                return Ok(Some(request));
            }
        }
        if buf.len() >= MAX_HEAD {
            return Err(ReadError::TooLarge);
        }
        let until = match deadline {
            Some(d) => d,
            None if buf.is_empty() => first_byte_by,
            None => *deadline.insert(tokio::time::Instant::now() + HEAD_TIMEOUT),
        };
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout_at(until, stream.read(&mut chunk))
            .await
            .map_err(|_| ReadError::Gone)?
            .map_err(|_| ReadError::Gone)?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ReadError::Gone)
            };
        }
        if buf.is_empty() && deadline.is_none() {
            deadline = Some(tokio::time::Instant::now() + HEAD_TIMEOUT);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Parses a complete head at the start of `buf`: the request and the head's length.
fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, ReadError> {
    let (head, used) = match wire::parse_request(buf) {
        Ok(Some(done)) => done,
        Ok(None) => return Ok(None),
        Err(HeadError::TooLarge) => return Err(ReadError::TooLarge),
        Err(HeadError::Malformed(why)) => return Err(ReadError::Malformed(why)),
    };
    if used > MAX_HEAD {
        return Err(ReadError::TooLarge);
    }
    if head.headers.announces_body() {
        return Err(ReadError::Body);
    }
    let path = head.target.split(['?', '#']).next().unwrap_or("/").to_string();
    Ok(Some((
        Request {
            method: head.method.clone(),
            path,
            authorization: head.headers.raw("authorization").map(<[u8]>::to_vec),
            keep_alive: head.keep_alive(),
        },
        used,
    )))
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A plain-text answer (errors, health).
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Self::new(status, "text/plain; charset=utf-8", body)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Writes an answer; `head_only` for HEAD requests (headers as for GET, no body).
pub async fn write_response<W: AsyncWrite + Unpin>(
    stream: &mut W,
    response: &Response,
    head_only: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut headers = vec![
        ("Content-Type", response.content_type.to_string()),
        ("Content-Length", response.body.len().to_string()),
        ("Cache-Control", "no-store".to_string()),
        (
            "Connection",
            if keep_alive { "keep-alive" } else { "close" }.to_string(),
        ),
    ];
    headers.extend(response.headers.iter().map(|(n, v)| (*n, v.clone())));
    let write = async {
        stream
            .write_all(wire::response_head(response.status, &headers).as_bytes())
            .await?;
        if !head_only {
            stream.write_all(&response.body).await?;
        }
        stream.flush().await
    };
    tokio::time::timeout(WRITE_TIMEOUT, write)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(input: &[u8]) -> Vec<Result<Option<Request>, ReadError>> {
        let mut stream = input;
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            let r = read_request(&mut stream, &mut buf, Some(IDLE_TIMEOUT)).await;
            let stop = !matches!(r, Ok(Some(_)));
            out.push(r);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn parses_pipelined_requests_and_keep_alive() {
        let input = b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\n\r\n\
                      HEAD /healthz HTTP/1.0\r\n\r\n\
                      GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
        let got = read_all(input).await;
        assert_eq!(got.len(), 4);
        let first = got[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(
            (first.method.as_str(), first.path.as_str(), first.keep_alive),
            ("GET", "/metrics", true)
        );
        assert_eq!(first.authorization.as_deref(), Some(&b"Bearer t"[..]));
        let second = got[1].as_ref().unwrap().as_ref().unwrap();
        assert_eq!((second.method.as_str(), second.keep_alive), ("HEAD", false));
        assert!(!got[2].as_ref().unwrap().as_ref().unwrap().keep_alive);
        assert_eq!(got[3], Ok(None), "clean end between requests");
    }

    #[tokio::test]
    async fn refuses_garbage_bodies_and_huge_heads() {
        assert!(matches!(
            read_all(b"\x16\x03\x01 not http\r\n\r\n").await[0],
            Err(ReadError::Malformed(_))
        ));
        assert_eq!(
            read_all(b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello").await[0],
            Err(ReadError::Body)
        );
        let mut huge = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        assert_eq!(read_all(&huge).await[0], Err(ReadError::TooLarge));
        assert_eq!(
            read_all(b"GET / HTTP/1.1\r\nHost").await[0],
            Err(ReadError::Gone),
            "cut mid-head"
        );
    }

    #[tokio::test]
    async fn writes_length_and_connection_headers() {
        let mut out = Vec::new();
        let r = Response::text(401, "no").with_header("WWW-Authenticate", "Bearer realm=\"m365mon\"");
        write_response(&mut out, &r, false, false).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
        assert!(text.contains("Content-Length: 3\r\n"));
        assert!(text.contains("Connection: close\r\n"));
        assert!(text.contains("WWW-Authenticate: Bearer realm=\"m365mon\"\r\n"));
        assert!(text.ends_with("\r\n\r\nno\n"));

        let mut out = Vec::new();
        write_response(&mut out, &Response::text(200, "body"), true, true)
            .await
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("Content-Length: 5\r\n") && text.ends_with("\r\n\r\n"),
            "HEAD: no body: {text}"
        );
    }
}
