//! `host:mdm-mam`: is the device enrolled in device management (Intune MDM), and did the
//! enrolment complete?
//!
//! Automatic MDM/MAM enrolment can run as part of an Office sign-in; when it fails or
//! conflicts with how the device is managed, sign-in fails with it (the article's fix is
//! an administrator setting the MDM/MAM user scope to None). Windows records each
//! enrolment under `HKLM\SOFTWARE\Microsoft\Enrollments\<id>` with `ProviderID`
//! (`MS DM Server` for Intune), `UPN`, `EnrollmentType` and `EnrollmentState`
//! (1 = enrolled). Subkeys without a provider or user are Windows' own bookkeeping.

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::{Key, RegValue};

use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:mdm-mam",
    target: "device management enrolment",
    os: HostOs::Windows,
    reads: "HKLM\\SOFTWARE\\Microsoft\\Enrollments\\* (ProviderID, UPN, EnrollmentType, EnrollmentState)",
    remediation: Some("mdm-mam"),
};

pub const ENROLLMENTS: &str = "SOFTWARE\\Microsoft\\Enrollments";

/// One recorded enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub id: String,
    pub provider: Option<String>,
    pub upn: Option<String>,
    pub kind: Option<u32>,
    pub state: Option<u32>,
}

impl Enrollment {
    /// From an `Enrollments\<id>` key; `None` for keys that are not an enrolment.
    pub fn from_key(id: &str, key: &Key) -> Option<Enrollment> {
        let text = |n: &str| {
            key.value(n)
                .and_then(RegValue::as_text)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let e = Enrollment {
            id: id.to_owned(),
            provider: text("ProviderID"),
            upn: text("UPN"),
            kind: key.value("EnrollmentType").and_then(RegValue::as_number),
            state: key.value("EnrollmentState").and_then(RegValue::as_number),
        };
        (e.provider.is_some() || e.upn.is_some()).then_some(e)
    }

    pub fn provider_name(&self) -> String {
        match self.provider.as_deref() {
            Some(p) if p.eq_ignore_ascii_case("MS DM Server") => "Microsoft Intune".to_owned(),
            Some(p) => p.to_owned(),
            None => "unknown provider".to_owned(),
        }
    }
}

/// The enrolments found (none when the Enrollments key is absent), or why they cannot be read.
pub type EnrollmentFacts = Result<Vec<Enrollment>, String>;

#[cfg(windows)]
pub fn read(view: &crate::platform::windows::registry::View) -> EnrollmentFacts {
    use crate::platform::windows::registry::{read_key, subkeys, Hive};
    let ids = subkeys(view, Hive::LocalMachine, ENROLLMENTS)?.unwrap_or_default();
    Ok(ids
        .iter()
        .filter_map(|id| {
            Enrollment::from_key(
                id,
                &read_key(view, Hive::LocalMachine, &format!("{ENROLLMENTS}\\{id}")),
            )
        })
        .collect())
}

pub fn check(f: &EnrollmentFacts) -> CheckResult {
    let list = match f {
        Err(e) => {
            let mut r = result(&CHECK, Status::Warn, "cannot read the device's enrolments");
            fact(&mut r, "error", e.clone());
            r.remediation = Some("mdm-mam".into());
            return r;
        }
        Ok(list) => list,
    };
    let incomplete: Vec<&Enrollment> = list.iter().filter(|e| e.state.is_some_and(|s| s != 1)).collect();
    let (status, summary) = match (list.first(), incomplete.first()) {
        (None, _) => (Status::Pass, "not enrolled in device management".to_owned()),
        (_, Some(e)) => (
            Status::Warn,
            format!(
                "an enrolment with {} did not complete (EnrollmentState {})",
                e.provider_name(),
                e.state.unwrap_or(0)
            ),
        ),
        (Some(e), None) => {
            let who = e.upn.as_deref().map(|u| format!(" as {u}")).unwrap_or_default();
            (Status::Pass, format!("enrolled in {}{who}", e.provider_name()))
        }
    };
    let mut r = result(&CHECK, status, summary);
    for e in list {
        let state = match e.state {
            Some(1) => "enrolled".to_owned(),
            Some(s) => format!("state {s}"),
            None => "state not recorded".to_owned(),
        };
        let kind = e.kind.map(|k| format!(", type {k}")).unwrap_or_default();
        let who = e.upn.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
        fact(
            &mut r,
            "enrolment",
            format!("{}{who}: {state}{kind}", e.provider_name()),
        );
    }
    if !list.is_empty() {
        fact(
            &mut r,
            "if sign-in fails during enrolment",
            "an Intune administrator can set the MDM and MAM user scope to None (remediation mdm-mam)",
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::windows::registry::Hive;

    fn enrolment(state: u32) -> Enrollment {
        let key = Key::with(
            Hive::LocalMachine,
            "x",
            [
                ("ProviderID", RegValue::Sz("MS DM Server".into())),
                ("UPN", RegValue::Sz("ada@contoso.com".into())),
                ("EnrollmentType", RegValue::Dword(6)),
                ("EnrollmentState", RegValue::Dword(state)),
            ],
        );
        Enrollment::from_key("{5F3C...}", &key).unwrap()
    }

    #[test]
    fn bookkeeping_keys_are_not_enrolments() {
        assert_eq!(
            Enrollment::from_key(
                "Context",
                &Key::with(Hive::LocalMachine, "x", [("Flags", RegValue::Dword(0))])
            ),
            None
        );
    }

    #[test]
    fn enrolled_passes_and_incomplete_warns() {
        assert_eq!(check(&Ok(vec![])).summary, "not enrolled in device management");
        let r = check(&Ok(vec![enrolment(1)]));
        assert_eq!(
            (r.status, r.summary.as_str()),
            (Status::Pass, "enrolled in Microsoft Intune as ada@contoso.com")
        );
        assert!(r.facts.iter().any(|(k, v)| k == "enrolment" && v.starts_with("Microsoft Intune ada@contoso.com: enrolled")), "{:?}", r.facts);
        let r = check(&Ok(vec![enrolment(3)]));
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.remediation.as_deref(), Some("mdm-mam"));
    }
}
