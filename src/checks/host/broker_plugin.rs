//! `host:broker-plugin`: the Web Account Manager's sign-in broker,
//! `Microsoft.AAD.BrokerPlugin.exe`.
//!
//! The broker is an on-demand app: it starts when a sign-in begins and exits a while after,
//! so "not running" between sign-ins is normal, and the summary says which of the two it
//! is ("running (pid ...)" / "not running: ...") so a change shows in the monitor from one
//! sweep to the next. Its package folder under `%SystemRoot%\SystemApps` must exist on
//! Windows 10 and later. Security software that blocks the broker is the article's main
//! suspect, so antivirus, TLS-inspecting agents and VPN clients that are running are
//! listed as facts (information, not a verdict: most machines run one).

use std::path::{Path, PathBuf};

use crate::model::{CheckResult, Status};
use crate::platform::ProcessFact;

use super::os_version::Generation;
use super::{fact, result, when, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:broker-plugin",
    target: "Microsoft.AAD.BrokerPlugin.exe",
    os: HostOs::Windows,
    reads: "the process list (Microsoft.AAD.BrokerPlugin.exe, security and VPN agents) and the broker's package folder",
    remediation: None,
};

/// The broker's process name.
pub const PROCESS: &str = "Microsoft.AAD.BrokerPlugin.exe";
/// The broker's package folder, below `%SystemRoot%`.
pub const PACKAGE: &str = "SystemApps\\Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy";

/// How a product can get in the broker's way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interference {
    /// Antivirus / endpoint protection: may block the broker's process.
    Antivirus,
    /// Decrypts TLS or filters by application: may break or block the broker's traffic.
    TlsInspection,
    /// VPN client: may route or filter sign-in traffic.
    Vpn,
}

impl Interference {
    pub fn label(self) -> &'static str {
        match self {
            Interference::Antivirus => "antivirus",
            Interference::TlsInspection => "TLS inspection / web filter",
            Interference::Vpn => "VPN",
        }
    }
}

/// Process names of products known to get in the way of sign-in (a short list of the
/// common ones; the point is to name them to the technician, not to judge them).
pub const SECURITY_SOFTWARE: &[(&str, &str, Interference)] = &[
    (
        "ZSATunnel.exe",
        "Zscaler Client Connector",
        Interference::TlsInspection,
    ),
    ("stAgentSvc.exe", "Netskope Client", Interference::TlsInspection),
    (
        "acumbrellaagent.exe",
        "Cisco Umbrella",
        Interference::TlsInspection,
    ),
    ("warp-svc.exe", "Cloudflare WARP", Interference::TlsInspection),
    ("PanGPS.exe", "Palo Alto GlobalProtect", Interference::Vpn),
    (
        "vpnagent.exe",
        "Cisco AnyConnect / Secure Client",
        Interference::Vpn,
    ),
    ("FortiClient.exe", "FortiClient", Interference::Vpn),
    (
        "PulseSecureService.exe",
        "Pulse Secure / Ivanti Secure Access",
        Interference::Vpn,
    ),
    ("openvpn.exe", "OpenVPN", Interference::Vpn),
    ("wireguard.exe", "WireGuard", Interference::Vpn),
    (
        "MsMpEng.exe",
        "Microsoft Defender Antivirus",
        Interference::Antivirus,
    ),
    ("ccSvcHst.exe", "Symantec / Norton", Interference::Antivirus),
    ("mfemms.exe", "McAfee / Trellix", Interference::Antivirus),
    ("PccNTMon.exe", "Trend Micro", Interference::Antivirus),
    ("SophosHealth.exe", "Sophos", Interference::Antivirus),
    ("avp.exe", "Kaspersky", Interference::Antivirus),
    ("ekrn.exe", "ESET", Interference::Antivirus),
    ("bdservicehost.exe", "Bitdefender", Interference::Antivirus),
    ("AvastSvc.exe", "Avast", Interference::Antivirus),
    (
        "CSFalconService.exe",
        "CrowdStrike Falcon",
        Interference::Antivirus,
    ),
    ("SentinelAgent.exe", "SentinelOne", Interference::Antivirus),
];

/// A running product from [`SECURITY_SOFTWARE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityProcess {
    pub product: &'static str,
    pub kind: Interference,
    pub process: ProcessFact,
}

/// What the check looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerFacts {
    /// Running broker processes (usually none or one).
    pub processes: Vec<ProcessFact>,
    pub package_dir: PathBuf,
    pub package_present: bool,
    pub security: Vec<SecurityProcess>,
}

impl BrokerFacts {
    /// Reads the process list once, and the package folder under `system_root`.
    pub fn read(system_root: &Path) -> BrokerFacts {
        let mut names: Vec<&str> = vec![PROCESS];
        names.extend(SECURITY_SOFTWARE.iter().map(|(p, _, _)| *p));
        let running = crate::platform::running_processes(&names);
        let package_dir = system_root.join(PACKAGE);
        BrokerFacts {
            package_present: package_dir.is_dir(),
            package_dir,
            processes: running.iter().filter(|p| p.name == PROCESS).cloned().collect(),
            security: running
                .into_iter()
                .filter_map(|p| {
                    let (_, product, kind) = SECURITY_SOFTWARE.iter().find(|(n, _, _)| *n == p.name)?;
                    Some(SecurityProcess {
                        product,
                        kind: *kind,
                        process: p,
                    })
                })
                .collect(),
        }
    }
}

/// Judges the broker. `wine`: Wine's version under Wine (which has no broker).
pub fn check(f: &BrokerFacts, generation: Option<Generation>, wine: Option<&str>) -> CheckResult {
    let pids: Vec<String> = f.processes.iter().map(|p| p.pid.to_string()).collect();
    let (status, summary) = if !f.processes.is_empty() {
        (Status::Pass, format!("running (pid {})", pids.join(", ")))
    } else if f.package_present {
        (Status::Pass, "not running: it starts during sign-in".to_owned())
    } else if let Some(w) = wine {
        (
            Status::Skip,
            format!("not running, and Wine {w} has no sign-in broker to start"),
        )
    } else if generation.is_some_and(|g| g < Generation::TenOrLater) {
        (
            Status::Skip,
            "this Windows has no sign-in broker: Office signs in with its own window".to_owned(),
        )
    } else {
        (
            Status::Warn,
            "the sign-in broker app is missing from this Windows".to_owned(),
        )
    };
    let mut r = result(&CHECK, status, summary);
    fact(
        &mut r,
        "process",
        if f.processes.is_empty() {
            "not running"
        } else {
            "running"
        },
    );
    for p in &f.processes {
        let since = p
            .started_at
            .map(when)
            .unwrap_or_else(|| "start time unknown".to_owned());
        fact(&mut r, "broker", format!("pid {} since {since}", p.pid));
    }
    let folder = if f.package_present { "present" } else { "missing" };
    fact(
        &mut r,
        "package folder",
        format!("{} ({folder})", f.package_dir.display()),
    );
    if f.security.is_empty() {
        fact(
            &mut r,
            "security software",
            "none of the known antivirus, TLS-inspection or VPN agents is running",
        );
    }
    for s in &f.security {
        fact(
            &mut r,
            "security software",
            format!(
                "{} ({}, {} pid {})",
                s.product,
                s.kind.label(),
                s.process.name,
                s.process.pid
            ),
        );
    }
    if status == Status::Warn {
        r.remediation = Some("brokerplugin-reset".into());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(name: &str, pid: u32) -> ProcessFact {
        ProcessFact {
            name: name.into(),
            pid,
            started_at: chrono::DateTime::from_timestamp(1_700_000_000, 0),
        }
    }

    fn facts(running: bool, folder: bool) -> BrokerFacts {
        BrokerFacts {
            processes: if running {
                vec![proc(PROCESS, 4242)]
            } else {
                vec![]
            },
            package_dir: PathBuf::from("C:\\Windows").join(PACKAGE),
            package_present: folder,
            security: vec![],
        }
    }

    #[test]
    fn running_and_not_running_are_both_healthy_but_read_differently() {
        let up = check(&facts(true, true), Some(Generation::TenOrLater), None);
        assert_eq!(
            (up.status, up.summary.as_str()),
            (Status::Pass, "running (pid 4242)")
        );
        assert!(up.facts.contains(&("process".into(), "running".into())));
        assert!(
            up.facts
                .iter()
                .any(|(k, v)| k == "broker" && v == "pid 4242 since 2023-11-14 22:13:20 UTC"),
            "{:?}",
            up.facts
        );
        let down = check(&facts(false, true), Some(Generation::TenOrLater), None);
        assert_eq!(
            (down.status, down.summary.as_str()),
            (Status::Pass, "not running: it starts during sign-in")
        );
        assert!(down.facts.contains(&("process".into(), "not running".into())));
        assert_eq!(down.remediation, None);
    }

    #[test]
    fn a_missing_package_is_a_warning_only_where_windows_has_a_broker() {
        let r = check(&facts(false, false), Some(Generation::TenOrLater), None);
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.remediation.as_deref(), Some("brokerplugin-reset"));
        assert_eq!(
            check(&facts(false, false), Some(Generation::SevenSp1), None).status,
            Status::Skip
        );
        let wine = check(&facts(false, false), Some(Generation::TenOrLater), Some("8.0"));
        assert_eq!(wine.status, Status::Skip);
        assert!(wine.summary.contains("Wine 8.0"), "{}", wine.summary);
        // A running broker is reported as running whatever else is true.
        assert_eq!(
            check(&facts(true, false), Some(Generation::TenOrLater), Some("8.0")).status,
            Status::Pass
        );
    }

    #[test]
    fn security_software_is_listed_as_information() {
        let mut f = facts(false, true);
        f.security.push(SecurityProcess {
            product: "Zscaler Client Connector",
            kind: Interference::TlsInspection,
            process: proc("ZSATunnel.exe", 77),
        });
        let r = check(&f, Some(Generation::TenOrLater), None);
        assert_eq!(r.status, Status::Pass);
        assert!(
            r.facts.iter().any(|(k, v)| k == "security software"
                && v == "Zscaler Client Connector (TLS inspection / web filter, ZSATunnel.exe pid 77)"),
            "{:?}",
            r.facts
        );
    }

    #[test]
    fn the_known_list_has_unique_exe_names() {
        let mut names: Vec<_> = SECURITY_SOFTWARE
            .iter()
            .map(|(n, _, _)| n.to_ascii_lowercase())
            .collect();
        assert!(names.iter().all(|n| n.ends_with(".exe")));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SECURITY_SOFTWARE.len());
    }

    /// The Windows tier's proof: a process named Microsoft.AAD.BrokerPlugin.exe (a copy of
    /// Windows' ping.exe, which waits between pings) is seen while it runs, with its pid and
    /// start time, and its exit is noticed on the next read — as across two sweeps.
    #[cfg(windows)]
    #[test]
    fn notices_the_broker_start_and_exit() {
        let root = PathBuf::from(std::env::var_os("SystemRoot").expect("SystemRoot is set on Windows"));
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = dir.path().join(PROCESS);
        std::fs::copy(root.join("System32").join("PING.EXE"), &fake).expect("copy ping.exe");
        let before = BrokerFacts::read(&root);
        assert!(
            before.processes.is_empty(),
            "a broker is already running: {:?}",
            before.processes
        );

        let mut child = std::process::Command::new(&fake)
            .args(["-n", "60", "127.0.0.1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start the stand-in broker");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let running = loop {
            let f = BrokerFacts::read(&root);
            if !f.processes.is_empty() || std::time::Instant::now() > deadline {
                break f;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        let r = check(&running, Some(Generation::TenOrLater), None);
        let pid = child.id();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(r.summary, format!("running (pid {pid})"), "{:?}", running);
        assert!(
            running.processes[0].started_at.is_some(),
            "no start time: {running:?}"
        );

        let after = BrokerFacts::read(&root);
        let r = check(&after, Some(Generation::TenOrLater), None);
        // The summary may speak of the missing broker package instead (Wine has none);
        // the process fact is what must have turned.
        assert!(
            r.facts.contains(&("process".into(), "not running".into())),
            "{}: {:?}",
            r.summary,
            r.facts
        );
    }
}
