//! The PAC file is downloaded once per sweep: the routes are decided before the probes
//! start, and the probes and the `network:pac` check share that one run. A PAC server on
//! loopback counts the downloads. Between sweeps a server's `ETag` or `Last-Modified`
//! makes the next download conditional: a `304 Not Modified` reuses the copy.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use m365mon::catalog::Catalog;
use m365mon::engine::{run_sweep, session};
use m365mon::lab::{Lab, LabOptions, Scenario};
use m365mon::route::RouteSettings;
use serde_json::Value;

const PAC: &str = "function FindProxyForURL(url, host) { return \"DIRECT\"; }\n";

/// Which validators the server sends with its file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Validators {
    None,
    ETag,
    LastModified,
}

const ETAG: &str = "\"pac-v1\"";
const LAST_MODIFIED: &str = "Tue, 01 Dec 2026 08:00:00 GMT";

/// A PAC server on loopback that counts the requests for its file, and its full (200)
/// and "not modified" (304) answers.
struct PacServer {
    addr: SocketAddr,
    downloads: Arc<AtomicUsize>,
    full: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PacServer {
    fn start() -> Self {
        Self::start_with(Validators::None)
    }

    fn start_with(validators: Validators) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let downloads = Arc::new(AtomicUsize::new(0));
        let full = Arc::new(AtomicUsize::new(0));
        let not_modified = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopping) = (downloads.clone(), stop.clone());
        let (full_count, not_modified_count) = (full.clone(), not_modified.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                if head.starts_with(b"GET /proxy.pac ") {
                    count.fetch_add(1, Ordering::SeqCst);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let (validator, condition, value) = match validators {
                    Validators::None => (String::new(), "", ""),
                    Validators::ETag => (format!("ETag: {ETAG}\r\n"), "if-none-match: ", ETAG),
                    Validators::LastModified => (
                        format!("Last-Modified: {LAST_MODIFIED}\r\n"),
                        "if-modified-since: ",
                        LAST_MODIFIED,
                    ),
                };
                let unchanged = !condition.is_empty()
                    && head.contains(&format!("{condition}{}", value.to_ascii_lowercase()));
                let answer = if unchanged {
                    not_modified_count.fetch_add(1, Ordering::SeqCst);
                    format!("HTTP/1.1 304 Not Modified\r\n{validator}Connection: close\r\n\r\n")
                } else {
                    full_count.fetch_add(1, Ordering::SeqCst);
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\n{validator}Content-Length: {}\r\nConnection: close\r\n\r\n{PAC}",
                        PAC.len()
                    )
                };
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        Self {
            addr,
            downloads,
            full,
            not_modified,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/proxy.pac", self.addr)
    }

    fn downloads(&self) -> usize {
        self.downloads.load(Ordering::SeqCst)
    }

    /// (200 answers, 304 answers).
    fn answers(&self) -> (usize, usize) {
        (
            self.full.load(Ordering::SeqCst),
            self.not_modified.load(Ordering::SeqCst),
        )
    }
}

impl Drop for PacServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn one_check_downloads_the_pac_file_once() {
    let server = PacServer::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_m365mon"))
        .args(["check", "--lab", "healthy", "--format", "json", "--pac-url"])
        .arg(server.url())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let pac = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "network:pac")
        .expect("a network:pac result");
    assert_eq!(pac["status"], "pass", "{pac:#}");
    assert_eq!(server.downloads(), 1, "one sweep, one download");
}

#[tokio::test]
async fn every_sweep_downloads_it_once_for_the_probes_and_the_check() {
    m365mon::route::pac::worker::install(env!("CARGO_BIN_EXE_m365mon").into());
    let server = PacServer::start();
    let catalog = Catalog::builtin();
    let lab = Lab::start(
        Scenario::builtin("healthy").unwrap(),
        &catalog,
        LabOptions::default(),
    )
    .await
    .unwrap();
    let mut plan =
        session::lab_plan(catalog.endpoints.clone(), lab.state(), Duration::from_secs(2), 8).unwrap();
    plan.routes = RouteSettings::Pac {
        url: server.url(),
        source: "test".into(),
    };
    for sweep in 1..=3 {
        let (checks, _) = run_sweep(&plan).await;
        assert_eq!(server.downloads(), sweep, "after sweep {sweep}");
        let pac = checks.iter().find(|c| c.id == "network:pac").unwrap();
        assert_eq!(pac.status.as_str(), "pass", "{pac:?}");
        // The probes took the PAC file's answer: each probed endpoint says so.
        let routed = checks
            .iter()
            .filter(|c| c.id.starts_with("endpoint:"))
            .filter(|c| {
                c.facts
                    .iter()
                    .any(|(k, v)| k == "route" && v.starts_with("DIRECT (test: PAC"))
            })
            .count();
        assert!(routed >= 18, "{routed} endpoints routed by the PAC file");
    }
    lab.shutdown().await;
}

/// A server that sends an `ETag` (then one that sends only `Last-Modified`) answers the
/// first sweep in full and the next ones `304 Not Modified`: the cached copy is run, and
/// the check says where it came from. Without validators every sweep downloads in full.
#[tokio::test]
async fn later_sweeps_ask_conditionally_and_reuse_the_copy_on_304() {
    m365mon::route::pac::worker::install(env!("CARGO_BIN_EXE_m365mon").into());
    let catalog = Catalog::builtin();
    let lab = Lab::start(
        Scenario::builtin("healthy").unwrap(),
        &catalog,
        LabOptions::default(),
    )
    .await
    .unwrap();
    for (validators, expected) in [
        (Validators::ETag, [(1, 0), (1, 1), (1, 2)]),
        (Validators::LastModified, [(1, 0), (1, 1), (1, 2)]),
        (Validators::None, [(1, 0), (2, 0), (3, 0)]),
    ] {
        let server = PacServer::start_with(validators);
        let mut plan =
            session::lab_plan(catalog.endpoints.clone(), lab.state(), Duration::from_secs(2), 8).unwrap();
        plan.routes = RouteSettings::Pac {
            url: server.url(),
            source: "test".into(),
        };
        for (sweep, answers) in expected.iter().enumerate() {
            let (checks, _) = run_sweep(&plan).await;
            assert_eq!(
                server.answers(),
                *answers,
                "(200s, 304s) after sweep {}",
                sweep + 1
            );
            let pac = checks.iter().find(|c| c.id == "network:pac").unwrap();
            assert_eq!(pac.status.as_str(), "pass", "{pac:?}");
            let download = pac
                .facts
                .iter()
                .find(|(k, _)| k == "download")
                .map(|(_, v)| v.as_str());
            let reused = answers.1 > 0 && validators != Validators::None && sweep > 0;
            let want = if reused {
                "HTTP 304, unchanged since an earlier sweep"
            } else {
                "HTTP 200"
            };
            assert_eq!(download, Some(want), "sweep {}: {pac:?}", sweep + 1);
        }
    }
    lab.shutdown().await;
}
