//! `host:protection-policy`: the data-protection `ProtectionPolicy` value the article
//! has people set to 1 when Office cannot keep its sign-in tokens.
//!
//! Not set is Windows' default and fine on most machines, so that passes. The check
//! warns when the value is there but cannot work (a string where Windows reads only a
//! DWORD, or another number), and when the sign-in log shows the key errors this fix is
//! for (0x80090016 "keyset does not exist", 0x80090030 "device unusable") while it is not
//! set.

use chrono::{DateTime, Utc};

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::{Key, RegValue};

use super::sign_in_errors::{describe_code, EventFacts};
use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:protection-policy",
    target: "HKLM\\...\\Protect\\Providers\\df9d8cd0-1501-11d1-8c7a-00c04fc297eb",
    os: HostOs::Windows,
    reads: "ProtectionPolicy under HKLM\\Software\\Microsoft\\Cryptography\\Protect\\Providers\\df9d8cd0-1501-11d1-8c7a-00c04fc297eb",
    remediation: Some("protection-policy"),
};

pub const KEY: &str =
    "SOFTWARE\\Microsoft\\Cryptography\\Protect\\Providers\\df9d8cd0-1501-11d1-8c7a-00c04fc297eb";
/// Key errors that the article's ProtectionPolicy step addresses.
pub const KEY_ERRORS: [u32; 2] = [0x8009_0016, 0x8009_0030];

pub fn check(key: &Key, events: &EventFacts, now: DateTime<Utc>) -> CheckResult {
    let value = key.value("ProtectionPolicy");
    let key_errors: Vec<u32> = events
        .recent_codes(now)
        .into_iter()
        .filter(|c| KEY_ERRORS.contains(c))
        .collect();
    let (status, summary) = match value {
        Some(RegValue::Dword(1)) => (
            Status::Pass,
            "ProtectionPolicy = 1: the article's fix is in place".to_owned(),
        ),
        Some(v) if !v.is_dword() => (
            Status::Warn,
            format!(
                "ProtectionPolicy is a {}: Windows reads only a DWORD, so the fix is not in effect",
                v.type_name()
            ),
        ),
        Some(v) if !key_errors.is_empty() => (
            Status::Warn,
            format!(
                "key errors in the sign-in log ({}) and ProtectionPolicy = {}",
                describe_code(key_errors[0]),
                v.as_number().unwrap_or(0)
            ),
        ),
        Some(v) => (
            Status::Pass,
            format!(
                "ProtectionPolicy = {} (not the article's 1, which only some machines need)",
                v.as_number().unwrap_or(0)
            ),
        ),
        None if !key_errors.is_empty() => (
            Status::Warn,
            format!(
                "key errors in the sign-in log ({}) and ProtectionPolicy is not set",
                describe_code(key_errors[0])
            ),
        ),
        None => (
            Status::Pass,
            "ProtectionPolicy is not set (the Windows default)".to_owned(),
        ),
    };
    let mut r = result(&CHECK, status, summary);
    fact(&mut r, "ProtectionPolicy", key.describe("ProtectionPolicy"));
    fact(
        &mut r,
        "when it helps",
        "Office cannot protect or read its tokens (key errors), typically on domain-joined machines",
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::host::sign_in_errors::AadEvent;
    use crate::platform::windows::registry::Hive;

    use crate::checks::host::test_now as now;

    fn key(v: Option<RegValue>) -> Key {
        match v {
            Some(v) => Key::with(Hive::LocalMachine, KEY, [("ProtectionPolicy", v)]),
            None => Key::missing(Hive::LocalMachine, KEY),
        }
    }

    #[test]
    fn unset_and_set_pass_a_string_warns() {
        let none = EventFacts::Read(vec![]);
        assert_eq!(
            check(&key(None), &none, now()).summary,
            "ProtectionPolicy is not set (the Windows default)"
        );
        assert_eq!(
            check(&key(Some(RegValue::Dword(1))), &none, now()).status,
            Status::Pass
        );
        let r = check(&key(Some(RegValue::Sz("1".into()))), &none, now());
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("is a REG_SZ"), "{}", r.summary);
        assert_eq!(r.remediation.as_deref(), Some("protection-policy"));
    }

    #[test]
    fn key_errors_in_the_log_point_at_the_fix() {
        let ev = AadEvent {
            id: 1098,
            level: 2,
            time: Some(now()),
            code: Some(0x8009_0016),
            message: None,
        };
        let r = check(&key(None), &EventFacts::Read(vec![ev.clone()]), now());
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("0x80090016"), "{}", r.summary);
        assert_eq!(
            check(&key(Some(RegValue::Dword(1))), &EventFacts::Read(vec![ev]), now()).status,
            Status::Pass
        );
    }

    /// `reg add` on the real key (Wine) or its scratch copy flips the finding.
    #[cfg(windows)]
    #[test]
    fn reg_add_flips_the_protection_policy_finding() {
        use crate::checks::host::windows_facts::tests::RegSandbox;
        use crate::platform::windows::registry::read_key;
        let sandbox = RegSandbox::new("protection");
        let view = sandbox.view();
        let none = EventFacts::Read(vec![]);
        let read = || check(&read_key(&view, Hive::LocalMachine, KEY), &none, now());
        assert_eq!(
            read().summary,
            "ProtectionPolicy is not set (the Windows default)"
        );
        sandbox.set(Hive::LocalMachine, KEY, "ProtectionPolicy", "REG_SZ", "1");
        assert_eq!(read().status, Status::Warn);
        sandbox.set(Hive::LocalMachine, KEY, "ProtectionPolicy", "REG_DWORD", "1");
        let r = read();
        assert_eq!(
            (r.status, r.summary.as_str()),
            (
                Status::Pass,
                "ProtectionPolicy = 1: the article's fix is in place"
            )
        );
    }
}
