//! `m365mon serve`: the monitor's state over HTTP, for Prometheus and for `m365mon attach`.
//!
//! Another consumer of the engine's snapshots, like the TUI: it never probes anything
//! itself, it answers from the latest snapshot.
//!
//! | Route        | Answer                                                              |
//! |--------------|---------------------------------------------------------------------|
//! | `/metrics`   | Prometheus text format ([`metrics`])                                |
//! | `/api/state` | the whole [`Snapshot`] as JSON (what `attach` draws)                |
//! | `/healthz`   | `ok`: the exporter runs (open even in token mode: it tells nothing) |
//!
//! Beyond loopback every route but `/healthz` needs `Authorization: Bearer TOKEN`
//! ([`auth`]).
//!
//! Anyone who can reach the listener can open connections, so no client may hold the
//! exporter hostage: a connection has [`requests::HEAD_TIMEOUT`] to send its request head,
//! the token is checked as soon as the head is read (a refused request closes the
//! connection), one address holds at most [`MAX_PER_PEER`] connections and all of them
//! together at most [`MAX_CONNECTIONS`]. When a new connection finds no room, the oldest
//! connection still waiting for a request is closed to make it: a scraper sends its
//! request at once, so it is never the one waiting longest, and slow or idle clients
//! cannot lock it out.

pub mod auth;
pub mod metrics;
pub mod requests;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;

pub use auth::{access_for, Access, TokenError};

use crate::engine::{MonitorHandle, Snapshot};
use requests::{ReadError, Request, Response};

/// The port `serve` listens on unless told otherwise (the blackbox exporter has 9115).
pub const DEFAULT_PORT: u16 = 9365;
/// Connections held at once. Prometheus needs one or two; the rest is room for `attach`
/// clients and for slow ones to be evicted from, well under the usual limit of 1024 open
/// files.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections one address may hold: a scraper or a NAT in front of a few needs far fewer.
pub const MAX_PER_PEER: usize = 64;

/// Why the exporter could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: SocketAddr, error: io::Error },
    #[error("--token: {0}")]
    Token(#[from] TokenError),
}

/// A bound, not yet running exporter. Binding first lets the caller learn the port (tests
/// bind port 0) and report a busy port before anything else starts.
pub struct Server {
    listener: TcpListener,
    access: Access,
}

impl Server {
    pub async fn bind(listen: SocketAddr, access: Access) -> Result<Server, ServeError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|error| ServeError::Bind { addr: listen, error })?;
        Ok(Server { listener, access })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Answers requests from the latest snapshot until `shutdown` completes; open
    /// connections are then dropped.
    pub async fn run(self, handle: MonitorHandle, shutdown: impl Future<Output = ()>) {
        let access = Arc::new(self.access);
        let table = Arc::new(Mutex::new(Table::default()));
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                _ = &mut shutdown => break,
                a = self.listener.accept() => a,
            };
            // Reap finished connections so the set does not grow with every scrape.
            while connections.try_join_next().is_some() {}
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(_) => {
                    // Out of file descriptors and the like: free one, breathe, accept again.
                    lock(&table).evict(None);
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let Some(slot) = Table::admit(&table, peer.ip()) else {
                // Every connection is busy answering: say so without waiting on the client.
                let _ = stream.try_write(BUSY);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handle = handle.clone();
            let access = Arc::clone(&access);
            connections.spawn(async move {
                connection(stream, &handle, &access, &slot).await;
            });
        }
        connections.abort_all();
    }
}

/// The answer to a connection there is no room for (written without waiting).
const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n";

fn lock(table: &Mutex<Table>) -> std::sync::MutexGuard<'_, Table> {
    table.lock().unwrap_or_else(|e| e.into_inner())
}

/// The open connections, oldest first, and how many each address holds.
#[derive(Default)]
struct Table {
    next: u64,
    open: BTreeMap<u64, Open>,
    per_peer: HashMap<IpAddr, usize>,
}

struct Open {
    peer: IpAddr,
    /// Waiting for a request head (so it may be closed to make room).
    waiting: bool,
    close: Arc<Notify>,
}

impl Table {
    /// Makes room for a connection from `peer` and registers it; `None` when there is no
    /// room because every connection in the way is busy answering.
    fn admit(table: &Arc<Mutex<Table>>, peer: IpAddr) -> Option<Slot> {
        let mut t = lock(table);
        if t.per_peer.get(&peer).copied().unwrap_or(0) >= MAX_PER_PEER && !t.evict(Some(peer)) {
            return None;
        }
        if t.open.len() >= MAX_CONNECTIONS && !t.evict(None) {
            return None;
        }
        let id = t.next;
        t.next += 1;
        let close = Arc::new(Notify::new());
        t.open.insert(
            id,
            Open {
                peer,
                waiting: true,
                close: Arc::clone(&close),
            },
        );
        *t.per_peer.entry(peer).or_default() += 1;
        Some(Slot {
            table: Arc::clone(table),
            id,
            close,
        })
    }

    /// Closes the oldest connection waiting for a request (of `peer`, or of anyone);
    /// false when there is none.
    fn evict(&mut self, peer: Option<IpAddr>) -> bool {
        let victim = self
            .open
            .iter()
            .find(|(_, o)| o.waiting && peer.is_none_or(|p| p == o.peer))
            .map(|(&id, _)| id);
        match victim {
            Some(id) => {
                if let Some(o) = self.remove(id) {
                    o.close.notify_one();
                }
                true
            }
            None => false,
        }
    }

    fn remove(&mut self, id: u64) -> Option<Open> {
        let o = self.open.remove(&id)?;
        if let Some(n) = self.per_peer.get_mut(&o.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&o.peer);
            }
        }
        Some(o)
    }
}

/// A connection's place in the [`Table`], given back when the connection ends (or is
/// dropped on shutdown).
struct Slot {
    table: Arc<Mutex<Table>>,
    id: u64,
    /// Notified when the connection is evicted to make room.
    close: Arc<Notify>,
}

impl Slot {
    /// Marks the connection as waiting for a request (evictable) or answering one. False
    /// when it has already been evicted.
    fn set_waiting(&self, waiting: bool) -> bool {
        match lock(&self.table).open.get_mut(&self.id) {
            Some(o) => {
                o.waiting = waiting;
                true
            }
            None => false,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.table).remove(self.id);
    }
}

/// Binds and runs the exporter, deciding access from the listen address: a given token is
/// required; without one, loopback is open and anything else gets a generated token,
/// printed once on standard error (the only place it ever appears).
pub async fn serve(
    handle: MonitorHandle,
    listen: SocketAddr,
    token: Option<String>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let (access, generated) = access_for(&listen, token)?;
    let server = Server::bind(listen, access.clone()).await?;
    let addr = server.local_addr().unwrap_or(listen);
    eprintln!("{}", ready_line(addr, &access, generated));
    server.run(handle, shutdown).await;
    Ok(())
}

/// The line `serve` prints once it listens.
pub fn ready_line(addr: SocketAddr, access: &Access, generated: bool) -> String {
    let base = format!("m365mon: serving http://{addr}/metrics and /api/state");
    match (access, generated) {
        (Access::Open, _) => format!("{base} (loopback, no token needed)"),
        (Access::Token(token), true) => format!(
            "{base}; listening beyond loopback, so clients must send \"Authorization: Bearer {token}\" \
             (token generated for this run; pass --token or M365MON_TOKEN to choose one)"
        ),
        (Access::Token(_), false) => {
            format!("{base}; clients must send the token (Authorization: Bearer ...)")
        }
    }
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handle: &MonitorHandle,
    access: &Access,
    slot: &Slot,
) {
    let mut buf = Vec::new();
    let mut idle = None;
    loop {
        if !slot.set_waiting(true) {
            return;
        }
        let read = tokio::select! {
            _ = slot.close.notified() => return,
            r = requests::read_request(&mut stream, &mut buf, idle) => r,
        };
        // Answering: not to be evicted now (a refused slot means it just was).
        if !slot.set_waiting(false) {
            return;
        }
        idle = Some(requests::IDLE_TIMEOUT);
        let request = match read {
            Ok(Some(r)) => r,
            Ok(None) | Err(ReadError::Gone) => return,
            Err(e) => {
                let response = match e {
                    ReadError::TooLarge => Response::text(431, "request head too large"),
                    ReadError::Body => Response::text(413, "requests with a body are not accepted"),
                    ReadError::Malformed(why) => Response::text(400, format!("not an HTTP request: {why}")),
                    ReadError::Gone => return,
                };
                let _ = requests::write_response(&mut stream, &response, false, false).await;
                return;
            }
        };
        let response = route(&request, access, || handle.snapshot());
        let head_only = request.method == "HEAD";
        // A refused request ends the connection: a client without the token gets nothing
        // more out of keeping it.
        let keep_alive = request.keep_alive && response.status != 401;
        if requests::write_response(&mut stream, &response, head_only, keep_alive)
            .await
            .is_err()
            || !keep_alive
        {
            return;
        }
    }
}

/// Picks the answer to a request. `snapshot` is only called once access is granted.
pub fn route(request: &Request, access: &Access, snapshot: impl FnOnce() -> Arc<Snapshot>) -> Response {
    if request.method != "GET" && request.method != "HEAD" {
        return Response::text(405, "only GET and HEAD").with_header("Allow", "GET, HEAD");
    }
    let path = request.path.as_str();
    if path == "/healthz" {
        return Response::text(200, "ok");
    }
    if !matches!(path, "/" | "/metrics" | "/api/state") {
        return Response::text(404, "not found: try /metrics, /api/state or /healthz");
    }
    if !access.allows(request.authorization.as_deref()) {
        // The token itself is never logged, only that one was missing or wrong.
        tracing::warn!(
            path,
            token_sent = request.authorization.is_some(),
            "request refused: no valid token"
        );
        return Response::text(
            401,
            "a valid token is required: send \"Authorization: Bearer TOKEN\"",
        )
        .with_header("WWW-Authenticate", "Bearer realm=\"m365mon\"");
    }
    match path {
        "/metrics" => Response::new(200, metrics::CONTENT_TYPE, metrics::render(&snapshot())),
        "/api/state" => match serde_json::to_vec(&*snapshot()) {
            Ok(body) => Response::new(200, "application/json", body),
            Err(e) => Response::text(503, format!("cannot encode the state: {e}")),
        },
        _ => Response::text(
            200,
            format!(
                "m365mon {}\n/metrics    Prometheus metrics\n/api/state  the monitor's state as JSON (m365mon attach)\n/healthz    liveness",
                crate::version()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CheckKind, CheckResult, Status};

    fn get(path: &str, auth: Option<&str>) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            authorization: auth.map(|a| a.as_bytes().to_vec()),
            keep_alive: true,
        }
    }

    fn snap() -> Arc<Snapshot> {
        let mut s = Snapshot::default();
        s.checks.push(CheckResult::simple(
            "endpoint:secret.example",
            CheckKind::Endpoint,
            "x",
            Status::Fail,
            "x",
        ));
        Arc::new(s)
    }

    #[test]
    fn token_mode_hides_everything_but_health() {
        let access = Access::Token("0123456789abcdef".into());
        for path in ["/metrics", "/api/state", "/"] {
            let r = route(&get(path, None), &access, || panic!("state read without a token"));
            assert_eq!(r.status, 401, "{path}");
            assert!(!String::from_utf8_lossy(&r.body).contains("secret"));
            let r = route(&get(path, Some("Bearer wrong-token-000000")), &access, || {
                panic!("state read")
            });
            assert_eq!(r.status, 401);
        }
        assert_eq!(route(&get("/healthz", None), &access, snap).status, 200);
        let r = route(&get("/metrics", Some("Bearer 0123456789abcdef")), &access, snap);
        assert_eq!(r.status, 200);
        assert!(String::from_utf8_lossy(&r.body).contains("endpoint:secret.example"));
    }

    #[test]
    fn routes_answer_in_their_formats() {
        let r = route(&get("/api/state", None), &Access::Open, snap);
        assert_eq!((r.status, r.content_type), (200, "application/json"));
        let back: Snapshot = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(back.checks[0].id, "endpoint:secret.example");
        let r = route(&get("/metrics", None), &Access::Open, snap);
        assert_eq!(r.content_type, metrics::CONTENT_TYPE);
        assert_eq!(route(&get("/nope", None), &Access::Open, snap).status, 404);
        let mut post = get("/metrics", None);
        post.method = "POST".into();
        assert_eq!(route(&post, &Access::Open, snap).status, 405);
    }

    #[test]
    fn ready_line_shows_a_generated_token_only() {
        let addr: SocketAddr = "0.0.0.0:9365".parse().unwrap();
        let access = Access::Token("feedfeedfeedfeedfeedfeedfeedfeed".into());
        assert!(ready_line(addr, &access, true).contains("Bearer feedfeedfeedfeedfeedfeedfeedfeed"));
        assert!(!ready_line(addr, &access, false).contains("feedfeed"));
    }
}
