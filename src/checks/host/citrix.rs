//! `host:citrix`: Office in a Citrix session or on a Citrix server.
//!
//! Microsoft 365 Apps opened as published apps from a Citrix server can fail to activate,
//! a known issue on Citrix's side; multi-user Citrix servers also need shared computer
//! activation. This check applies only where Citrix is present: an ICA session
//! (`SESSIONNAME=ICA-...`) or the Citrix Virtual Delivery Agent's registry key.

use crate::model::{CheckResult, Status};

use super::windows_session::{describe_shared_activation, SessionFacts, SessionKind};
use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:citrix",
    target: "Citrix session",
    os: HostOs::Windows,
    reads: "SESSIONNAME, HKLM\\SOFTWARE\\Citrix\\VirtualDesktopAgent and ClickToRun SharedComputerLicensing",
    remediation: Some("citrix"),
};

pub fn check(s: &SessionFacts) -> CheckResult {
    let ica = s.kind() == SessionKind::Citrix;
    let vda = s.citrix_vda.exists();
    if !ica && !vda {
        let mut r = result(&CHECK, Status::Skip, "not a Citrix session or server");
        fact(&mut r, "session", s.kind().label());
        return r;
    }
    let where_ = if ica {
        "Citrix session"
    } else {
        "Citrix server (Virtual Delivery Agent)"
    };
    let (status, summary) = match s.shared_activation() {
        Some(false) if s.multi_session => (
            Status::Warn,
            format!("{where_} without shared computer activation"),
        ),
        None => (
            Status::Pass,
            format!("{where_}; Microsoft 365 Apps are not installed here"),
        ),
        _ => (
            Status::Pass,
            format!("{where_}: if published Office apps fail to activate, see Citrix's known issues"),
        ),
    };
    let mut r = result(&CHECK, status, summary);
    fact(
        &mut r,
        "session",
        format!(
            "{} ({})",
            s.kind().label(),
            s.session_name.as_deref().unwrap_or("SESSIONNAME not set")
        ),
    );
    fact(&mut r, "Citrix VDA", if vda { "installed" } else { "not found" });
    fact(
        &mut r,
        "shared computer activation",
        describe_shared_activation(s),
    );
    fact(
        &mut r,
        "multi-user machine",
        if s.multi_session { "yes" } else { "no" },
    );
    fact(&mut r, "known issue", "Microsoft 365 Apps opened as published apps from a Citrix server can fail to activate: a Citrix-side issue");
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::host::windows_session::{CITRIX_VDA, CLICK_TO_RUN};
    use crate::platform::windows::registry::{Hive, Key, RegValue};

    fn citrix_server(shared: &str) -> SessionFacts {
        let mut s = SessionFacts::fixture(Some("ICA-CGP#4"));
        s.multi_session = true;
        s.citrix_vda = Key::with(
            Hive::LocalMachine,
            CITRIX_VDA,
            [("ProductVersion", RegValue::Sz("2203".into()))],
        );
        s.click_to_run = Key::with(
            Hive::LocalMachine,
            CLICK_TO_RUN,
            [("SharedComputerLicensing", RegValue::Sz(shared.into()))],
        );
        s
    }

    #[test]
    fn applies_only_where_citrix_is() {
        assert_eq!(
            check(&SessionFacts::fixture(Some("Console"))).status,
            Status::Skip
        );
        assert_eq!(
            check(&SessionFacts::fixture(Some("RDP-Tcp#1"))).status,
            Status::Skip
        );
    }

    #[test]
    fn a_multi_user_citrix_server_needs_shared_activation() {
        let r = check(&citrix_server("0"));
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.summary, "Citrix session without shared computer activation");
        assert_eq!(r.remediation.as_deref(), Some("citrix"));
        let r = check(&citrix_server("1"));
        assert_eq!(r.status, Status::Pass);
        assert!(r
            .facts
            .iter()
            .any(|(k, v)| k == "shared computer activation" && v.starts_with("on")));
        assert!(r.facts.iter().any(|(k, _)| k == "known issue"));
    }
}
