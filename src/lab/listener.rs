//! One lab endpoint's listening socket, and the socket-level faults that act on it.
//!
//! The faults a client meets before any byte is exchanged are made by the kernel itself,
//! as they would be by a real firewall:
//!
//! - `refuse`: the port is kept bound but not listening, so the kernel answers SYNs
//!   with an RST ("connection refused"), and the port cannot be taken by someone else.
//! - `blackhole`: the listener is re-created with a backlog of 0 and its accept queue is
//!   filled by a connection of the lab's own, which is never accepted. Linux then drops
//!   further SYNs (a full accept queue drops them, SYN cookies or not) and the client's
//!   connect times out exactly as behind a dropping firewall. No root, no packet filter.
//! - `reset` is decided per connection, in [`super::origin`].
//!
//! The socket is swapped at each start or end of a fault, at the scheduled instant.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::origin::{serve_connection, EndpointContext};
use super::scenario::{FaultMode, Layer};

/// Backlog of a healthy listener.
const BACKLOG: i32 = 1024;
/// How long a connection that fills a blackhole's queue may take (loopback: microseconds).
const FILL_CONNECT: Duration = Duration::from_millis(500);
/// How long to wait before deciding that the queue is full (further connects hang).
const FULL_PROBE: Duration = Duration::from_millis(25);
/// Most connections used to fill an accept queue: more means the trick does not work here.
const MAX_FILLERS: usize = 4;
/// Retry interval when a port cannot be bound again after a fault.
const REBIND_RETRY: Duration = Duration::from_millis(100);

/// What the socket should be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Open,
    Refuse,
    Blackhole,
}

impl Want {
    pub fn from_fault(mode: Option<FaultMode>) -> Self {
        match mode {
            Some(FaultMode::Refuse) => Want::Refuse,
            Some(FaultMode::Blackhole) => Want::Blackhole,
            _ => Want::Open,
        }
    }
}

/// What the socket is doing.
pub enum Live {
    Open(TcpListener),
    /// Bound, not listening: SYNs get an RST.
    Refusing(Socket),
    /// Listening with a full accept queue: SYNs are dropped.
    Blackholed {
        _listener: Socket,
        _fillers: Vec<TcpStream>,
    },
    /// The port could not be bound again; retried every 100 ms.
    Lost,
}

/// A TCP socket bound to `addr` (address reuse on, so a port can be bound again right
/// after its previous listener closed), not yet listening.
pub fn bound_socket(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

/// Moves the socket at `addr` from `prev` into the `want`ed state.
pub async fn enter(want: Want, prev: Live, addr: SocketAddr) -> io::Result<Live> {
    let bound = match prev {
        // A bound, non-listening socket can start listening with any backlog.
        Live::Refusing(socket) => socket,
        other => {
            // A listening socket cannot stop listening or change its backlog: close it
            // and bind the same address again.
            drop(other);
            bound_socket(addr)?
        }
    };
    match want {
        Want::Refuse => Ok(Live::Refusing(bound)),
        Want::Open => {
            bound.listen(BACKLOG)?;
            Ok(Live::Open(TcpListener::from_std(bound.into())?))
        }
        Want::Blackhole => {
            bound.listen(0)?;
            let fillers = fill_accept_queue(addr).await;
            Ok(Live::Blackholed {
                _listener: bound,
                _fillers: fillers,
            })
        }
    }
}

/// Connects to `addr` until a connect no longer completes: the accept queue is then full.
async fn fill_accept_queue(addr: SocketAddr) -> Vec<TcpStream> {
    let mut fillers = Vec::new();
    while fillers.len() < MAX_FILLERS {
        let wait = if fillers.is_empty() {
            FILL_CONNECT
        } else {
            FULL_PROBE
        };
        match tokio::time::timeout(wait, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => fillers.push(stream),
            // Timed out (the queue is full: what we want) or refused (should not happen).
            _ => break,
        }
    }
    fillers
}

/// Accepts connections and follows the scenario's socket faults until shutdown.
pub async fn run(
    mut live: Live,
    addr: SocketAddr,
    ep: Arc<EndpointContext>,
    mut shutdown: watch::Receiver<bool>,
) {
    let timeline = ep.timeline.clone();
    let want_now = || {
        Want::from_fault(
            timeline
                .fault(&ep.host, Layer::Socket, Some(ep.family))
                .map(|f| f.mode),
        )
    };
    let mut current = if matches!(live, Live::Lost) {
        None
    } else {
        Some(want_now())
    };
    let mut conns = JoinSet::new();
    loop {
        // Reconcile on every turn, not only when the timer fires: a connection accepted at
        // the instant of a change would otherwise win the select, the next turn would
        // schedule the change after that, and the fault would be skipped altogether.
        let want = want_now();
        if current != Some(want) {
            let prev = std::mem::replace(&mut live, Live::Lost);
            match enter(want, prev, addr).await {
                Ok(next) => {
                    live = next;
                    current = Some(want);
                }
                Err(_) => current = None,
            }
        }
        let now = timeline.elapsed();
        let wake = match current {
            None => Some(now + REBIND_RETRY),
            Some(_) => timeline.next_change(&ep.host, Layer::Socket, Some(ep.family), now),
        };
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(timeline.instant_at(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = sleep => {}
            accepted = accept(&live) => {
                if let Ok((stream, _)) = accepted {
                    conns.spawn(serve_connection(stream, Arc::clone(&ep)));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn accept(live: &Live) -> io::Result<(TcpStream, SocketAddr)> {
    match live {
        Live::Open(listener) => listener.accept().await,
        _ => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    async fn connect(
        addr: SocketAddr,
        within: Duration,
    ) -> Result<io::Result<TcpStream>, tokio::time::error::Elapsed> {
        tokio::time::timeout(within, TcpStream::connect(addr)).await
    }

    #[tokio::test]
    async fn refuse_open_and_blackhole_on_one_address() {
        let socket = bound_socket("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();

        let live = enter(Want::Refuse, Live::Refusing(socket), addr).await.unwrap();
        let err = connect(addr, Duration::from_secs(2)).await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);

        let live = enter(Want::Open, live, addr).await.unwrap();
        assert!(connect(addr, Duration::from_secs(2)).await.unwrap().is_ok());

        let live = enter(Want::Blackhole, live, addr).await.unwrap();
        let Live::Blackholed {
            _fillers: fillers, ..
        } = &live
        else {
            panic!("not blackholed")
        };
        assert!(
            !fillers.is_empty() && fillers.len() < MAX_FILLERS,
            "{} fillers",
            fillers.len()
        );
        let t = Instant::now();
        assert!(
            connect(addr, Duration::from_millis(400)).await.is_err(),
            "connect must hang"
        );
        assert!(t.elapsed() >= Duration::from_millis(400));

        let live = enter(Want::Open, live, addr).await.unwrap();
        assert!(
            connect(addr, Duration::from_secs(2)).await.unwrap().is_ok(),
            "open again after blackhole"
        );
        drop(live);
    }
}
