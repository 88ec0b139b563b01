//! Checks of the machine itself: the sign-in broker, Office's identity settings and
//! credentials, device join, TLS 1.2 switches, virtual desktops, policies — one module per
//! check, each a plain function of facts.
//!
//! ```text
//!   platform (registry, processes, Credential Manager, dsregcmd, wevtutil, mdfind)
//!        |  read once per sweep (tools: at most once a minute, see `Cached`)
//!        v
//!   WindowsFacts / mac facts  --each module's check()-->  CheckResult (kind host)
//! ```
//!
//! Every check only reads; nothing here changes the machine. A check of another OS's
//! settings returns `skip` with "Windows only: ..." or "macOS only: ...", so the JSON
//! ids are the same on every machine (documented in docs/checks.md, tested there).
//! Findings come from the checks' `remediation` ids (see [`crate::diagnosis::remediation`]).

pub mod adal_wam;
pub mod broker_plugin;
pub mod citrix;
pub mod device_join;
pub mod federated_sign_in;
pub mod mac_office_location;
pub mod mdm_mam;
pub mod office_account;
pub mod office_credentials;
pub mod os_version;
pub mod protection_policy;
pub mod sign_in_errors;
pub mod tls_registry;
pub mod token_broker_cache;
pub mod vdi;
mod windows_facts;
pub mod windows_session;
pub mod wip;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

pub use windows_facts::{evaluate_windows, WindowsFacts};

use crate::checks::Sweep;
use crate::model::{CheckKind, CheckResult, Status};

/// Which OS a host check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOs {
    Windows,
    MacOs,
}

impl HostOs {
    pub fn name(self) -> &'static str {
        match self {
            HostOs::Windows => "Windows",
            HostOs::MacOs => "macOS",
        }
    }

    /// Whether the monitor runs on this OS.
    pub fn is_this_os(self) -> bool {
        match self {
            HostOs::Windows => cfg!(windows),
            HostOs::MacOs => cfg!(target_os = "macos"),
        }
    }
}

/// One host check as the report and docs/checks.md list it.
#[derive(Debug, Clone, Copy)]
pub struct HostCheck {
    pub id: &'static str,
    /// The target column: what is checked.
    pub target: &'static str,
    pub os: HostOs,
    /// What it reads, for the skip reason on other OSes.
    pub reads: &'static str,
    /// The remediation entry a warning or failure of this check leads to; `None` where the
    /// check picks one from what it found (an error code, the broker's state).
    pub remediation: Option<&'static str>,
}

/// Every host check, in report order (roughly the article's order).
pub const CHECKS: &[HostCheck] = &[
    os_version::CHECK,
    tls_registry::CHECK,
    citrix::CHECK,
    vdi::CHECK,
    office_account::CHECK,
    adal_wam::CHECK,
    broker_plugin::CHECK,
    token_broker_cache::CHECK,
    wip::CHECK,
    office_credentials::CHECK,
    protection_policy::CHECK,
    mdm_mam::CHECK,
    federated_sign_in::CHECK,
    device_join::CHECK,
    sign_in_errors::CHECK,
    mac_office_location::CHECK,
];

/// A host check result with no facts yet; a warning or failure carries the check's
/// remediation entry.
pub(crate) fn result(check: &HostCheck, status: Status, summary: impl Into<String>) -> CheckResult {
    let mut r = CheckResult::simple(check.id, CheckKind::Host, check.target, status, summary);
    if matches!(status, Status::Warn | Status::Fail) {
        r.remediation = check.remediation.map(str::to_owned);
    }
    r
}

/// Adds a fact (key, value) for the detail view.
pub(crate) fn fact(r: &mut CheckResult, key: &str, value: impl Into<String>) {
    r.facts.push((key.to_owned(), value.into()));
}

/// The result of a check that belongs to another OS.
pub fn elsewhere(check: &HostCheck) -> CheckResult {
    let mut r = result(
        check,
        Status::Skip,
        format!("{} only: this check reads {}", check.os.name(), check.reads),
    );
    fact(
        &mut r,
        "why",
        format!("m365mon runs on {} here", std::env::consts::OS),
    );
    r
}

/// The fixed "now" of the host checks' tests (a Tuesday noon, UTC).
#[cfg(test)]
pub(crate) fn test_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-05-14T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Time for the detail view: RFC 3339 in UTC, to the second.
pub(crate) fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Runs the host checks of this OS beside the endpoint probes. Reading the registry, the
/// process table and the tools blocks, so it runs on tokio's blocking pool.
pub async fn gather(plan: &Sweep<'_>) -> Vec<CheckResult> {
    // Host facts do not depend on the sweep's settings: a lab run still reads this
    // machine's own settings.
    let _ = plan;
    collect_in_background().await
}

async fn collect_in_background() -> Vec<CheckResult> {
    match tokio::task::spawn_blocking(collect).await {
        Ok(results) => results,
        Err(e) => CHECKS
            .iter()
            .map(|c| {
                let mut r = result(c, Status::Warn, "the host checks stopped unexpectedly");
                fact(&mut r, "error", e.to_string());
                r
            })
            .collect(),
    }
}

/// Reads the facts of this OS and judges them; other OSes' checks are skips.
pub fn collect() -> Vec<CheckResult> {
    let now = Utc::now();
    let mut out: Vec<CheckResult> = Vec::with_capacity(CHECKS.len());
    #[cfg(windows)]
    {
        let facts = WindowsFacts::read(&crate::platform::windows::registry::View::system(), now);
        out.extend(evaluate_windows(&facts, now));
    }
    #[cfg(target_os = "macos")]
    out.push(mac_office_location::check(&mac_office_location::read()));
    let _ = now;
    // Every id appears on every OS, in the documented order.
    CHECKS
        .iter()
        .map(|c| match out.iter().position(|r| r.id == c.id) {
            Some(i) => out.swap_remove(i),
            None => elsewhere(c),
        })
        .collect()
}

/// A value that is expensive to read (a tool run) and kept for a while, so a 5-second
/// sweep interval does not start `dsregcmd` twelve times a minute.
pub struct Cached<T> {
    slot: Mutex<Option<(Instant, T)>>,
    max_age: Duration,
}

impl<T: Clone> Cached<T> {
    pub const fn new(max_age: Duration) -> Self {
        Cached {
            slot: Mutex::new(None),
            max_age,
        }
    }

    /// The kept value if younger than `max_age` at `now`, else a fresh one from `read`.
    pub fn get(&self, now: Instant, read: impl FnOnce() -> T) -> T {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, v)) = slot.as_ref() {
            if now.saturating_duration_since(*at) < self.max_age {
                return v.clone();
            }
        }
        let v = read();
        *slot = Some((now, v.clone()));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_documented_host_ids() {
        let mut ids: Vec<_> = CHECKS.iter().map(|c| c.id).collect();
        assert!(ids.iter().all(|id| id.starts_with("host:") && id.len() > 5));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len(), "duplicate host check id");
        let doc = include_str!("../../../docs/checks.md");
        for c in CHECKS {
            assert!(
                doc.contains(&format!("`{}`", c.id)),
                "docs/checks.md does not document {}",
                c.id
            );
        }
    }

    #[test]
    fn every_check_reports_on_every_os_in_order() {
        let results = collect();
        let ids: Vec<_> = results.iter().map(|r| r.id.as_str()).collect();
        let want: Vec<_> = CHECKS.iter().map(|c| c.id).collect();
        assert_eq!(ids, want);
        for (r, c) in results.iter().zip(CHECKS) {
            assert_eq!(r.kind, CheckKind::Host);
            if !c.os.is_this_os() {
                assert_eq!(r.status, Status::Skip, "{}", r.id);
                assert!(
                    r.summary.starts_with(&format!("{} only: ", c.os.name())),
                    "{}: {}",
                    r.id,
                    r.summary
                );
            }
            // Whatever the status, a check that is not passing says what to do.
            if matches!(r.status, Status::Warn | Status::Fail) {
                let rem = r
                    .remediation
                    .as_deref()
                    .unwrap_or_else(|| panic!("{} has no remediation", r.id));
                assert!(
                    crate::diagnosis::remediation::get(rem).is_some(),
                    "{}: unknown remediation {rem}",
                    r.id
                );
            }
        }
    }

    #[test]
    fn skips_name_the_os_and_what_would_be_read() {
        let r = elsewhere(&adal_wam::CHECK);
        assert_eq!(r.status, Status::Skip);
        assert!(
            r.summary.starts_with("Windows only: this check reads HKCU"),
            "{}",
            r.summary
        );
        let r = elsewhere(&mac_office_location::CHECK);
        assert!(r.summary.starts_with("macOS only: "), "{}", r.summary);
    }

    #[test]
    fn cached_values_are_reused_until_they_are_too_old() {
        let cache = Cached::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let mut reads = 0;
        let mut read = |v: u32| {
            reads += 1;
            v
        };
        assert_eq!(cache.get(t0, || read(1)), 1);
        assert_eq!(cache.get(t0 + Duration::from_secs(59), || read(2)), 1);
        assert_eq!(cache.get(t0 + Duration::from_secs(61), || read(3)), 3);
        assert_eq!(reads, 2);
    }

    #[tokio::test]
    async fn the_blocking_reads_run_off_the_async_threads() {
        let results = collect_in_background().await;
        assert_eq!(results.len(), CHECKS.len());
    }
}
