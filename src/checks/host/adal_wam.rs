//! `host:adal-wam`: has modern authentication (ADAL) or the Web Account Manager (WAM)
//! been switched off for Office?
//!
//! Old sign-in "fixes" set `EnableADAL = 0`, `DisableADALatopWAMOverride = 1` or
//! `DisableAADWAM = 1` under Office's Identity key; Microsoft says they cause the very
//! failures they were meant to fix. The same values can come from Group Policy, under
//! `HKCU\Software\Policies\...`, which wins and which the user cannot simply delete, so
//! both keys are read and the finding says which one holds the value.

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::{Hive, Key};

use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:adal-wam",
    target: "HKCU\\Software\\Microsoft\\Office\\16.0\\Common\\Identity",
    os: HostOs::Windows,
    reads: "HKCU Office 16.0 Common\\Identity (and its policy twin): EnableADAL, DisableADALatopWAMOverride, DisableAADWAM",
    remediation: Some("adal-wam"),
};

pub const IDENTITY: &str = "Software\\Microsoft\\Office\\16.0\\Common\\Identity";
pub const POLICY_IDENTITY: &str = "Software\\Policies\\Microsoft\\Office\\16.0\\Common\\Identity";

/// The switches and the value that turns modern sign-in off.
pub const SWITCHES: [(&str, u32); 3] = [
    ("EnableADAL", 0),
    ("DisableADALatopWAMOverride", 1),
    ("DisableAADWAM", 1),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityKeys {
    pub user: Key,
    pub policy: Key,
}

impl IdentityKeys {
    #[cfg(windows)]
    pub fn read(view: &crate::platform::windows::registry::View) -> IdentityKeys {
        use crate::platform::windows::registry::read_key;
        IdentityKeys {
            user: read_key(view, Hive::CurrentUser, IDENTITY),
            policy: read_key(view, Hive::CurrentUser, POLICY_IDENTITY),
        }
    }

    /// Neither key exists.
    pub fn none() -> IdentityKeys {
        IdentityKeys {
            user: Key::missing(Hive::CurrentUser, IDENTITY),
            policy: Key::missing(Hive::CurrentUser, POLICY_IDENTITY),
        }
    }
}

pub fn check(k: &IdentityKeys) -> CheckResult {
    let mut bad = Vec::new();
    for (name, off) in SWITCHES {
        // Policy first: it overrides the user's own value.
        for (key, by) in [(&k.policy, "by policy"), (&k.user, "in the user's settings")] {
            if let Some(v) = key.value(name) {
                if v.as_number() == Some(off) {
                    bad.push(format!("{name} = {off} {by}"));
                }
                break;
            }
        }
    }
    let errors: Vec<&str> = [&k.user, &k.policy]
        .iter()
        .filter_map(|key| key.error())
        .collect();
    let (status, summary) = if !bad.is_empty() {
        (
            Status::Fail,
            format!("modern sign-in is switched off: {}", bad.join(", ")),
        )
    } else if let Some(e) = errors.first() {
        (
            Status::Warn,
            format!("cannot read Office's identity settings: {e}"),
        )
    } else {
        (
            Status::Pass,
            "ADAL and WAM are on (none of the switches turns them off)".to_owned(),
        )
    };
    let mut r = result(&CHECK, status, summary);
    for (name, _) in SWITCHES {
        fact(&mut r, name, k.user.describe(name));
        if let Some(v) = k.policy.value(name) {
            fact(&mut r, &format!("{name} (policy)"), v.to_string());
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::windows::registry::RegValue;

    fn user(values: Vec<(&'static str, RegValue)>) -> IdentityKeys {
        IdentityKeys {
            user: Key::with(Hive::CurrentUser, IDENTITY, values),
            ..IdentityKeys::none()
        }
    }

    #[test]
    fn unset_or_harmless_values_pass() {
        assert_eq!(check(&IdentityKeys::none()).status, Status::Pass);
        let r = check(&user(vec![
            ("EnableADAL", RegValue::Dword(1)),
            ("DisableAADWAM", RegValue::Dword(0)),
        ]));
        assert_eq!(r.status, Status::Pass, "{}", r.summary);
        assert!(r
            .facts
            .contains(&("EnableADAL".into(), "1 (REG_DWORD 0x1)".into())));
    }

    #[test]
    fn each_switch_turns_the_check_red() {
        for (name, off) in SWITCHES {
            let r = check(&user(vec![(name, RegValue::Dword(off))]));
            assert_eq!(r.status, Status::Fail, "{name}");
            assert!(
                r.summary
                    .contains(&format!("{name} = {off} in the user's settings")),
                "{}",
                r.summary
            );
            assert_eq!(r.remediation.as_deref(), Some("adal-wam"));
        }
        let r = check(&user(vec![
            ("enableadal", RegValue::Sz("0".into())),
            ("DisableAADWAM", RegValue::Dword(1)),
        ]));
        assert!(
            r.summary
                .ends_with("EnableADAL = 0 in the user's settings, DisableAADWAM = 1 in the user's settings"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn a_policy_value_wins_over_the_users() {
        let mut k = user(vec![("EnableADAL", RegValue::Dword(1))]);
        k.policy = Key::with(
            Hive::CurrentUser,
            POLICY_IDENTITY,
            [("EnableADAL", RegValue::Dword(0))],
        );
        let r = check(&k);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("EnableADAL = 0 by policy"), "{}", r.summary);
        let mut k = user(vec![("EnableADAL", RegValue::Dword(0))]);
        k.policy = Key::with(
            Hive::CurrentUser,
            POLICY_IDENTITY,
            [("EnableADAL", RegValue::Dword(1))],
        );
        assert_eq!(check(&k).status, Status::Pass);
    }

    /// `reg add` / `reg delete` on the real Identity key (Wine's prefix) or a scratch copy
    /// (a real machine) flip the finding.
    #[cfg(windows)]
    #[test]
    fn reg_add_flips_the_adal_wam_finding() {
        use crate::checks::host::windows_facts::tests::RegSandbox;
        let sandbox = RegSandbox::new("adal");
        let view = sandbox.view();
        assert_eq!(check(&IdentityKeys::read(&view)).status, Status::Pass);
        for (name, off) in SWITCHES {
            sandbox.set(Hive::CurrentUser, IDENTITY, name, "REG_DWORD", &off.to_string());
            let r = check(&IdentityKeys::read(&view));
            assert_eq!(r.status, Status::Fail, "{name}: {r:?}");
            assert!(r.summary.contains(name), "{}", r.summary);
            sandbox.delete(Hive::CurrentUser, IDENTITY, name);
            assert_eq!(
                check(&IdentityKeys::read(&view)).status,
                Status::Pass,
                "after deleting {name}"
            );
        }
    }
}
