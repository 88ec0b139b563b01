//! Facts about the machine the monitor runs on: which sign-in helpers are running, which
//! operating system and host this is, and who is signed in.
//!
//! Most people this tool serves sit at Windows machines, while the project is built and
//! tested on Linux. So the layer is deliberately thin and trait-free: plain functions that
//! every OS has, with the per-OS differences kept to small `#[cfg]` blocks next to each
//! other, so the Windows path is compiled (`scripts/windows-tier.sh` type-checks it for
//! MSVC and runs its tests under Wine) rather than hidden behind an interface nobody
//! builds. Anything that needs Win32 calls (registry, token broker) will live in its own
//! `windows*.rs` file here.
//!
//! These functions never fail: a fact that cannot be read comes back empty or `None`,
//! because a missing fact is itself worth showing, not a reason to stop monitoring.

pub mod limits;
pub mod macos_office;
pub mod net;
pub mod net_linux;
pub mod net_macos;
pub mod net_windows;
pub mod process;
pub mod proxy;
#[cfg(windows)]
pub mod proxy_windows;
pub mod tcp_settings;
pub mod tool;
pub mod windows;

pub use process::{running_processes, ProcessFact};

use sysinfo::System;

/// A one-line description of the operating system, e.g. "Windows 11 Pro" or
/// "Linux (Debian GNU/Linux 12)", for the header of the monitor and of reports.
///
/// Falls back to the compile-time OS family when the system will not say more, so the
/// report always tells which kind of machine it came from.
pub fn os_description() -> String {
    System::long_os_version()
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| std::env::consts::OS.to_owned())
}

/// The machine's host name as the OS reports it, or "unknown" when it cannot be read.
pub fn hostname() -> String {
    System::host_name()
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The signed-in user's account name, from the environment the monitor was started in.
///
/// Sign-in problems are per user (tokens, the identity cache, the user's registry hive),
/// so reports say whose session they describe. Windows sets `USERNAME`; Unix shells set
/// `USER` (and `LOGNAME` for login sessions).
pub fn user_name() -> Option<String> {
    user_name_from(|key| std::env::var(key).ok())
}

/// The variables that name the user, most trusted first, for this OS.
#[cfg(windows)]
const USER_VARS: &[&str] = &["USERNAME", "USER"];
#[cfg(not(windows))]
const USER_VARS: &[&str] = &["USER", "LOGNAME", "USERNAME"];

/// [`user_name`] with the environment passed in, so the choice of variable is testable.
fn user_name_from(lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    USER_VARS
        .iter()
        .filter_map(|key| lookup(key))
        .map(|v| v.trim().to_owned())
        .find(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_description_names_this_os_family() {
        let desc = os_description().to_lowercase();
        assert!(!desc.is_empty());
        if cfg!(windows) {
            assert!(desc.contains("windows"), "{desc}");
        } else if cfg!(target_os = "linux") {
            assert!(desc.contains("linux"), "{desc}");
        }
    }

    #[test]
    fn hostname_is_never_empty() {
        assert!(!hostname().trim().is_empty());
    }

    #[test]
    fn user_name_takes_the_first_non_empty_variable_of_this_os() {
        let primary = USER_VARS[0];
        let env = |key: &str| match key {
            k if k == primary => Some("  ".to_owned()),
            "USER" | "USERNAME" | "LOGNAME" => Some(format!("from-{key}")),
            _ => None,
        };
        // The first variable is blank, so the next one in this OS's order wins.
        assert_eq!(user_name_from(env), Some(format!("from-{}", USER_VARS[1])));
        assert_eq!(user_name_from(|_| None), None);
        assert_eq!(
            user_name_from(|_| Some(" alice ".to_owned())),
            Some("alice".to_owned())
        );
    }
}
