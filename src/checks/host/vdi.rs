//! `host:vdi`: virtual desktops and remote sessions.
//!
//! On virtual desktops Office's credentials must not be roamed by generic profile tools,
//! non-persistent desktops need single sign-on, and machines shared by several users need
//! shared computer activation. This check applies to Remote Desktop and Citrix sessions,
//! multi-session Windows and machines with the FSLogix Office container; it reports what
//! it finds with that advice and warns only when a multi-user machine lacks shared
//! computer activation.

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::RegValue;

use super::windows_session::{describe_shared_activation, SessionFacts, SessionKind};
use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:vdi",
    target: "virtual desktop / remote session",
    os: HostOs::Windows,
    reads: "SESSIONNAME, the Windows edition, ClickToRun SharedComputerLicensing and HKLM\\SOFTWARE\\Policies\\FSLogix\\ODFC",
    remediation: Some("vdi-sso"),
};

pub fn check(s: &SessionFacts) -> CheckResult {
    let kind = s.kind();
    let remote = matches!(kind, SessionKind::RemoteDesktop | SessionKind::Citrix);
    let fslogix = s.fslogix.exists();
    if !remote && !s.multi_session && !fslogix {
        let mut r = result(&CHECK, Status::Skip, "not a virtual desktop or remote session");
        fact(&mut r, "session", kind.label());
        return r;
    }
    let what = match (kind, s.multi_session) {
        (SessionKind::Citrix, _) => "Citrix session",
        (SessionKind::RemoteDesktop, true) => "Remote Desktop session on a multi-user machine",
        (SessionKind::RemoteDesktop, false) => "Remote Desktop session",
        (_, true) => "multi-user machine",
        _ => "machine with the FSLogix Office container",
    };
    let (status, summary) = match s.shared_activation() {
        Some(false) if s.multi_session => {
            (Status::Warn, format!("{what} without shared computer activation"))
        }
        Some(true) => (Status::Pass, format!("{what} with shared computer activation")),
        _ => (Status::Pass, what.to_owned()),
    };
    let mut r = result(&CHECK, status, summary);
    fact(
        &mut r,
        "session",
        format!(
            "{} ({})",
            kind.label(),
            s.session_name.as_deref().unwrap_or("SESSIONNAME not set")
        ),
    );
    fact(
        &mut r,
        "multi-user machine",
        if s.multi_session { "yes" } else { "no" },
    );
    fact(
        &mut r,
        "shared computer activation",
        describe_shared_activation(s),
    );
    if fslogix {
        let include = match s.fslogix.value("IncludeOfficeActivation").and_then(RegValue::as_number) {
            Some(0) => "IncludeOfficeActivation = 0: activation data stays out of the container, so users may have to activate again in each new session".to_owned(),
            Some(v) => format!("IncludeOfficeActivation = {v}: activation data travels in the container"),
            None => "IncludeOfficeActivation not set (FSLogix's default keeps activation data in the container)".to_owned(),
        };
        fact(&mut r, "FSLogix Office container", include);
    }
    fact(&mut r, "advice", "keep Office credentials out of generic profile roaming; on non-persistent desktops set up Seamless SSO");
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::host::windows_session::{CLICK_TO_RUN, FSLOGIX_ODFC};
    use crate::platform::windows::registry::{Hive, Key};

    #[test]
    fn a_console_session_on_a_single_user_pc_is_not_vdi() {
        assert_eq!(
            check(&SessionFacts::fixture(Some("Console"))).status,
            Status::Skip
        );
    }

    #[test]
    fn a_remote_session_to_a_pc_is_information() {
        let r = check(&SessionFacts::fixture(Some("RDP-Tcp#0")));
        assert_eq!(
            (r.status, r.summary.as_str()),
            (Status::Pass, "Remote Desktop session")
        );
        assert!(r.facts.iter().any(|(k, _)| k == "advice"));
    }

    #[test]
    fn a_multi_user_host_without_shared_activation_warns() {
        let mut s = SessionFacts::fixture(Some("RDP-Tcp#7"));
        s.multi_session = true;
        s.click_to_run = Key::with(
            Hive::LocalMachine,
            CLICK_TO_RUN,
            [("Platform", RegValue::Sz("x64".into()))],
        );
        let r = check(&s);
        assert_eq!(r.status, Status::Warn);
        assert_eq!(
            r.summary,
            "Remote Desktop session on a multi-user machine without shared computer activation"
        );
        assert_eq!(r.remediation.as_deref(), Some("vdi-sso"));
    }

    #[test]
    fn fslogix_settings_are_explained() {
        let mut s = SessionFacts::fixture(Some("Console"));
        s.fslogix = Key::with(
            Hive::LocalMachine,
            FSLOGIX_ODFC,
            [("IncludeOfficeActivation", RegValue::Dword(0))],
        );
        let r = check(&s);
        assert_eq!(r.status, Status::Pass);
        assert!(r.facts.iter().any(|(k, v)| k == "FSLogix Office container" && v.starts_with("IncludeOfficeActivation = 0")), "{:?}", r.facts);
    }
}
