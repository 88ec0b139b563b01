//! The `tcp` stage: open a connection to the endpoint's address and port.
//!
//! A refused connection (RST to our SYN), a rejected one (an ICMP error: administratively
//! prohibited, host or network unreachable) and a timed-out one (no answer at all) point
//! at different things — nothing listening or a reject rule, versus a firewall that
//! silently drops — so they are kept apart, as curl and blackbox_exporter keep them
//! ("Connection refused", "No route to host", "timed out"). A reject fails in
//! milliseconds; only a drop runs to the cap.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpStream;

use super::StageFailure;
use crate::model::{Cause, StageName};

/// Connects to the first address that answers, within `timeout` overall.
pub async fn connect(
    addrs: &[IpAddr],
    port: u16,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), StageFailure> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = None;
    for ip in addrs {
        let addr = SocketAddr::new(*ip, port);
        match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, addr));
            }
            Ok(Err(e)) => last = Some(classify_io(&e, addr)),
            Err(_) => {
                return Err(StageFailure::new(
                    StageName::Tcp,
                    Cause::TcpTimeout,
                    format!(
                        "timed out after {:.1} s connecting to {addr}",
                        timeout.as_secs_f64()
                    ),
                )
                .with_raw("connect timed out"))
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        StageFailure::new(StageName::Tcp, Cause::Other, "no address to connect to").with_raw("")
    }))
}

/// Classifies an I/O error on a connection (during connect or later).
pub fn classify_io(e: &io::Error, addr: SocketAddr) -> StageFailure {
    let raw = e.to_string();
    let (cause, detail) = match e.kind() {
        io::ErrorKind::ConnectionRefused => (Cause::TcpRefused, format!("connection refused by {addr}")),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            (Cause::TcpReset, format!("connection reset by {addr}"))
        }
        io::ErrorKind::TimedOut => (Cause::TcpTimeout, format!("timed out connecting to {addr}")),
        // EACCES: how Linux reports an ICMPv6 "administratively prohibited".
        io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::PermissionDenied => (
            Cause::TcpUnreachable,
            format!("rejected: an ICMP error answered the connection to {addr}"),
        ),
        _ => (Cause::Other, format!("cannot connect to {addr}: {raw}")),
    };
    StageFailure::new(StageName::Tcp, cause, detail).with_raw(raw)
}
