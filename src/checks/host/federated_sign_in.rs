//! `host:federated-sign-in`: the per-user `Autoorgidgetkey` value the article sets for
//! organisations that sign in through a federation service (AD FS and similar).
//!
//! Not set is right for most tenants, so that passes. The check warns when the value is
//! present but cannot work (wrong type or value), and when the sign-in log shows
//! `invalid_grant` errors (0xCAA20003, the federated-sign-in symptom) while it is not set.

use chrono::{DateTime, Utc};

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::{Key, RegValue};

use super::sign_in_errors::EventFacts;
use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:federated-sign-in",
    target: "HKCU\\Software\\Microsoft\\Office\\16.0\\Common Autoorgidgetkey",
    os: HostOs::Windows,
    reads: "Autoorgidgetkey under HKCU\\Software\\Microsoft\\Office\\16.0\\Common",
    remediation: Some("federated-autoorgidgetkey"),
};

pub const KEY: &str = "Software\\Microsoft\\Office\\16.0\\Common";
/// "Invalid grant": what a failing federated sign-in logs.
pub const INVALID_GRANT: u32 = 0xCAA2_0003;

pub fn check(key: &Key, events: &EventFacts, now: DateTime<Utc>) -> CheckResult {
    let invalid_grant = events.recent_codes(now).contains(&INVALID_GRANT);
    let (status, summary) = match key.value("Autoorgidgetkey") {
        Some(RegValue::Dword(1)) => (
            Status::Pass,
            "Autoorgidgetkey = 1: the article's federated sign-in fix is in place".to_owned(),
        ),
        Some(v) if !v.is_dword() => (
            Status::Warn,
            format!(
                "Autoorgidgetkey is a {}: Office reads only a DWORD, so the fix is not in effect",
                v.type_name()
            ),
        ),
        Some(v) => (
            Status::Warn,
            format!("Autoorgidgetkey = {v}: the article's fix is the DWORD 1"),
        ),
        None if invalid_grant => (
            Status::Warn,
            "invalid_grant errors (0xCAA20003) in the sign-in log and Autoorgidgetkey is not set".to_owned(),
        ),
        None => (
            Status::Pass,
            "Autoorgidgetkey is not set (only federated sign-in needs it)".to_owned(),
        ),
    };
    let mut r = result(&CHECK, status, summary);
    fact(&mut r, "Autoorgidgetkey", key.describe("Autoorgidgetkey"));
    fact(
        &mut r,
        "0xCAA20003 in the last 24 h",
        if invalid_grant { "yes" } else { "no" },
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::host::sign_in_errors::AadEvent;
    use crate::platform::windows::registry::Hive;

    use crate::checks::host::test_now as now;

    #[test]
    fn states_of_the_value() {
        let none = EventFacts::Read(vec![]);
        assert_eq!(
            check(&Key::missing(Hive::CurrentUser, KEY), &none, now()).status,
            Status::Pass
        );
        let set = Key::with(Hive::CurrentUser, KEY, [("autoorgidgetkey", RegValue::Dword(1))]);
        assert_eq!(check(&set, &none, now()).status, Status::Pass);
        let wrong = Key::with(Hive::CurrentUser, KEY, [("Autoorgidgetkey", RegValue::Dword(2))]);
        let r = check(&wrong, &none, now());
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.remediation.as_deref(), Some("federated-autoorgidgetkey"));
    }

    #[test]
    fn invalid_grant_errors_suggest_the_fix() {
        let ev = AadEvent {
            id: 1098,
            level: 2,
            time: Some(now()),
            code: Some(INVALID_GRANT),
            message: None,
        };
        let r = check(
            &Key::missing(Hive::CurrentUser, KEY),
            &EventFacts::Read(vec![ev]),
            now(),
        );
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("0xCAA20003"));
    }

    /// `reg add` on the real value (Wine) or its scratch copy flips the finding.
    #[cfg(windows)]
    #[test]
    fn reg_add_flips_the_autoorgidgetkey_finding() {
        use crate::checks::host::windows_facts::tests::RegSandbox;
        use crate::platform::windows::registry::read_key;
        let sandbox = RegSandbox::new("federated");
        let view = sandbox.view();
        let none = EventFacts::Read(vec![]);
        let read = || check(&read_key(&view, Hive::CurrentUser, KEY), &none, now());
        assert!(
            read().summary.starts_with("Autoorgidgetkey is not set"),
            "{}",
            read().summary
        );
        sandbox.set(Hive::CurrentUser, KEY, "Autoorgidgetkey", "REG_SZ", "1");
        assert_eq!(read().status, Status::Warn);
        sandbox.set(Hive::CurrentUser, KEY, "Autoorgidgetkey", "REG_DWORD", "1");
        assert!(
            read().summary.starts_with("Autoorgidgetkey = 1"),
            "{}",
            read().summary
        );
    }
}
