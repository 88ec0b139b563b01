//! `host:wip`: Windows Information Protection, which blocks activation with error
//! 0x80070164 when Office is missing from the policy's allowed apps.
//!
//! Two signals: the enforcement level MDM records for the policy
//! (`EDPEnforcementLevel` under `HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\DataProtection`;
//! 0 off, 1 silent, 2 allow overrides, 3 block), and the error itself in the broker's
//! event log. The allowed-apps list is not readable from here, so an enforced policy is a
//! warning to check the list, and the error in the log is a failure.

use chrono::{DateTime, Utc};

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::{Key, RegValue};

use super::sign_in_errors::EventFacts;
use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:wip",
    target: "Windows Information Protection",
    os: HostOs::Windows,
    reads: "EDPEnforcementLevel under HKLM\\SOFTWARE\\Microsoft\\PolicyManager\\current\\device\\DataProtection and 0x80070164 in the AAD event log",
    remediation: Some("wip"),
};

pub const POLICY: &str = "SOFTWARE\\Microsoft\\PolicyManager\\current\\device\\DataProtection";
/// The activation error WIP causes.
pub const WIP_ERROR: u32 = 0x8007_0164;

fn level_name(level: u32) -> &'static str {
    match level {
        0 => "off",
        1 => "silent (encrypt and audit)",
        2 => "allow overrides",
        3 => "block (hide overrides)",
        _ => "unknown level",
    }
}

pub fn check(policy: &Key, events: &EventFacts, now: DateTime<Utc>) -> CheckResult {
    let level = policy.value("EDPEnforcementLevel").and_then(RegValue::as_number);
    let blocked = events.recent_codes(now).contains(&WIP_ERROR);
    let (status, summary) = match (blocked, level) {
        (true, _) => (
            Status::Fail,
            "Windows Information Protection blocked an app (0x80070164 in the sign-in log)".to_owned(),
        ),
        (false, Some(l)) if l > 0 => (
            Status::Warn,
            format!(
                "Windows Information Protection is enforced ({}): Office must be on its allowed-apps list",
                level_name(l)
            ),
        ),
        (false, _) => (
            Status::Pass,
            "no Windows Information Protection policy is enforced".to_owned(),
        ),
    };
    let mut r = result(&CHECK, status, summary);
    fact(
        &mut r,
        "EDPEnforcementLevel",
        match level {
            Some(l) => format!("{l} ({})", level_name(l)),
            None => policy.describe("EDPEnforcementLevel"),
        },
    );
    fact(
        &mut r,
        "0x80070164 in the last 24 h",
        if blocked { "yes" } else { "no" },
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::host::sign_in_errors::AadEvent;
    use crate::platform::windows::registry::Hive;

    use crate::checks::host::test_now as now;

    fn none() -> EventFacts {
        EventFacts::Read(vec![])
    }

    #[test]
    fn no_policy_passes_and_an_enforced_one_warns() {
        assert_eq!(
            check(&Key::missing(Hive::LocalMachine, POLICY), &none(), now()).status,
            Status::Pass
        );
        let off = Key::with(
            Hive::LocalMachine,
            POLICY,
            [("EDPEnforcementLevel", RegValue::Dword(0))],
        );
        assert_eq!(check(&off, &none(), now()).status, Status::Pass);
        let on = Key::with(
            Hive::LocalMachine,
            POLICY,
            [("EDPEnforcementLevel", RegValue::Dword(3))],
        );
        let r = check(&on, &none(), now());
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("block (hide overrides)"), "{}", r.summary);
        assert_eq!(r.remediation.as_deref(), Some("wip"));
    }

    #[test]
    fn the_wip_error_in_the_log_fails() {
        let ev = AadEvent {
            id: 1098,
            level: 2,
            time: Some(now()),
            code: Some(WIP_ERROR),
            message: None,
        };
        let r = check(
            &Key::missing(Hive::LocalMachine, POLICY),
            &EventFacts::Read(vec![ev]),
            now(),
        );
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.remediation.as_deref(), Some("wip"));
    }
}
