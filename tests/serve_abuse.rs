//! `m365mon serve` under abuse, through the binary: hundreds of slow or idle connections
//! held open (and reopened as soon as the exporter drops them) must not keep an
//! authorised scrape from answering; a slow request head is cut off after the head
//! deadline; one address cannot take more than its share. Loopback only: the abusive
//! clients come from other 127.0.0.0/8 addresses, which Linux's loopback answers.
//!
//! How fast the scrapes answer is recorded in BENCHMARKS.md; the test asserts that every
//! scrape answers, correctly, within a generous bound (10 s, the client's read timeout).
#![cfg(target_os = "linux")]

mod support;

use socket2::{Domain, Socket, Type};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::http::http_get;
use support::served::Served;

const TOKEN: &str = "abuse-token-0123456789abcdef";
const LAB: [&str; 8] = [
    "--lab",
    "healthy",
    "--interval",
    "1",
    "--timeout",
    "1",
    "--token",
    TOKEN,
];

/// A TCP connection from `source` (a loopback address) to `to`, non-blocking.
fn connect_from(source: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((source, 0)).into())?;
    socket.connect_timeout(&to.into(), Duration::from_secs(5))?;
    let stream: TcpStream = socket.into();
    stream.set_nonblocking(true)?;
    Ok(stream)
}

/// Whether the server has closed `stream` (a read sees the end or a reset).
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 512];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    }
}

/// Slow and idle clients: `per_source` connections from each of `sources`, half of them
/// silent, half trickling a request head one byte a second. A connection the server
/// closes is opened again at once, so the pressure never lets up.
struct Horde {
    stop: Arc<AtomicBool>,
    /// Connections open right now (as far as the horde knows).
    open: Arc<AtomicUsize>,
    /// Connections the server has closed so far.
    dropped: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Horde {
    fn start(to: SocketAddr, sources: Vec<Ipv4Addr>, per_source: usize) -> Horde {
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (s, o, d) = (stop.clone(), open.clone(), dropped.clone());
        let thread = std::thread::spawn(move || {
            let head =
                b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            // (source, stream, bytes of the head sent so far); even slots stay silent.
            let mut conns: Vec<(Ipv4Addr, Option<TcpStream>, usize)> = sources
                .iter()
                .flat_map(|&src| std::iter::repeat_n(src, per_source))
                .map(|src| (src, None, 0))
                .collect();
            let mut last_trickle = Instant::now();
            while !s.load(Ordering::SeqCst) {
                let trickle = last_trickle.elapsed() >= Duration::from_secs(1);
                if trickle {
                    last_trickle = Instant::now();
                }
                let mut n_open = 0;
                for (i, (src, conn, sent)) in conns.iter_mut().enumerate() {
                    if let Some(stream) = conn {
                        if closed_by_server(stream) {
                            *conn = None;
                            d.fetch_add(1, Ordering::SeqCst);
                        } else if trickle
                            && i % 2 == 1
                            && *sent < head.len()
                            && stream.write(&head[*sent..*sent + 1]).is_ok()
                        {
                            *sent += 1;
                        }
                    }
                    if conn.is_none() {
                        *conn = connect_from(*src, to).ok();
                        *sent = 0;
                    }
                    n_open += usize::from(conn.is_some());
                }
                o.store(n_open, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Horde {
            stop,
            open,
            dropped,
            thread: Some(thread),
        }
    }
}

impl Drop for Horde {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sockets the process `pid` has open.
fn sockets_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// Waits for the first sweep to be exported.
fn wait_for_a_sweep(served: &Served) {
    let start = Instant::now();
    loop {
        let (status, body) = http_get(served.addr, "/metrics", Some(TOKEN));
        assert_eq!(status, 200, "{body}");
        if body.contains("\nm365mon_sweeps_total ") && !body.contains("\nm365mon_sweeps_total 0\n") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no sweep exported: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn scrapes_answer_while_600_slow_and_idle_connections_are_held() {
    let served = Served::start(&LAB, &[]);
    wait_for_a_sweep(&served);
    // 12 addresses × 50 connections: each address within its share, all of them together
    // beyond the exporter's room, so the exporter keeps closing the oldest to make room.
    let sources: Vec<Ipv4Addr> = (2..14).map(|i| Ipv4Addr::new(127, 0, 0, i)).collect();
    let horde = Horde::start(served.addr, sources, 50);
    let start = Instant::now();
    while horde.open.load(Ordering::SeqCst) < 500 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "could not open 500 connections: {} open",
            horde.open.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let held = sockets_of(served.pid());
    assert!(held >= 500, "the exporter holds only {held} sockets");

    let mut times = Vec::new();
    for i in 0..10 {
        let asked = Instant::now();
        let (status, body) = http_get(served.addr, "/metrics", Some(TOKEN));
        let took = asked.elapsed();
        assert_eq!(status, 200, "scrape {i}: {body}");
        assert!(
            body.contains("# TYPE m365mon_sweeps_total counter")
                && body.contains("m365mon_check_status{check=\"endpoint:login.microsoftonline.com\""),
            "scrape {i} is not the metrics: {body}"
        );
        times.push(took);
        std::thread::sleep(Duration::from_millis(300));
    }
    // Without the token: refused, still answered.
    assert_eq!(http_get(served.addr, "/metrics", None).0, 401);
    let held_after = sockets_of(served.pid());
    let dropped = horde.dropped.load(Ordering::SeqCst);
    drop(horde);
    let max = times.iter().max().unwrap();
    // The figures for BENCHMARKS.md (shown with --nocapture).
    eprintln!(
        "10 of 10 scrapes answered beside {held}..{held_after} held sockets ({dropped} slow connections dropped by the exporter meanwhile): {:?}, slowest {max:?}",
        times
    );
}

#[test]
fn a_slow_or_silent_client_is_cut_off_after_the_head_deadline() {
    let served = Served::start(&LAB, &[]);
    let source = Ipv4Addr::new(127, 0, 0, 40);
    let mut silent = connect_from(source, served.addr).unwrap();
    let mut slow = connect_from(source, served.addr).unwrap();
    let head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let start = Instant::now();
    let (mut silent_at, mut slow_at) = (None, None);
    let mut sent = 0;
    while (silent_at.is_none() || slow_at.is_none()) && start.elapsed() < Duration::from_secs(25) {
        if slow_at.is_none() && sent < head.len() && slow.write(&head[sent..sent + 1]).is_ok() {
            sent += 1;
        }
        if silent_at.is_none() && closed_by_server(&mut silent) {
            silent_at = Some(start.elapsed());
        }
        if slow_at.is_none() && closed_by_server(&mut slow) {
            slow_at = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    // The deadline is 5 s; 30 s was the old one. Closed between the two, or it failed.
    for (what, at) in [("silent", silent_at), ("slow", slow_at)] {
        let at = at.unwrap_or_else(|| panic!("the {what} client was not cut off within 25 s"));
        assert!(
            at >= Duration::from_secs(4) && at < Duration::from_secs(12),
            "the {what} client was cut off after {at:?}, not at the 5 s head deadline"
        );
    }
    assert!(
        sent < head.len(),
        "the slow client finished its head: the test proves nothing"
    );
}

#[test]
fn one_address_holds_at_most_its_share_and_can_still_scrape() {
    let served = Served::start(&LAB, &[]);
    let source = Ipv4Addr::new(127, 0, 0, 50);
    let mut conns: Vec<TcpStream> = (0..100)
        .map(|_| connect_from(source, served.addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let closed: Vec<usize> = (0..conns.len())
        .filter(|&i| closed_by_server(&mut conns[i]))
        .collect();
    // The oldest 36 made room for the newest: 64 are left.
    assert_eq!(closed, (0..36).collect::<Vec<_>>(), "closed: {closed:?}");
    // The same address can still scrape: its own oldest idle connection gives way.
    let mut scrape = connect_from(source, served.addr).unwrap();
    scrape.set_nonblocking(false).unwrap();
    scrape.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        scrape,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    scrape.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(closed_by_server(&mut conns[36]), "the oldest left gave way");
}
