//! `m365mon attach URL`: the live monitor of another machine, drawn here.
//!
//! A technician runs `m365mon serve` on the user's PC (or a kiosk, a branch office
//! gateway) and watches it from their own terminal. The remote side already publishes its
//! whole snapshot at `/api/state`; this module polls it and republishes it through the
//! same [`MonitorHandle`] the local engine gives, so the TUI draws it unchanged. Commands
//! (probe now, pause, mark) are not sent anywhere: the view is read-only.
//!
//! Plain `http://` is what `serve` speaks; `https://` works through a reverse proxy with a
//! certificate this machine trusts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::engine::snapshot::EVENTS_LEN;
use crate::engine::{Event, EventKind, MonitorHandle, Snapshot};
use crate::http::{self, HeadError, Request};

/// How often `attach` asks for the state: the remote sweeps every few seconds, and its
/// events (markers, pauses) should show without a noticeable lag. One small request a
/// second is nothing on a LAN.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Cap for one poll (connect, request, answer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest state accepted: far above a real one (a few hundred kB), far below harm.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Why the remote state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    #[error(
        "{url:?} is not a monitor address: {why} (expected http://HOST:PORT, as printed by `m365mon serve`)"
    )]
    Url { url: String, why: String },
    #[error(
        "cannot reach the monitor at {url}: {why} (is `m365mon serve` running there, and the port open?)"
    )]
    Unreachable { url: String, why: String },
    #[error("{url} did not answer within {} s", REQUEST_TIMEOUT.as_secs())]
    Timeout { url: String },
    #[error(
        "{url} wants a token (HTTP 401): pass the one `m365mon serve` printed, with --token or M365MON_TOKEN"
    )]
    TokenMissing { url: String },
    #[error("{url} refused the token (HTTP 401): check it against the one `m365mon serve` printed")]
    TokenRefused { url: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} did not answer with an m365mon state: {why}")]
    NotAState { url: String, why: String },
}

/// Where the state is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub https: bool,
    /// Host name or IP (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path prefix before `/api/state` (for a reverse proxy's sub-path), without a
    /// trailing slash.
    pub prefix: String,
}

impl Target {
    /// Parses `http://HOST:PORT[/prefix]`, `https://...`, or bare `HOST:PORT` (http).
    pub fn parse(url: &str) -> Result<Target, RemoteError> {
        let bad = |why: &str| RemoteError::Url {
            url: url.to_string(),
            why: why.to_string(),
        };
        let trimmed = url.trim();
        let (https, rest) = if let Some(r) = trimmed.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = trimmed.strip_prefix("http://") {
            (false, r)
        } else if trimmed.contains("://") {
            return Err(bad("only http:// and https:// are supported"));
        } else {
            (false, trimmed)
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err(bad("user names in the address are not supported; use --token"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in the IPv6 address"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
            None if https => 443,
            None => crate::serve::DEFAULT_PORT,
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let mut prefix = path.trim_end_matches('/').to_string();
        if let Some(p) = prefix.strip_suffix("/api/state") {
            prefix = p.to_string();
        }
        Ok(Target {
            https,
            host: host.to_string(),
            port,
            prefix,
        })
    }

    /// The state URL, for messages.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}/api/state", self.authority(), self.prefix)
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A running remote view: the handle the TUI draws from, and the polling task (which ends
/// by itself once every handle is dropped).
pub struct Remote {
    pub handle: MonitorHandle,
    pub task: JoinHandle<()>,
}

/// Reads the remote state once (so a wrong address or token is reported before anything
/// is drawn), then polls it every `interval`. Later failures keep the last state on
/// screen and add one "lost contact" line to its events until the remote answers again.
pub async fn attach(url: &str, token: Option<String>, interval: Duration) -> Result<Remote, RemoteError> {
    let target = Target::parse(url)?;
    let client = Client::new(target, token);
    let body = client.fetch().await?;
    let first = client.decode(&body)?;
    let (tx, rx) = watch::channel(Arc::new(first));
    // Commands go nowhere: the receiver is dropped and `MonitorHandle::send` ignores that.
    let (cmd_tx, _) = mpsc::unbounded_channel();
    let task = tokio::spawn(poll(client, body, interval, tx));
    Ok(Remote {
        handle: MonitorHandle {
            snapshots: rx,
            commands: cmd_tx,
        },
        task,
    })
}

async fn poll(client: Client, mut last: Vec<u8>, interval: Duration, tx: watch::Sender<Arc<Snapshot>>) {
    let mut lost = false;
    loop {
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let result = match client.fetch().await {
            // Unchanged bytes, unchanged state: no redraw on the other end.
            Ok(body) if body == last && !lost => continue,
            Ok(body) => client.decode(&body).map(|s| (s, body)),
            Err(e) => Err(e),
        };
        match result {
            Ok((snapshot, body)) => {
                lost = false;
                last = body;
                let _ = tx.send(Arc::new(snapshot));
            }
            Err(e) if !lost => {
                lost = true;
                let mut s = (**tx.borrow()).clone();
                s.events.push_back(Event {
                    at: chrono::Utc::now(),
                    kind: EventKind::Info,
                    check: None,
                    from: None,
                    to: None,
                    text: format!("lost contact with the remote monitor: {e}; retrying"),
                });
                while s.events.len() > EVENTS_LEN {
                    s.events.pop_front();
                }
                let _ = tx.send(Arc::new(s));
            }
            Err(_) => {}
        }
    }
}

/// Fetches `/api/state` over one short connection per poll (polls are seconds apart; a
/// kept-alive connection would only add reconnect logic).
struct Client {
    target: Target,
    token: Option<String>,
    url: String,
}

impl Client {
    fn new(target: Target, token: Option<String>) -> Self {
        let url = target.url();
        Self { target, token, url }
    }

    fn decode(&self, body: &[u8]) -> Result<Snapshot, RemoteError> {
        serde_json::from_slice(body).map_err(|e| RemoteError::NotAState {
            url: self.url.clone(),
            why: e.to_string(),
        })
    }

    async fn fetch(&self) -> Result<Vec<u8>, RemoteError> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.fetch_inner())
            .await
            .map_err(|_| RemoteError::Timeout {
                url: self.url.clone(),
            })?
    }

    async fn fetch_inner(&self) -> Result<Vec<u8>, RemoteError> {
        let unreachable = |e: std::io::Error| RemoteError::Unreachable {
            url: self.url.clone(),
            why: e.to_string(),
        };
        let t = &self.target;
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((t.host.as_str(), t.port))
            .await
            .map_err(unreachable)?
            .collect();
        let mut last_error = std::io::Error::other("the name has no address");
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_error = e,
            }
        }
        let stream = stream.ok_or_else(|| unreachable(last_error))?;
        let raw = if t.https {
            let tls = self.tls_connect(stream).await?;
            self.exchange(tls).await?
        } else {
            self.exchange(stream).await?
        };
        self.body(&raw)
    }

    async fn tls_connect(
        &self,
        stream: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, RemoteError> {
        let fail = |why: String| RemoteError::Unreachable {
            url: self.url.clone(),
            why,
        };
        let trust = crate::probe::Trust::system(&[]).map_err(|e| fail(e.to_string()))?;
        let config = rustls::ClientConfig::builder_with_provider(trust.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(e.to_string()))?
            .with_root_certificates(trust.roots.clone())
            .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from(self.target.host.clone())
            .map_err(|_| fail("not a valid TLS server name".into()))?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, stream)
            .await
            .map_err(|e| fail(format!("TLS: {e}")))
    }

    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut stream: S,
    ) -> Result<Vec<u8>, RemoteError> {
        let io = |e: std::io::Error| RemoteError::Unreachable {
            url: self.url.clone(),
            why: e.to_string(),
        };
        let mut request = Request::get(
            format!("{}/api/state", self.target.prefix),
            self.target.authority(),
        )
        .header("Accept", "application/json");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        stream.write_all(&request.to_bytes()).await.map_err(io)?;
        stream.flush().await.map_err(io)?;
        let mut raw = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match stream.read(&mut chunk).await {
                Ok(n) => n,
                // A TLS peer that closes without close_notify: the body length decides.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => 0,
                Err(e) => return Err(io(e)),
            };
            if n == 0 {
                return Ok(raw);
            }
            raw.extend_from_slice(&chunk[..n]);
            if raw.len() > MAX_BODY {
                return Err(RemoteError::NotAState {
                    url: self.url.clone(),
                    why: "the answer is too large".into(),
                });
            }
        }
    }

    /// The body of a complete response, after checking its status.
    fn body(&self, raw: &[u8]) -> Result<Vec<u8>, RemoteError> {
        let not_http = |why: String| RemoteError::NotAState {
            url: self.url.clone(),
            why,
        };
        let (head, head_len) = match http::parse_response(raw) {
            Ok(Some(done)) => done,
            Ok(None) => return Err(not_http("the answer ended early".into())),
            Err(HeadError::Malformed(e)) => return Err(not_http(format!("not HTTP ({e})"))),
            Err(HeadError::TooLarge) => return Err(not_http("the answer's head is too large".into())),
        };
        let status = head.status;
        match status {
            200 => {}
            401 if self.token.is_none() => {
                return Err(RemoteError::TokenMissing {
                    url: self.url.clone(),
                })
            }
            401 => {
                return Err(RemoteError::TokenRefused {
                    url: self.url.clone(),
                })
            }
            _ => {
                return Err(RemoteError::Status {
                    url: self.url.clone(),
                    status,
                })
            }
        }
        let rest = &raw[head_len..];
        if head.headers.is_chunked() {
            return http::decode_chunked(rest).ok_or_else(|| not_http("broken chunked encoding".into()));
        }
        match head.headers.content_length() {
            Some(Ok(n)) if rest.len() >= n => Ok(rest[..n].to_vec()),
            Some(Ok(_)) => Err(not_http("the answer ended early".into())),
            Some(Err(_)) => Err(not_http("bad Content-Length".into())),
            None => Ok(rest.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_addresses_people_type() {
        let t = Target::parse("http://10.0.0.5:9365").unwrap();
        assert_eq!(
            (t.https, t.host.as_str(), t.port, t.prefix.as_str()),
            (false, "10.0.0.5", 9365, "")
        );
        assert_eq!(t.url(), "http://10.0.0.5:9365/api/state");
        let t = Target::parse("pc-042.corp.example").unwrap();
        assert_eq!((t.port, t.https), (crate::serve::DEFAULT_PORT, false));
        let t = Target::parse("https://mon.example/pc42/").unwrap();
        assert_eq!((t.https, t.port, t.prefix.as_str()), (true, 443, "/pc42"));
        assert_eq!(t.url(), "https://mon.example:443/pc42/api/state");
        let t = Target::parse("http://[::1]:9000/api/state").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.prefix.as_str()), ("::1", 9000, ""));
        assert_eq!(t.url(), "http://[::1]:9000/api/state");
    }

    #[test]
    fn bad_addresses_say_why() {
        for (url, why) in [
            ("ftp://x", "only http"),
            ("http://:9365", "no host"),
            ("http://x:99999", "port"),
            ("http://x:0", "port"),
            ("http://user:pw@x:1", "user names"),
            ("http://[::1", "unclosed"),
        ] {
            let e = Target::parse(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn reads_length_delimited_and_chunked_bodies() {
        let client = Client::new(Target::parse("http://h:1").unwrap(), None);
        assert_eq!(
            client
                .body(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                .unwrap(),
            b"{}"
        );
        assert_eq!(
            client.body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\n3;x=y\r\nab\"\r\n1\r\n}\r\n0\r\n\r\n").unwrap(),
            b"{\"ab\"}"
        );
        assert!(client
            .body(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}")
            .is_err());
        assert_eq!(
            client.body(b"HTTP/1.1 401 Unauthorized\r\n\r\n"),
            Err(RemoteError::TokenMissing {
                url: client.url.clone()
            })
        );
        let with_token = Client::new(Target::parse("http://h:1").unwrap(), Some("t".into()));
        assert!(matches!(
            with_token.body(b"HTTP/1.1 401 Unauthorized\r\n\r\n"),
            Err(RemoteError::TokenRefused { .. })
        ));
        assert!(matches!(
            client.body(b"HTTP/1.1 404 Not Found\r\n\r\n"),
            Err(RemoteError::Status { status: 404, .. })
        ));
        assert!(matches!(
            client.body(b"SSH-2.0-OpenSSH\r\n"),
            Err(RemoteError::NotAState { .. })
        ));
    }

    #[tokio::test]
    async fn unreachable_monitor_is_a_clear_error() {
        // Bind then drop, so the port is (almost certainly) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = attach(&format!("http://127.0.0.1:{port}"), None, Duration::from_secs(1))
            .await
            .err()
            .unwrap();
        assert!(matches!(err, RemoteError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains("is `m365mon serve` running there"));
    }
}
