//! Hand-made snapshots for the TUI's tests: a healthy session and one where a firewall
//! blocks activation, with fixed times so rendered screens are stable.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};

use super::app::{App, LocalTime};
use super::theme::Theme;
use crate::diagnosis::findings::Finding;
use crate::engine::{Event, EventKind, HistoryPoint, HostInfo, Snapshot};
use crate::model::{CertSummary, CheckKind, CheckResult, HttpInfo, StageName, StageResult, Status, TlsInfo};

/// The fixtures' "now": 18 s after the last sweep.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 14, 3, 30).unwrap()
}

fn last_sweep() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 14, 3, 12).unwrap()
}

/// An app over `snapshot` with the fixed clock, UTC times and a given theme.
pub fn app(snapshot: Snapshot, theme: Theme) -> App {
    let mut app = App::new(Arc::new(snapshot), theme, PathBuf::from("/nonexistent"), false);
    app.set_now(now());
    app.time = LocalTime::Fixed(FixedOffset::east_opt(0).unwrap());
    // Screens read the same whatever OS the tests run on (they run under Wine too).
    app.windows_commands_first = false;
    app
}

fn stage(name: StageName, status: Status, ms: f64, detail: &str) -> StageResult {
    StageResult {
        name,
        status,
        ms,
        detail: detail.into(),
        cause: None,
    }
}

fn passing_https(host_path: &str, addr: &str, ms: [f64; 4]) -> CheckResult {
    let (host, path) = host_path
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((host_path, "/".into()));
    let mut c = CheckResult::simple(
        format!("endpoint:{host_path}"),
        CheckKind::Endpoint,
        format!("https://{host}{path}"),
        Status::Pass,
        "HTTP 200 from origin",
    );
    c.stages = vec![
        stage(StageName::Dns, Status::Pass, ms[0], addr),
        stage(
            StageName::Tcp,
            Status::Pass,
            ms[1],
            &format!("connected to {addr}:443"),
        ),
        stage(StageName::Tls, Status::Pass, ms[2], "TLSv1.3, chain trusted"),
        stage(StageName::Http, Status::Pass, ms[3], "HTTP 200 from origin"),
    ];
    c.duration_ms = ms.iter().sum::<f64>();
    c.tls = Some(TlsInfo {
        version: Some("TLSv1.3".into()),
        cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
        chain: vec![
            CertSummary {
                subject: format!("CN={host}"),
                issuer: "CN=Microsoft Azure RSA TLS Issuing CA 03".into(),
                not_after: "2025-11-20T23:59:59Z".into(),
            },
            CertSummary {
                subject: "CN=Microsoft Azure RSA TLS Issuing CA 03".into(),
                issuer: "CN=DigiCert Global Root G2".into(),
                not_after: "2026-08-25T23:59:59Z".into(),
            },
        ],
        root: Some("DigiCert Global Root G2".into()),
        root_sha256: None,
    });
    c.http = Some(HttpInfo {
        status: 200,
        server: Some("Microsoft-IIS/10.0".into()),
        via: None,
        date: None,
        ..Default::default()
    });
    c.checked_at = last_sweep();
    c
}

fn crl() -> CheckResult {
    let mut c = CheckResult::simple(
        "endpoint:crl.microsoft.com/pki/crl/products/MicrosoftRootAuthority.crl",
        CheckKind::Endpoint,
        "http://crl.microsoft.com/pki/crl/products/MicrosoftRootAuthority.crl",
        Status::Pass,
        "HTTP 200 from origin",
    );
    c.stages = vec![
        stage(StageName::Dns, Status::Pass, 8.1, "23.55.124.8"),
        stage(StageName::Tcp, Status::Pass, 11.4, "connected to 23.55.124.8:80"),
        stage(StageName::Http, Status::Pass, 20.2, "HTTP 200 from origin"),
    ];
    c.duration_ms = 39.7;
    c.http = Some(HttpInfo {
        status: 200,
        server: Some("ECAcc (lhd/35A5)".into()),
        via: None,
        date: None,
        ..Default::default()
    });
    c.checked_at = last_sweep();
    c
}

fn blocked(host_path: &str, addr: &str) -> CheckResult {
    let mut c = passing_https(host_path, addr, [9.0, 3000.0, 0.0, 0.0]);
    c.status = Status::Fail;
    c.summary = "TCP timed out".into();
    c.cause = Some(crate::model::Cause::TcpTimeout);
    c.stages.truncate(2);
    c.stages[1] = StageResult {
        name: StageName::Tcp,
        status: Status::Fail,
        ms: 3000.0,
        detail: "no answer to SYN within 3 s".into(),
        cause: Some(crate::model::Cause::TcpTimeout),
    };
    c.duration_ms = 3009.0;
    c.tls = None;
    c.http = None;
    c.error = Some(format!("connect to {addr}:443: timed out after 3000 ms"));
    c
}

fn simple(id: &str, kind: CheckKind, status: Status, summary: &str, facts: &[(&str, &str)]) -> CheckResult {
    let mut c = CheckResult::simple(
        id,
        kind,
        id.split_once(':').map(|x| x.1).unwrap_or(id),
        status,
        summary,
    );
    c.facts = facts
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    c.checked_at = last_sweep();
    c
}

/// `+` pass, `!` warn, `x` fail, `-` skip; oldest first.
fn history_points(pattern: &str, ms: f64) -> VecDeque<HistoryPoint> {
    pattern
        .chars()
        .map(|c| {
            let status = match c {
                '+' => Status::Pass,
                '!' => Status::Warn,
                'x' => Status::Fail,
                _ => Status::Skip,
            };
            HistoryPoint { status, ms }
        })
        .collect()
}

fn host() -> HostInfo {
    HostInfo {
        hostname: "WS-0142".into(),
        user: Some("CONTOSO\\alice".into()),
        os: "Windows 11 23H2".into(),
        instance: "worldwide".into(),
        lab: None,
        private: Vec::new(),
    }
}

fn change(at: DateTime<Utc>, check: &str, from: Option<Status>, to: Status, text: &str) -> Event {
    Event {
        at,
        kind: EventKind::Change,
        check: Some(check.into()),
        from,
        to: Some(to),
        text: text.into(),
    }
}

fn note(at: DateTime<Utc>, kind: EventKind, text: &str) -> Event {
    Event {
        at,
        kind,
        check: None,
        from: None,
        to: None,
        text: text.into(),
    }
}

fn healthy_checks() -> Vec<CheckResult> {
    vec![
        passing_https(
            "officecdn.microsoft.com",
            "13.107.246.35",
            [12.3, 14.0, 31.5, 40.2],
        ),
        passing_https(
            "ols.officeapps.live.com/olsc",
            "52.109.8.20",
            [10.1, 18.3, 35.0, 61.9],
        ),
        passing_https(
            "activation.sls.microsoft.com",
            "40.83.21.197",
            [9.8, 22.4, 40.1, 55.0],
        ),
        passing_https(
            "login.microsoftonline.com",
            "20.190.151.68",
            [7.7, 15.1, 29.9, 48.3],
        ),
        crl(),
        passing_https("aadcdn.msauth.net", "152.199.4.33", [6.2, 9.9, 22.0, 19.4]),
        simple(
            "network:proxy",
            CheckKind::Network,
            Status::Pass,
            "No proxy: direct connection",
            &[("WinHTTP proxy", "none"), ("user proxy", "none")],
        ),
        simple(
            "network:clock",
            CheckKind::Network,
            Status::Pass,
            "Clock within 1 s of server time",
            &[],
        ),
        simple(
            "host:broker-plugin",
            CheckKind::Host,
            Status::Skip,
            "Windows only: no BrokerPlugin on this OS",
            &[],
        ),
    ]
}

fn base(checks: Vec<CheckResult>) -> Snapshot {
    let started = last_sweep() - Duration::hours(2);
    let mut history = BTreeMap::new();
    let mut since = BTreeMap::new();
    for c in &checks {
        let pattern = match c.status {
            Status::Skip => "-".repeat(13),
            _ => "+".repeat(13),
        };
        history.insert(c.id.clone(), history_points(&pattern, c.duration_ms));
        since.insert(c.id.clone(), started);
    }
    Snapshot {
        host: host(),
        sweeps: 13,
        last_sweep_at: Some(last_sweep()),
        sweep_ms: 412.0,
        sweeping: false,
        paused: false,
        interval_secs: 30.0,
        checks,
        findings: Vec::new(),
        history,
        since,
        events: VecDeque::from(vec![note(
            started,
            EventKind::Info,
            "first sweep: 8 pass, 0 warn, 0 fail, 1 skip in 398 ms",
        )]),
    }
}

/// Every endpoint passes.
pub fn healthy() -> Snapshot {
    let mut s = base(healthy_checks());
    s.events.push_back(note(
        last_sweep() - Duration::minutes(2),
        EventKind::Marker,
        "VPN disconnected for test",
    ));
    s
}

/// Activation is blocked by a firewall (flapping for a while, then down), the sign-in
/// endpoint is slow, and the two proxy settings disagree; in the lab.
pub fn failing() -> Snapshot {
    let act = "endpoint:activation.sls.microsoft.com";
    let ols = "endpoint:ols.officeapps.live.com/olsc";
    let login = "endpoint:login.microsoftonline.com";
    let mut checks = healthy_checks();
    checks[1] = blocked("ols.officeapps.live.com/olsc", "52.109.8.20");
    checks[2] = blocked("activation.sls.microsoft.com", "40.83.21.197");
    checks[3].status = Status::Warn;
    checks[3].summary = "HTTP 200 in 2.4 s (slow)".into();
    checks[3].stages[3] = stage(
        StageName::Http,
        Status::Warn,
        2310.0,
        "HTTP 200 from origin after 2.3 s",
    );
    checks[3].duration_ms = 2362.0;
    checks[6] = simple(
        "network:proxy",
        CheckKind::Network,
        Status::Warn,
        "WinHTTP and user proxy settings differ",
        &[
            ("WinHTTP proxy", "none"),
            ("user proxy", "proxy.contoso.com:8080"),
        ],
    );
    let mut s = base(checks);
    s.host.lab = Some("activation-blocked".into());
    s.sweeping = true;
    s.history
        .insert(ols.into(), history_points("+++++++xx+x+xxxxxxxx", 3009.0));
    s.history
        .insert(act.into(), history_points("++++++++++++++xxxxxx", 3009.0));
    s.history
        .insert(login.into(), history_points("+++++++++++++++++!!!", 2362.0));
    let t = |secs: i64| last_sweep() - Duration::seconds(secs);
    s.since.insert(ols.into(), t(190));
    s.since.insert(act.into(), t(190));
    s.since.insert(login.into(), t(75));
    s.since.insert("network:proxy".into(), t(3725));
    s.events.extend([
        change(
            t(3725),
            "network:proxy",
            None,
            Status::Warn,
            "WinHTTP and user proxy settings differ",
        ),
        change(t(420), ols, Some(Status::Pass), Status::Fail, "TCP timed out"),
        change(
            t(390),
            ols,
            Some(Status::Fail),
            Status::Pass,
            "recovered: HTTP 200 from origin",
        ),
        note(t(300), EventKind::Marker, "firewall rule 42 applied"),
        change(t(190), act, Some(Status::Pass), Status::Fail, "TCP timed out"),
        change(t(190), ols, Some(Status::Pass), Status::Fail, "TCP timed out"),
        change(
            t(75),
            login,
            Some(Status::Pass),
            Status::Warn,
            "HTTP 200 in 2.4 s (slow)",
        ),
    ]);
    s.findings = vec![
        Finding {
            id: "activation-blocked".into(),
            severity: Status::Fail,
            title: "Activation endpoints are blocked".into(),
            detail: "2 endpoint(s) fail at TCP (activation.sls.microsoft.com, ols.officeapps.live.com/olsc) while sign-in works: a firewall rule blocks activation.".into(),
            checks: vec![act.into(), ols.into()],
            remediation_id: "firewall",
            root_cause: true,
        },
        Finding {
            id: "network:proxy".into(),
            severity: Status::Warn,
            title: "WinHTTP and user proxy settings differ".into(),
            detail: "WinHTTP proxy: none; user proxy: proxy.contoso.com:8080".into(),
            checks: vec!["network:proxy".into()],
            remediation_id: "proxy",
            root_cause: false,
        },
    ];
    s
}

/// Before the first sweep has finished: no checks yet.
pub fn starting() -> Snapshot {
    Snapshot {
        host: host(),
        sweeping: true,
        interval_secs: 30.0,
        ..Default::default()
    }
}

// ---- The lab as a Linux machine sees it, for the whole-screen snapshots -------------

/// One endpoint of a catalog, passing, with latencies that differ a little per row.
fn lab_endpoint(e: &crate::catalog::Endpoint, i: usize) -> CheckResult {
    use crate::catalog::Scheme;
    let addr = format!("127.77.{}.{}", i / 250, i % 250 + 1);
    let jitter = (i % 7) as f64;
    let mut c = CheckResult::simple(
        e.check_id(),
        CheckKind::Endpoint,
        e.url(),
        Status::Pass,
        "HTTP 200 from origin",
    );
    c.stages = vec![
        stage(StageName::Dns, Status::Pass, 1.0 + jitter / 10.0, &addr),
        stage(
            StageName::Tcp,
            Status::Pass,
            0.4 + jitter / 20.0,
            &format!("connected to {addr}:{}", e.port),
        ),
    ];
    if e.scheme == Scheme::Https {
        c.stages.push(stage(
            StageName::Tls,
            Status::Pass,
            6.0 + jitter,
            "TLSv1.3, chain trusted",
        ));
        c.tls = Some(TlsInfo {
            version: Some("TLSv1.3".into()),
            cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
            chain: Vec::new(),
            root: Some("m365mon lab root CA".into()),
            root_sha256: None,
        });
    }
    c.stages.push(stage(
        StageName::Http,
        Status::Pass,
        3.0 + jitter,
        "HTTP 200 from origin",
    ));
    c.duration_ms = c.stages.iter().map(|s| s.ms).sum();
    c.http = Some(HttpInfo {
        status: 200,
        server: Some("m365mon-lab".into()),
        ..Default::default()
    });
    c.group = Some(e.group());
    c.checked_at = last_sweep();
    c
}

/// The network checks as they come out in the lab on Linux (the PAC check skipped).
fn lab_network() -> Vec<CheckResult> {
    let n = |id: &str, status: Status, summary: &str| simple(id, CheckKind::Network, status, summary, &[]);
    vec![
        n(
            "network:resolvers",
            Status::Pass,
            "the DNS server answers for login.windows.net (12 ms)",
        ),
        n(
            "network:tls12",
            Status::Pass,
            "TLS 1.2 works with 3 of 3 sign-in hosts",
        ),
        n("network:proxy", Status::Pass, "no proxy: connections go direct"),
        n("network:pac", Status::Skip, "no PAC file in use"),
        n("network:msoid", Status::Pass, "msoid.contoso.lab has no CNAME"),
        n(
            "network:ncsi",
            Status::Pass,
            "Windows' connectivity probe succeeds",
        ),
        n("network:clock", Status::Pass, "clock within 1 s of the servers"),
        n("network:vpn", Status::Pass, "no VPN connected"),
    ]
}

/// Every host check, skipped as on Linux (each is Windows- or macOS-only).
fn lab_host() -> Vec<CheckResult> {
    crate::checks::host::CHECKS
        .iter()
        .map(|h| {
            let summary = format!("{} only: this check reads {}", h.os.name(), h.reads);
            simple(h.id, CheckKind::Host, Status::Skip, &summary, &[])
        })
        .collect()
}

/// A snapshot of `endpoints` plus the lab's network and host checks on a Linux machine,
/// with findings ranked by the real diagnosis.
fn lab_snapshot(lab: &str, endpoints: Vec<CheckResult>) -> Snapshot {
    let mut checks = endpoints;
    checks.extend(lab_network());
    checks.extend(lab_host());
    let mut s = base(checks);
    s.host.hostname = "vm".into();
    s.host.user = Some("tech".into());
    s.host.os = "Linux (Ubuntu 24.04)".into();
    s.host.lab = Some(lab.into());
    s.interval_secs = 30.0;
    let t = |secs: i64| last_sweep() - Duration::seconds(secs);
    let failing: Vec<(String, String)> = s
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| (c.id.clone(), c.summary.clone()))
        .collect();
    for (id, summary) in failing {
        s.history.insert(id.clone(), history_points("++++++++++xxx", 0.0));
        s.since.insert(id.clone(), t(95));
        s.events
            .push_back(change(t(95), &id, Some(Status::Pass), Status::Fail, &summary));
    }
    s.findings = crate::diagnosis::findings::diagnose(&s.checks);
    s
}

fn builtin_endpoints() -> Vec<CheckResult> {
    crate::catalog::Catalog::builtin()
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| lab_endpoint(e, i))
        .collect()
}

/// `c` refused at TCP, as a closed port answers.
fn refuse(c: &mut CheckResult) {
    let addr = c.stages[0].detail.clone();
    c.status = Status::Fail;
    c.summary = "TCP connection refused".into();
    c.cause = Some(crate::model::Cause::TcpRefused);
    c.stages.truncate(2);
    c.stages[1] = StageResult {
        name: StageName::Tcp,
        status: Status::Fail,
        ms: 0.3,
        detail: format!("{addr}:443 refused the connection (RST)"),
        cause: Some(crate::model::Cause::TcpRefused),
    };
    c.duration_ms = c.stages.iter().map(|s| s.ms).sum();
    c.tls = None;
    c.http = None;
    c.error = Some(format!("connect to {addr}:443: connection refused"));
}

/// The lab with the built-in catalog (20 endpoints), all healthy.
pub fn lab_healthy() -> Snapshot {
    lab_snapshot("healthy", builtin_endpoints())
}

/// The lab with the last endpoint of the built-in catalog refused: the failure sits at
/// the bottom of the catalog, where a 3-row pane would never show it.
pub fn lab_refused_late() -> Snapshot {
    let mut endpoints = builtin_endpoints();
    let last = endpoints.last_mut().expect("the built-in catalog has endpoints");
    refuse(last);
    lab_snapshot("refused", endpoints)
}

/// The lab behind a TLS-inspecting proxy: every HTTPS endpoint presents a certificate
/// from the inspection CA; plain-HTTP CRL downloads still pass.
pub fn lab_intercepted() -> Snapshot {
    let mut endpoints = builtin_endpoints();
    for c in endpoints.iter_mut().filter(|c| c.tls.is_some()) {
        c.status = Status::Fail;
        c.summary = "TLS: certificate from Contoso Inspection CA (interception)".into();
        c.cause = Some(crate::model::Cause::TlsIntercepted);
        c.stages.truncate(3);
        c.stages[2] = StageResult {
            name: StageName::Tls,
            status: Status::Fail,
            ms: 4.2,
            detail: "chain ends in CN=Contoso Inspection CA, not a Microsoft root".into(),
            cause: Some(crate::model::Cause::TlsIntercepted),
        };
        c.duration_ms = c.stages.iter().map(|s| s.ms).sum();
        c.http = None;
        if let Some(tls) = c.tls.as_mut() {
            tls.root = Some("CN=Contoso Inspection CA".into());
        }
    }
    lab_snapshot("intercepted", endpoints)
}

/// A 315-entry catalog (the built-in 20 and 295 made-up hosts across Microsoft's service
/// areas, as the worldwide web service lists them), one refused near the end.
pub fn big_catalog() -> Snapshot {
    use crate::catalog::{Endpoint, Scheme};
    let mut endpoints = builtin_endpoints();
    let areas = ["Exchange", "SharePoint", "Skype", "Common"];
    for i in 0..295 {
        let area = areas[i % areas.len()];
        let host = format!("{}-{i:03}.svc.example.microsoft.com", area.to_lowercase());
        let mut e = Endpoint::new(&host, Scheme::Https, "/");
        e.service_area = Some(area.into());
        endpoints.push(lab_endpoint(&e, 20 + i));
    }
    assert_eq!(endpoints.len(), 315);
    refuse(&mut endpoints[300]);
    lab_snapshot("big-catalog", endpoints)
}
