//! HTTP/1.1 on the wire, written and read in one place.
//!
//! Every part of m365mon that speaks HTTP goes through here: the probes' `http` stage and
//! CONNECT tunnels, the PAC and connectivity-indicator downloads ([`get`]), `attach`,
//! `serve`, and the lab's origin and proxy. Heads are parsed by `httparse`; this module
//! adds what every caller needs around it — one way to write a request, one response-head
//! and one request-head type, size limits, reason phrases — so a fix to how we read HTTP
//! lands everywhere at once.
//!
//! No client or server framework: the probes drive each stage by hand over a stream they
//! have already timed (a client library would hide the per-stage timings and failures a
//! technician needs), and the servers are small enough that every limit stays visible.
//! Nothing here knows about checks, causes or the terminal.

pub mod get;
pub mod url;

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest head read or accepted, request or response: far above any sane one.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header lines parsed in one head.
pub const MAX_HEADERS: usize = 64;

/// `m365mon/VERSION`, the `User-Agent` of every request.
pub fn user_agent() -> String {
    format!("m365mon/{}", env!("CARGO_PKG_VERSION"))
}

/// A request head to send: request line, `Host`, `User-Agent`, then the caller's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    method: &'static str,
    target: String,
    headers: Vec<(&'static str, String)>,
}

impl Request {
    /// `GET target` for `host`, asking the server to close the connection after answering
    /// (one request per connection is all any caller here needs).
    pub fn get(target: impl Into<String>, host: impl Into<String>) -> Self {
        Self {
            method: "GET",
            target: target.into(),
            headers: vec![
                ("Host", host.into()),
                ("User-Agent", user_agent()),
                ("Accept", "*/*".into()),
                ("Connection", "close".into()),
            ],
        }
    }

    /// `CONNECT host:port`, asking a proxy for a tunnel.
    pub fn connect(authority: impl Into<String>) -> Self {
        let authority = authority.into();
        Self {
            method: "CONNECT",
            target: authority.clone(),
            headers: vec![
                ("Host", authority),
                ("User-Agent", user_agent()),
                ("Proxy-Connection", "keep-alive".into()),
            ],
        }
    }

    /// Sets a header, replacing one of the same name.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(h) => h.1 = value,
            None => self.headers.push((name, value)),
        }
        self
    }

    /// The head as sent, ending in the blank line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        for (name, value) in &self.headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

/// Header lines as received: names as sent, values as raw bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, Vec<u8>)>);

impl Headers {
    fn from_parsed(parsed: &[httparse::Header<'_>]) -> Self {
        Self(
            parsed
                .iter()
                .map(|h| (h.name.to_string(), h.value.to_vec()))
                .collect(),
        )
    }

    /// The first value of `name` (any case), as raw bytes.
    pub fn raw(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of `name` (any case) as text, trimmed.
    pub fn get(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
    }

    /// Every value of `name` (any case) as text, trimmed, in order.
    pub fn get_all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_string())
            .collect()
    }

    /// The authentication schemes a `WWW-Authenticate` or `Proxy-Authenticate` header
    /// (`name`) offers, as sent (`Negotiate`, `NTLM`, `Basic`), in order, each once. A
    /// proxy may send one header per scheme or several challenges in one header
    /// (`Basic realm="x", Negotiate`); parameters and tokens are not kept.
    pub fn auth_schemes(&self, name: &str) -> Vec<String> {
        let mut schemes: Vec<String> = Vec::new();
        for value in self.get_all(name) {
            for scheme in challenge_schemes(&value) {
                if !schemes.iter().any(|s| s.eq_ignore_ascii_case(&scheme)) {
                    schemes.push(scheme);
                }
            }
        }
        schemes
    }

    /// Every header, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// `Content-Length`: `None` when absent, `Some(Err)` when not a number.
    pub fn content_length(&self) -> Option<Result<usize, ()>> {
        self.get("content-length").map(|v| v.parse().map_err(|_| ()))
    }

    /// Whether the body is sent in chunks.
    pub fn is_chunked(&self) -> bool {
        self.get("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// Whether a body follows the head (a length other than 0, or chunks).
    pub fn announces_body(&self) -> bool {
        self.raw("content-length").is_some_and(|v| v.trim_ascii() != b"0")
            || self.raw("transfer-encoding").is_some()
    }
}

/// The schemes of the challenges in one header value (RFC 9110 section 11.6.1): the
/// comma-separated items outside quotes whose first word is a token and not a parameter
/// (`realm="x"`) are the start of a challenge, and that word is its scheme.
fn challenge_schemes(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                items.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&value[start..]);
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    items
        .into_iter()
        .filter_map(|item| {
            let item = item.trim_start();
            let end = item.find(|c: char| !is_tchar(c)).unwrap_or(item.len());
            let (word, rest) = item.split_at(end);
            // `realm="x"`, `realm = "x"`: a parameter of the challenge before it.
            let param = rest.trim_start().starts_with('=');
            let whole_word = rest.is_empty() || rest.starts_with(char::is_whitespace);
            (!word.is_empty() && !param && whole_word).then(|| word.to_string())
        })
        .collect()
}

/// A response's status line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub headers: Headers,
}

/// A request's request line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// As sent: a path (`/metrics?x=1`), an absolute URL (to a proxy) or `host:port`
    /// (CONNECT).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: Headers,
}

impl RequestHead {
    /// Whether the client wants the connection kept open after the answer: HTTP/1.0
    /// closes unless asked not to, HTTP/1.1 keeps open unless asked to close.
    pub fn keep_alive(&self) -> bool {
        let connection = self.headers.get("connection").map(|c| c.to_ascii_lowercase());
        match self.minor_version {
            0 => connection.is_some_and(|c| c.contains("keep-alive")),
            _ => !connection.is_some_and(|c| c.contains("close")),
        }
    }
}

/// Why a head could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// Not HTTP, or broken HTTP.
    Malformed(String),
    /// Longer than [`MAX_HEAD`], or more than [`MAX_HEADERS`] lines.
    TooLarge,
}

/// Parses a response head at the start of `buf`: the head and its length in bytes, or
/// `None` while it is incomplete.
pub fn parse_response(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => Ok(Some((
            ResponseHead {
                status: resp.code.unwrap_or(0),
                headers: Headers::from_parsed(resp.headers),
            },
            n,
        ))),
        Ok(httparse::Status::Complete(_)) => Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HeadError::TooLarge),
        Err(e) => Err(HeadError::Malformed(e.to_string())),
    }
}

/// Parses a request head at the start of `buf`; see [`parse_response`].
pub fn parse_request(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => Ok(Some((
            RequestHead {
                method: req.method.unwrap_or("").to_string(),
                target: req.path.unwrap_or("/").to_string(),
                minor_version: req.version.unwrap_or(1),
                headers: Headers::from_parsed(req.headers),
            },
            n,
        ))),
        Ok(httparse::Status::Complete(_)) => Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HeadError::TooLarge),
        Err(e) => Err(HeadError::Malformed(e.to_string())),
    }
}

/// Reads from `stream` into `buf` until `buf` holds a complete head (request or response,
/// as `parse` says); returns what `parse` made of it. `Ok(None)` when the peer closed
/// before sending anything.
pub async fn read_head<S, T>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    parse: impl Fn(&[u8]) -> Result<Option<(T, usize)>, HeadError>,
) -> Result<Option<(T, usize)>, ReadHeadError>
where
    S: AsyncRead + Unpin,
{
    let mut chunk = [0u8; 4096];
    loop {
        if !buf.is_empty() {
            if let Some(done) = parse(buf).map_err(ReadHeadError::Head)? {
                return Ok(Some(done));
            }
        }
        let n = stream.read(&mut chunk).await.map_err(ReadHeadError::Io)?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ReadHeadError::Io(io::ErrorKind::UnexpectedEof.into()))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Why [`read_head`] stopped.
#[derive(Debug)]
pub enum ReadHeadError {
    Io(io::Error),
    Head(HeadError),
}

/// Reads a response head up to its blank line one byte at a time: after a CONNECT the
/// next bytes belong to the tunnel and must stay unread.
pub async fn read_head_exact<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the peer closed the connection",
            ));
        }
        head.push(byte[0]);
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
    }
    Ok(head)
}

/// A response head to send: status line, the given headers, the blank line.
pub fn response_head(status: u16, headers: &[(&str, String)]) -> String {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out
}

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Decodes a chunked body (what a reverse proxy may turn an answer into); `None` when
/// the encoding is broken or incomplete.
pub fn decode_chunked(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        // A size near usize::MAX (found by fuzz/http_heads: "FFFFFFFFFFFFFFFF") must not
        // wrap around to a small one and slice past the end.
        if size.checked_add(2).is_none_or(|need| data.len() < need) {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Standard base64 with padding (Basic credentials, RFC 7617; the TUI's OSC 52 copy).
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
    fn auth_schemes_are_read_from_every_challenge() {
        let head = |lines: &str| {
            parse_response(format!("HTTP/1.1 407 Proxy Authentication Required\r\n{lines}\r\n").as_bytes())
                .unwrap()
                .unwrap()
                .0
        };
        let h = head("Proxy-Authenticate: Negotiate\r\nproxy-authenticate: NTLM\r\n");
        assert_eq!(
            h.headers.auth_schemes("Proxy-Authenticate"),
            ["Negotiate", "NTLM"]
        );
        let h = head(
            "Proxy-Authenticate: Basic realm=\"a, b\", charset=\"UTF-8\", Negotiate YIIGhgYGKwYBBQUC==\r\n\
             Proxy-Authenticate: Digest realm = \"x\", qop=\"auth\", nonce=\"n\\\",Evil\", basic\r\n",
        );
        assert_eq!(
            h.headers.auth_schemes("proxy-authenticate"),
            ["Basic", "Negotiate", "Digest"],
            "parameters, quoted commas and repeats are not schemes"
        );
        assert!(head("Server: x\r\n")
            .headers
            .auth_schemes("Proxy-Authenticate")
            .is_empty());
        assert_eq!(
            head("WWW-Authenticate: Bearer\r\n")
                .headers
                .auth_schemes("WWW-Authenticate"),
            ["Bearer"]
        );
    }

    #[test]
    fn requests_are_written_one_way() {
        let get = Request::get("/x", "a.example").header("Proxy-Authorization", "Basic eA==");
        let text = String::from_utf8(get.to_bytes()).unwrap();
        assert!(
            text.starts_with("GET /x HTTP/1.1\r\nHost: a.example\r\nUser-Agent: m365mon/"),
            "{text}"
        );
        assert!(
            text.ends_with("Connection: close\r\nProxy-Authorization: Basic eA==\r\n\r\n"),
            "{text}"
        );
        let connect = String::from_utf8(Request::connect("h:443").to_bytes()).unwrap();
        assert!(
            connect.starts_with("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n"),
            "{connect}"
        );
        let replaced = Request::get("/", "a").header("Accept", "application/json");
        let text = String::from_utf8(replaced.to_bytes()).unwrap();
        assert_eq!(text.matches("Accept:").count(), 1, "{text}");
    }

    #[test]
    fn heads_parse_partial_complete_and_broken() {
        let (head, n) = parse_response(b"HTTP/1.1 204 No Content\r\nVia: 1.1 gw\r\n\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!((head.status, n), (204, 40));
        assert_eq!(head.headers.get("VIA").as_deref(), Some("1.1 gw"));
        assert_eq!(parse_response(b"HTTP/1.1 200 OK\r\nA: b").unwrap(), None);
        assert!(matches!(
            parse_response(b"\x16\x03\x01 hello\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
        let (req, _) = parse_request(b"GET /m?x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            (req.method.as_str(), req.target.as_str(), req.keep_alive()),
            ("GET", "/m?x", true)
        );
        let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge.resize(MAX_HEAD + 10, b'a');
        assert_eq!(parse_request(&huge), Err(HeadError::TooLarge));
    }

    #[test]
    fn chunked_bodies_and_base64() {
        assert_eq!(
            decode_chunked(b"2\r\n{\"\r\n3;x=y\r\nab\"\r\n1\r\n}\r\n0\r\n\r\n").unwrap(),
            b"{\"ab\"}"
        );
        assert_eq!(decode_chunked(b"5\r\nab"), None);
        assert_eq!(decode_chunked(b"FFFFFFFFFFFFFFFF\r\nConnec 0"), None);
        assert_eq!(decode_chunked(b"FFFFFFFFFFFFFFFE\r\nab\r\n"), None);
        assert_eq!(base64_encode(b"a"), "YQ==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b""), "");
        assert_eq!(
            base64_encode(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
