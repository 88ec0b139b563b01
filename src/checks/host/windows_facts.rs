//! Every Windows fact the host checks judge, read in one pass, and the judging itself.
//!
//! Reading is the only Windows-specific step; [`evaluate_windows`] is plain code, so a
//! whole machine's worth of facts (a healthy Windows 11, an old Windows 7) is tested on
//! any OS.

use chrono::{DateTime, Utc};

use crate::model::CheckResult;
use crate::platform::windows::credentials::StoredCredential;
use crate::platform::windows::registry::Key;

use super::adal_wam::IdentityKeys;
use super::broker_plugin::BrokerFacts;
use super::device_join::JoinFacts;
use super::mdm_mam::EnrollmentFacts;
use super::office_account::AccountFacts;
use super::os_version::OsFacts;
use super::sign_in_errors::EventFacts;
use super::tls_registry::TlsFacts;
use super::token_broker_cache::CacheDir;
use super::windows_session::SessionFacts;
use super::{
    adal_wam, broker_plugin, citrix, device_join, federated_sign_in, mdm_mam, office_account,
    office_credentials, os_version, protection_policy, sign_in_errors, tls_registry, token_broker_cache, vdi,
    wip,
};

/// What the Windows host checks look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsFacts {
    /// Wine's version when the monitor runs under Wine.
    pub wine: Option<String>,
    pub os: OsFacts,
    pub tls: TlsFacts,
    pub session: SessionFacts,
    pub accounts: AccountFacts,
    pub identity: IdentityKeys,
    pub broker: BrokerFacts,
    /// `None` when `LOCALAPPDATA` is not set.
    pub caches: Option<Vec<CacheDir>>,
    pub wip_policy: Key,
    pub credentials: Result<Vec<StoredCredential>, String>,
    pub protection: Key,
    pub enrollments: EnrollmentFacts,
    /// `HKCU\Software\Microsoft\Office\16.0\Common` (Autoorgidgetkey).
    pub office_common: Key,
    pub join: JoinFacts,
    pub events: EventFacts,
}

impl WindowsFacts {
    /// Reads this machine (registry through `view`; tools at most once a minute).
    #[cfg(windows)]
    pub fn read(view: &crate::platform::windows::registry::View, now: DateTime<Utc>) -> WindowsFacts {
        use crate::platform::windows::registry::{read_key, Hive};
        use crate::platform::windows::{credentials, wine};
        use std::path::PathBuf;
        let _ = now;
        let os = OsFacts::from_key(&read_key(view, Hive::LocalMachine, os_version::KEY));
        let session = SessionFacts::read(view, os.is_multi_session());
        let system_root = std::env::var_os("SystemRoot")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("C:\\Windows"));
        let local_app_data = std::env::var_os("LOCALAPPDATA").map(PathBuf::from);
        WindowsFacts {
            wine: wine::version(),
            tls: TlsFacts::read(view),
            accounts: AccountFacts::read(view, session.office_installed()),
            identity: IdentityKeys::read(view),
            broker: BrokerFacts::read(&system_root),
            caches: token_broker_cache::read(local_app_data.as_deref()),
            wip_policy: read_key(view, Hive::LocalMachine, wip::POLICY),
            credentials: credentials::list(),
            protection: read_key(view, Hive::LocalMachine, protection_policy::KEY),
            enrollments: mdm_mam::read(view),
            office_common: read_key(view, Hive::CurrentUser, federated_sign_in::KEY),
            join: JoinFacts::read(),
            events: EventFacts::read(),
            os,
            session,
        }
    }
}

/// Judges every Windows host check, in [`super::CHECKS`] order.
pub fn evaluate_windows(f: &WindowsFacts, now: DateTime<Utc>) -> Vec<CheckResult> {
    let generation = f.os.generation();
    let wine = f.wine.as_deref();
    vec![
        os_version::check(&f.os, wine),
        tls_registry::check(&f.tls, generation),
        citrix::check(&f.session),
        vdi::check(&f.session),
        office_account::check(&f.accounts),
        adal_wam::check(&f.identity),
        broker_plugin::check(&f.broker, generation, wine),
        token_broker_cache::check(f.caches.as_deref()),
        wip::check(&f.wip_policy, &f.events, now),
        office_credentials::check(&f.credentials),
        protection_policy::check(&f.protection, &f.events, now),
        mdm_mam::check(&f.enrollments),
        federated_sign_in::check(&f.office_common, &f.events, now),
        device_join::check(&f.join, now),
        sign_in_errors::check(&f.events, now, wine),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checks::host::{HostOs, CHECKS};
    use crate::model::Status;
    use crate::platform::windows::registry::{Hive, RegValue};
    use std::path::PathBuf;

    fn fixture_text(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/host/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// A healthy Windows 11 laptop joined to Entra ID, signed in to Office.
    fn healthy() -> WindowsFacts {
        let sz = |s: &str| RegValue::Sz(s.into());
        let mut session = SessionFacts::fixture(Some("Console"));
        session.click_to_run = Key::with(
            Hive::LocalMachine,
            super::super::windows_session::CLICK_TO_RUN,
            [("Platform", sz("x64"))],
        );
        WindowsFacts {
            wine: None,
            os: os_version::fixture([
                ("ProductName", sz("Windows 10 Enterprise")),
                ("CurrentBuildNumber", sz("22631")),
                ("InstallationType", sz("Client")),
            ]),
            tls: TlsFacts::defaults(),
            session,
            accounts: AccountFacts {
                identities: Ok(Some(vec![office_account::OfficeIdentity::from_key(
                    "1a_ADAL",
                    &Key::with(Hive::CurrentUser, "x", [("EmailAddress", sz("ada@contoso.com"))]),
                )])),
                office_installed: true,
            },
            identity: IdentityKeys::none(),
            broker: BrokerFacts {
                processes: vec![],
                package_dir: PathBuf::from("C:\\Windows").join(broker_plugin::PACKAGE),
                package_present: true,
                security: vec![],
            },
            caches: Some(vec![]),
            wip_policy: Key::missing(Hive::LocalMachine, wip::POLICY),
            credentials: Ok(vec![]),
            protection: Key::missing(Hive::LocalMachine, protection_policy::KEY),
            enrollments: Ok(vec![]),
            office_common: Key::missing(Hive::CurrentUser, federated_sign_in::KEY),
            join: JoinFacts::Parsed(device_join::Dsreg::parse(&fixture_text(
                "dsregcmd-entra-joined.txt",
            ))),
            events: EventFacts::Read(vec![]),
        }
    }

    use crate::checks::host::test_now as now;

    #[test]
    fn a_healthy_machine_has_no_warning_or_failure() {
        let results = evaluate_windows(&healthy(), now());
        let windows: Vec<_> = CHECKS
            .iter()
            .filter(|c| c.os == HostOs::Windows)
            .map(|c| c.id)
            .collect();
        assert_eq!(results.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), windows);
        for r in &results {
            assert!(
                matches!(r.status, Status::Pass | Status::Skip),
                "{}: {:?} {}",
                r.id,
                r.status,
                r.summary
            );
            assert_eq!(r.remediation, None, "{}", r.id);
        }
    }

    /// The article's problems, one machine: each lands on its check with its remediation.
    #[test]
    fn a_troubled_machine_points_at_the_article_sections() {
        let mut f = healthy();
        let sz = |s: &str| RegValue::Sz(s.into());
        f.os = os_version::fixture([
            ("ProductName", sz("Windows 7 Professional")),
            ("CurrentBuildNumber", sz("7601")),
            ("CSDVersion", sz("Service Pack 1")),
        ]);
        f.identity.user = Key::with(
            Hive::CurrentUser,
            adal_wam::IDENTITY,
            [("DisableAADWAM", RegValue::Dword(1))],
        );
        f.broker.package_present = false;
        f.protection = Key::with(
            Hive::LocalMachine,
            protection_policy::KEY,
            [("ProtectionPolicy", sz("1"))],
        );
        f.events =
            EventFacts::Read(sign_in_errors::parse_events(&fixture_text("aad-operational.xml")).unwrap());
        f.join = JoinFacts::Parsed(device_join::Dsreg::parse(&fixture_text(
            "dsregcmd-hybrid-no-prt.txt",
        )));
        let results = evaluate_windows(&f, now());
        let get = |id: &str| results.iter().find(|r| r.id == id).unwrap();
        assert_eq!(
            get("host:os-version").remediation.as_deref(),
            Some("tls12-old-windows")
        );
        assert_eq!(get("host:tls12").status, Status::Fail);
        assert_eq!(get("host:adal-wam").status, Status::Fail);
        // Windows 7 has no broker: its absence is not a finding there.
        assert_eq!(get("host:broker-plugin").status, Status::Skip);
        assert_eq!(
            get("host:protection-policy").remediation.as_deref(),
            Some("protection-policy")
        );
        assert_eq!(get("host:device-join").status, Status::Warn);
        assert_eq!(get("host:sign-in-errors").status, Status::Warn);
        for r in results
            .iter()
            .filter(|r| matches!(r.status, Status::Warn | Status::Fail))
        {
            let rem = r
                .remediation
                .as_deref()
                .unwrap_or_else(|| panic!("{} lacks a remediation", r.id));
            assert!(
                crate::diagnosis::remediation::get(rem).is_some(),
                "{}: {rem}",
                r.id
            );
        }
    }

    #[test]
    fn under_wine_the_missing_windows_parts_are_skips() {
        let mut f = healthy();
        f.wine = Some("8.0".into());
        f.broker.package_present = false;
        f.join = JoinFacts::NotAvailable("dsregcmd is not available on this machine".into());
        let results = evaluate_windows(&f, now());
        for id in ["host:broker-plugin", "host:device-join", "host:sign-in-errors"] {
            let r = results.iter().find(|r| r.id == id).unwrap();
            assert_eq!(r.status, Status::Skip, "{id}: {}", r.summary);
        }
    }

    /// Registry writes for tests, undone when dropped. Under Wine (a throwaway prefix)
    /// the real keys are written, so the tests prove the exact paths; on a real Windows
    /// machine everything goes to a scratch copy under HKCU, so the machine's own settings
    /// are never touched. One sandbox at a time: tests sharing keys cannot race.
    #[cfg(windows)]
    pub(crate) struct RegSandbox {
        view: crate::platform::windows::registry::View,
        scratch: Option<String>,
        written: std::cell::RefCell<Vec<(String, String)>>,
        created: std::cell::RefCell<Vec<String>>,
        _one_at_a_time: std::sync::MutexGuard<'static, ()>,
    }

    #[cfg(windows)]
    impl RegSandbox {
        pub(crate) fn new(tag: &str) -> RegSandbox {
            use crate::platform::windows::registry::View;
            static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
            let scratch = crate::platform::windows::wine::version()
                .is_none()
                .then(|| format!("Software\\m365mon-test-{tag}-{}", std::process::id()));
            let view = scratch.as_deref().map(View::scratch).unwrap_or_else(View::system);
            RegSandbox {
                view,
                scratch,
                written: Default::default(),
                created: Default::default(),
                _one_at_a_time: guard,
            }
        }

        pub(crate) fn view(&self) -> crate::platform::windows::registry::View {
            self.view.clone()
        }

        fn reg(args: &[&str]) {
            let out = std::process::Command::new("reg")
                .args(args)
                .output()
                .expect("run reg.exe");
            assert!(
                out.status.success(),
                "reg {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        /// `reg add <key> /v name /t kind /d data /f`.
        pub(crate) fn set(&self, hive: Hive, path: &str, name: &str, kind: &str, data: &str) {
            use crate::platform::windows::registry::subkeys;
            // Remember the shallowest key that does not exist yet: removing it undoes the add.
            let parts: Vec<&str> = path.split('\\').collect();
            for depth in 1..=parts.len() {
                let partial = parts[..depth].join("\\");
                if matches!(subkeys(&self.view, hive, &partial), Ok(None)) {
                    let full = self.view.reg_path(hive, &partial);
                    if !self.created.borrow().contains(&full) {
                        self.created.borrow_mut().push(full);
                    }
                    break;
                }
            }
            let full = self.view.reg_path(hive, path);
            Self::reg(&["add", &full, "/v", name, "/t", kind, "/d", data, "/f"]);
            self.written.borrow_mut().push((full, name.to_owned()));
        }

        /// `reg delete <key> /v name /f`.
        pub(crate) fn delete(&self, hive: Hive, path: &str, name: &str) {
            Self::reg(&["delete", &self.view.reg_path(hive, path), "/v", name, "/f"]);
        }
    }

    #[cfg(windows)]
    impl Drop for RegSandbox {
        fn drop(&mut self) {
            let quiet = |args: &[&str]| {
                let _ = std::process::Command::new("reg").args(args).output();
            };
            if let Some(prefix) = &self.scratch {
                quiet(&["delete", &format!("HKCU\\{prefix}"), "/f"]);
                return;
            }
            for (key, name) in self.written.borrow().iter().rev() {
                quiet(&["delete", key, "/v", name, "/f"]);
            }
            for key in self.created.borrow().iter().rev() {
                quiet(&["delete", key, "/f"]);
            }
        }
    }

    /// The whole Windows read under the Windows tier: every fact source answers (Wine
    /// included), and the read is fast enough to run every sweep.
    #[cfg(windows)]
    #[test]
    fn reads_this_machine() {
        use crate::platform::windows::registry::View;
        let started = std::time::Instant::now();
        let f = WindowsFacts::read(&View::system(), Utc::now());
        assert!(f.os.build.is_some(), "no Windows build read: {:?}", f.os);
        assert!(f.credentials.is_ok(), "Credential Manager: {:?}", f.credentials);
        assert!(f.caches.is_some(), "LOCALAPPDATA is set on Windows");
        let results = evaluate_windows(&f, Utc::now());
        assert_eq!(
            results.len(),
            CHECKS.iter().filter(|c| c.os == HostOs::Windows).count()
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "took {:?}",
            started.elapsed()
        );
    }
}
