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

pub mod auth;
pub mod metrics;
pub mod requests;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use auth::{access_for, Access, TokenError};

use crate::engine::{MonitorHandle, Snapshot};
use requests::{ReadError, Request, Response};

/// The port `serve` listens on unless told otherwise (the blackbox exporter has 9115).
pub const DEFAULT_PORT: u16 = 9365;
/// Connections served at once; more wait in the kernel's backlog. Prometheus needs one.
const MAX_CONNECTIONS: usize = 32;

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
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                _ = &mut shutdown => break,
                a = self.listener.accept() => a,
            };
            // Reap finished connections so the set does not grow with every scrape.
            while connections.try_join_next().is_some() {}
            let Ok((stream, _peer)) = accepted else {
                // Out of file descriptors and the like: breathe, then accept again.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handle = handle.clone();
            let access = Arc::clone(&access);
            connections.spawn(async move {
                connection(stream, &handle, &access).await;
                drop(permit);
            });
        }
        connections.abort_all();
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
) {
    let mut buf = Vec::new();
    loop {
        let request = match requests::read_request(&mut stream, &mut buf).await {
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
        if requests::write_response(&mut stream, &response, head_only, request.keep_alive)
            .await
            .is_err()
            || !request.keep_alive
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
