//! The PAC file is downloaded once per sweep: the routes are decided before the probes
//! start, and the probes and the `network:pac` check share that one run. A PAC server on
//! loopback counts the downloads.

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

/// A PAC server on loopback that counts the requests for its file.
struct PacServer {
    addr: SocketAddr,
    downloads: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PacServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let downloads = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopping) = (downloads.clone(), stop.clone());
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
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAC}",
                    PAC.len()
                );
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        Self {
            addr,
            downloads,
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
