//! A small GET for what is fetched rather than probed: the PAC file and the connectivity
//! indicator's text. Plain HTTP only, one request per connection, bounded in time and
//! size; no stage timings (those are the probes' job).

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{parse_response, Request, MAX_HEAD};

/// An answer to [`get`].
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub location: Option<String>,
    /// The validators for a conditional GET next time (`ETag`, `Last-Modified`).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
    /// Whether the body was cut at the size limit.
    pub truncated: bool,
}

/// How [`get`] reaches the server.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    /// Straight to this address (the caller resolved the name).
    Direct(SocketAddr),
    /// Through an HTTP proxy at `addr` (its name resolved by the caller, shown as
    /// `name`), with its `Proxy-Authorization` value if it wants one.
    Proxy {
        name: &'a str,
        addr: SocketAddr,
        authorization: Option<&'a str>,
    },
}

/// Fetches `http://host:port/path`, reading at most `max_body` bytes of body; the whole
/// exchange ends within `timeout`.
pub async fn get(
    host: &str,
    port: u16,
    path: &str,
    via: Via<'_>,
    timeout: Duration,
    max_body: usize,
) -> Result<Fetched, String> {
    get_with(host, port, path, via, timeout, max_body, &[]).await
}

/// [`get`] with more request headers (`If-None-Match`, `If-Modified-Since` for a
/// conditional GET, answered `304 Not Modified` with no body when nothing changed).
pub async fn get_with(
    host: &str,
    port: u16,
    path: &str,
    via: Via<'_>,
    timeout: Duration,
    max_body: usize,
    headers: &[(&'static str, String)],
) -> Result<Fetched, String> {
    let work = async {
        let (mut stream, request) = match via {
            Via::Direct(addr) => {
                let s = TcpStream::connect(addr)
                    .await
                    .map_err(|e| format!("cannot connect to {host} ({addr}): {e}"))?;
                (s, Request::get(path, host))
            }
            Via::Proxy {
                name,
                addr,
                authorization,
            } => {
                let s = TcpStream::connect(addr)
                    .await
                    .map_err(|e| format!("cannot connect to proxy {name}:{} ({addr}): {e}", addr.port()))?;
                let authority = if port == 80 {
                    host.to_string()
                } else {
                    format!("{host}:{port}")
                };
                let mut request = Request::get(format!("http://{authority}{path}"), host);
                if let Some(a) = authorization {
                    request = request.header("Proxy-Authorization", a);
                }
                (s, request)
            }
        };
        let request = headers
            .iter()
            .fold(request, |r, (name, value)| r.header(name, value.clone()));
        stream
            .write_all(&request.to_bytes())
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
    let mut head = None;
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
        if head.is_none() {
            head = parse_response(&buf).map_err(|_| "the answer is not valid HTTP")?;
        }
        if let Some((h, end)) = &head {
            // 304 and 204 answers have no body, whatever their headers say.
            if matches!(h.status, 204 | 304) {
                break;
            }
            // Stop once Content-Length bytes are in, or past the limit.
            let have = buf.len() - end;
            if h.headers
                .content_length()
                .is_some_and(|l| l.is_ok_and(|l| have >= l))
            {
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
    let (head, end) = match head {
        Some(h) => h,
        None => return Err("the answer is not HTTP".into()),
    };
    let mut body = if matches!(head.status, 204 | 304) {
        Vec::new()
    } else {
        buf[end..].to_vec()
    };
    if let Some(Ok(l)) = head.headers.content_length() {
        body.truncate(l);
    }
    if body.len() > max_body {
        body.truncate(max_body);
        truncated = true;
    }
    Ok(Fetched {
        status: head.status,
        location: head.headers.get("location"),
        etag: head.headers.get("etag"),
        last_modified: head.headers.get("last-modified"),
        body,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_stop_at_their_length_or_the_limit() {
        let mut answer: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        let got = read_response(&mut answer, 100).await.unwrap();
        assert_eq!(
            (got.status, got.body.as_slice(), got.truncated),
            (200, &b"abc"[..], false)
        );
        let mut long: &[u8] = b"HTTP/1.1 200 OK\r\nLocation: /x\r\n\r\n0123456789";
        let got = read_response(&mut long, 4).await.unwrap();
        assert_eq!((got.body.as_slice(), got.truncated), (&b"0123"[..], true));
        assert_eq!(got.location.as_deref(), Some("/x"));
        let mut unchanged: &[u8] =
            b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 500\r\n\r\n";
        let got = read_response(&mut unchanged, 100).await.unwrap();
        assert_eq!((got.status, got.body.len()), (304, 0));
        assert_eq!(got.etag.as_deref(), Some("\"v1\""));
        let mut garbage: &[u8] = b"\x16\x03\x01 not http at all\r\n\r\n";
        assert!(read_response(&mut garbage, 4).await.is_err());
    }
}
