//! Shared by the serve/attach/watch/Prometheus tests: a lab with one endpoint's fault on a
//! timeline, a monitor sweeping it, and a tiny HTTP client. Loopback only.

use m365mon::catalog::Catalog;
use m365mon::engine::monitor::{self, Monitor, SweepPlan};
use m365mon::engine::{HostInfo, Snapshot};
use m365mon::lab::{Fault, FaultMode, Lab, LabOptions, Scenario};
use m365mon::model::{CheckResult, Status};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub const ACTIVATION: &str = "activation.sls.microsoft.com";
pub const ACTIVATION_CHECK: &str = "endpoint:activation.sls.microsoft.com";

/// A lab where `host` suffers `mode` from `after` to `until` seconds after the start.
pub fn scenario(host: &str, mode: FaultMode, after: f64, until: Option<f64>) -> Scenario {
    let mut fault = Fault::new(host, mode);
    fault.after_secs = Some(after);
    fault.until_secs = until;
    Scenario {
        name: "serve-test".into(),
        description: String::new(),
        latency_ms: 0,
        faults: vec![fault],
        ..Default::default()
    }
}

/// Starts the lab and a monitor sweeping it every `interval`.
pub async fn lab_monitor(scenario: Scenario, interval: Duration, timeout: Duration) -> (Lab, Monitor) {
    let catalog = Catalog::builtin();
    let lab = Lab::start(scenario, &catalog, LabOptions::default())
        .await
        .expect("lab starts");
    let settings = m365mon::session::lab_settings(lab.state(), timeout, 32).expect("lab settings");
    let plan = SweepPlan::new(catalog.endpoints.clone(), settings);
    let host = HostInfo {
        hostname: "lab-pc".into(),
        lab: Some("serve-test".into()),
        instance: plan.checks.instance.as_str().into(),
        ..Default::default()
    };
    let mon = monitor::start(plan, host, interval);
    (lab, mon)
}

pub fn check<'a>(s: &'a Snapshot, id: &str) -> Option<&'a CheckResult> {
    s.checks.iter().find(|c| c.id == id)
}

pub fn status_of(s: &Snapshot, id: &str) -> Option<Status> {
    check(s, id).map(|c| c.status)
}

/// One GET over a fresh connection: (status, body).
pub fn http_get(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    (status, if chunked { dechunk(body) } else { body.to_string() })
}

/// Decodes a chunked body (Prometheus' answers).
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
