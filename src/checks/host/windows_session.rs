//! Facts about the session and the machine's Office licensing that `host:citrix` and
//! `host:vdi` share: what kind of session this is (console, Remote Desktop, Citrix ICA),
//! whether shared computer activation is on, and whether FSLogix keeps Office data.
//!
//! `SESSIONNAME` is set by Windows for every interactive session: `Console` at the
//! machine, `RDP-Tcp#N` over Remote Desktop, `ICA-...` in a Citrix session.

#[cfg(any(test, windows))]
use crate::platform::windows::registry::Hive;
use crate::platform::windows::registry::{Key, RegValue};

/// Shared computer activation lives here (string `SharedComputerLicensing` = "1").
pub const CLICK_TO_RUN: &str = "SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration";
/// FSLogix Office container policy (`IncludeOfficeActivation`).
pub const FSLOGIX_ODFC: &str = "SOFTWARE\\Policies\\FSLogix\\ODFC";
/// Present on machines with the Citrix Virtual Delivery Agent (Citrix servers and VDIs).
pub const CITRIX_VDA: &str = "SOFTWARE\\Citrix\\VirtualDesktopAgent";

/// The kind of session the user works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Console,
    RemoteDesktop,
    Citrix,
    Unknown,
}

impl SessionKind {
    /// From `SESSIONNAME`.
    pub fn from_session_name(name: Option<&str>) -> SessionKind {
        let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return SessionKind::Unknown;
        };
        let upper = n.to_ascii_uppercase();
        if upper == "CONSOLE" {
            SessionKind::Console
        } else if upper.starts_with("RDP-") {
            SessionKind::RemoteDesktop
        } else if upper.starts_with("ICA-") {
            SessionKind::Citrix
        } else {
            SessionKind::Unknown
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SessionKind::Console => "console (at the machine)",
            SessionKind::RemoteDesktop => "Remote Desktop (RDP)",
            SessionKind::Citrix => "Citrix (ICA)",
            SessionKind::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub session_name: Option<String>,
    pub click_to_run: Key,
    pub fslogix: Key,
    pub citrix_vda: Key,
    /// A server or multi-session edition, where several users share the machine.
    pub multi_session: bool,
}

impl SessionFacts {
    pub fn kind(&self) -> SessionKind {
        SessionKind::from_session_name(self.session_name.as_deref())
    }

    /// Microsoft 365 Apps (Click-to-Run) are installed.
    pub fn office_installed(&self) -> bool {
        self.click_to_run.exists()
    }

    /// `Some(true)` when shared computer activation is on; `None` without Office.
    pub fn shared_activation(&self) -> Option<bool> {
        if !self.office_installed() {
            return None;
        }
        Some(
            self.click_to_run
                .value("SharedComputerLicensing")
                .and_then(RegValue::as_number)
                == Some(1),
        )
    }

    /// A single-user machine without Office, Citrix or FSLogix, for fixtures.
    #[cfg(test)]
    pub(crate) fn fixture(session_name: Option<&str>) -> SessionFacts {
        SessionFacts {
            session_name: session_name.map(str::to_owned),
            click_to_run: Key::missing(Hive::LocalMachine, CLICK_TO_RUN),
            fslogix: Key::missing(Hive::LocalMachine, FSLOGIX_ODFC),
            citrix_vda: Key::missing(Hive::LocalMachine, CITRIX_VDA),
            multi_session: false,
        }
    }

    #[cfg(windows)]
    pub fn read(view: &crate::platform::windows::registry::View, multi_session: bool) -> SessionFacts {
        use crate::platform::windows::registry::read_key;
        SessionFacts {
            session_name: std::env::var("SESSIONNAME").ok(),
            click_to_run: read_key(view, Hive::LocalMachine, CLICK_TO_RUN),
            fslogix: read_key(view, Hive::LocalMachine, FSLOGIX_ODFC),
            citrix_vda: read_key(view, Hive::LocalMachine, CITRIX_VDA),
            multi_session,
        }
    }
}

/// One line for the detail view about shared computer activation.
pub fn describe_shared_activation(s: &SessionFacts) -> String {
    match s.shared_activation() {
        None => "Microsoft 365 Apps (Click-to-Run) not found".to_owned(),
        Some(true) => "on (SharedComputerLicensing = 1)".to_owned(),
        Some(false) => format!(
            "off (SharedComputerLicensing: {})",
            s.click_to_run.describe("SharedComputerLicensing")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_tell_the_kind() {
        assert_eq!(
            SessionKind::from_session_name(Some("Console")),
            SessionKind::Console
        );
        assert_eq!(
            SessionKind::from_session_name(Some("RDP-Tcp#3")),
            SessionKind::RemoteDesktop
        );
        assert_eq!(
            SessionKind::from_session_name(Some("ICA-CGP#12")),
            SessionKind::Citrix
        );
        assert_eq!(SessionKind::from_session_name(Some(" ")), SessionKind::Unknown);
        assert_eq!(SessionKind::from_session_name(None), SessionKind::Unknown);
    }

    #[test]
    fn shared_activation_is_the_string_one() {
        let mut s = SessionFacts::fixture(Some("Console"));
        assert_eq!(s.shared_activation(), None);
        s.click_to_run = Key::with(
            Hive::LocalMachine,
            CLICK_TO_RUN,
            [("SharedComputerLicensing", RegValue::Sz("1".into()))],
        );
        assert_eq!(s.shared_activation(), Some(true));
        s.click_to_run = Key::with(
            Hive::LocalMachine,
            CLICK_TO_RUN,
            [("Platform", RegValue::Sz("x64".into()))],
        );
        assert_eq!(s.shared_activation(), Some(false));
        assert_eq!(
            describe_shared_activation(&s),
            "off (SharedComputerLicensing: not set)"
        );
    }
}
