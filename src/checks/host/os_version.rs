//! `host:os-version`: which Windows this is. Windows 7 SP1, 8.1, Server 2008 R2 and Server
//! 2012 can only activate after TLS 1.2 has been switched on, and Microsoft 365 Apps no
//! longer support them; the article's "Windows 8.1 or earlier" section is for them.
//!
//! The version comes from `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`: the build
//! number decides (the `CurrentVersion` string says "6.3" on Windows 10 and 11 for old
//! programs' sake, and `ProductName` still says "Windows 10" on Windows 11).

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::{Key, RegValue};

use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:os-version",
    target: "Windows version",
    os: HostOs::Windows,
    reads: "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion (build, product, service pack)",
    remediation: None,
};

pub const KEY: &str = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";

/// The Windows generations that matter for TLS 1.2 and support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Generation {
    /// Vista / Server 2008 and older.
    Older,
    /// Windows 7 / Server 2008 R2 without Service Pack 1 (build 7600).
    Seven,
    /// Windows 7 SP1 / Server 2008 R2 SP1 (build 7601).
    SevenSp1,
    /// Windows 8 / Server 2012 (build 9200).
    Eight,
    /// Windows 8.1 / Server 2012 R2 (build 9600).
    EightOne,
    /// Windows 10, 11, Server 2016 and later (build 10240 on).
    TenOrLater,
}

/// What the registry says about this Windows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsFacts {
    pub product: Option<String>,
    pub build: Option<u32>,
    /// Update build revision (the number after the build, e.g. 19045.4291).
    pub ubr: Option<u32>,
    /// `DisplayVersion` (22H2) or `ReleaseId` (1909).
    pub release: Option<String>,
    pub service_pack: Option<String>,
    /// `EditionID`, e.g. `Professional`, `ServerRdsh` (multi-session).
    pub edition: Option<String>,
    /// `InstallationType`: `Client`, `Server`, `Server Core`.
    pub installation: Option<String>,
    /// Why the facts are missing, when they are.
    pub error: Option<String>,
}

impl OsFacts {
    /// Reads the facts from the `CurrentVersion` key.
    pub fn from_key(key: &Key) -> OsFacts {
        let text = |name: &str| {
            key.value(name)
                .and_then(RegValue::as_text)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let build = ["CurrentBuildNumber", "CurrentBuild"]
            .iter()
            .find_map(|n| key.value(n).and_then(RegValue::as_number));
        let error = match (key.error(), key.exists(), build) {
            (Some(e), _, _) => Some(e.to_owned()),
            (None, false, _) => Some(format!("{} is missing", key.display_path())),
            (None, true, None) => Some("no build number in the registry".to_owned()),
            _ => None,
        };
        OsFacts {
            product: text("ProductName"),
            build,
            ubr: key.value("UBR").and_then(RegValue::as_number),
            release: text("DisplayVersion").or_else(|| text("ReleaseId")),
            service_pack: text("CSDVersion"),
            edition: text("EditionID"),
            installation: text("InstallationType"),
            error,
        }
    }

    pub fn generation(&self) -> Option<Generation> {
        Some(match self.build? {
            0..=7599 => Generation::Older,
            7600 => Generation::Seven,
            7601..=9199 => Generation::SevenSp1,
            9200..=9599 => Generation::Eight,
            9600..=10239 => Generation::EightOne,
            _ => Generation::TenOrLater,
        })
    }

    /// A server edition (multi-user by nature) or Windows 10/11 Enterprise multi-session.
    pub fn is_multi_session(&self) -> bool {
        let server = self
            .installation
            .as_deref()
            .is_some_and(|i| i.to_ascii_lowercase().starts_with("server"))
            || self.product.as_deref().is_some_and(|p| p.contains("Server"));
        server
            || self
                .edition
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case("ServerRdsh"))
    }

    /// The name people know, e.g. "Windows 11 Pro 23H2 (build 22631.3447)".
    pub fn name(&self) -> String {
        let mut product = self.product.clone().unwrap_or_else(|| "Windows".to_owned());
        // ProductName was never updated for Windows 11 (build 22000 on).
        if self.build.is_some_and(|b| b >= 22000) && !self.is_multi_session() {
            product = product.replace("Windows 10", "Windows 11");
        }
        let mut s = product;
        if let Some(r) = &self.release {
            s.push(' ');
            s.push_str(r);
        }
        if let Some(sp) = &self.service_pack {
            s.push_str(&format!(" {sp}"));
        }
        match (self.build, self.ubr) {
            (Some(b), Some(u)) => s.push_str(&format!(" (build {b}.{u})")),
            (Some(b), None) => s.push_str(&format!(" (build {b})")),
            _ => {}
        }
        s
    }
}

/// Judges the Windows version. `wine` is Wine's version when the monitor runs under Wine.
pub fn check(os: &OsFacts, wine: Option<&str>) -> CheckResult {
    let name = os.name();
    let (status, summary) = match os.generation() {
        None => (
            Status::Warn,
            format!(
                "cannot tell the Windows version: {}",
                os.error.as_deref().unwrap_or("unknown")
            ),
        ),
        Some(Generation::TenOrLater) => (Status::Pass, format!("{name}: TLS 1.2 is on by default")),
        Some(Generation::EightOne | Generation::Eight | Generation::SevenSp1) => (
            Status::Warn,
            format!(
                "{name}: out of support for Microsoft 365 Apps, and TLS 1.2 must be switched on to activate"
            ),
        ),
        Some(Generation::Seven) => (
            Status::Fail,
            format!("{name}: Service Pack 1 is missing, without it TLS 1.2 cannot be switched on"),
        ),
        Some(Generation::Older) => (
            Status::Fail,
            format!("{name}: too old for Microsoft 365 Apps (no TLS 1.2)"),
        ),
    };
    let mut r = result(&CHECK, status, summary);
    fact(&mut r, "windows", name);
    if let Some(e) = &os.edition {
        fact(&mut r, "edition", e.clone());
    }
    if let Some(i) = &os.installation {
        fact(&mut r, "installation", i.clone());
    }
    if let Some(w) = wine {
        fact(
            &mut r,
            "platform",
            format!("Wine {w} (Windows API on another OS), reporting the version above"),
        );
    }
    if status != Status::Pass {
        fact(
            &mut r,
            "support",
            "Microsoft 365 Apps are not supported on Windows 8.1 and older; see Microsoft's end-of-support page",
        );
        r.remediation = Some("tls12-old-windows".into());
    }
    r
}

/// The facts of a key holding `values`, for fixtures.
#[cfg(test)]
pub(crate) fn fixture(values: impl IntoIterator<Item = (&'static str, RegValue)>) -> OsFacts {
    OsFacts::from_key(&Key::with(
        crate::platform::windows::registry::Hive::LocalMachine,
        KEY,
        values,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::windows::registry::Hive;

    fn sz(s: &str) -> RegValue {
        RegValue::Sz(s.into())
    }

    /// Windows 7 SP1 as its registry reads (the same values Wine 8 writes by default).
    fn win7() -> OsFacts {
        fixture([
            ("ProductName", sz("Windows 7 Professional")),
            ("CurrentVersion", sz("6.1")),
            ("CurrentBuildNumber", sz("7601")),
            ("CSDVersion", sz("Service Pack 1")),
            ("InstallationType", sz("Client")),
        ])
    }

    #[test]
    fn windows_11_is_named_by_its_build_not_its_product_name() {
        let os = fixture([
            ("ProductName", sz("Windows 10 Pro")),
            ("CurrentVersion", sz("6.3")),
            ("CurrentBuildNumber", sz("22631")),
            ("UBR", RegValue::Dword(3447)),
            ("DisplayVersion", sz("23H2")),
            ("InstallationType", sz("Client")),
        ]);
        assert_eq!(os.generation(), Some(Generation::TenOrLater));
        assert_eq!(os.name(), "Windows 11 Pro 23H2 (build 22631.3447)");
        let r = check(&os, None);
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.remediation, None);
    }

    #[test]
    fn old_windows_is_flagged_with_the_tls_steps() {
        let r = check(&win7(), None);
        assert_eq!(r.status, Status::Warn);
        assert!(
            r.summary
                .contains("Windows 7 Professional Service Pack 1 (build 7601)"),
            "{}",
            r.summary
        );
        assert!(r.summary.contains("TLS 1.2"));
        assert_eq!(r.remediation.as_deref(), Some("tls12-old-windows"));

        let server2012 = fixture([
            ("ProductName", sz("Windows Server 2012 Standard")),
            ("CurrentBuild", sz("9200")),
        ]);
        assert_eq!(server2012.generation(), Some(Generation::Eight));
        assert!(server2012.is_multi_session());
        assert_eq!(check(&server2012, None).status, Status::Warn);

        let rtm = fixture([
            ("ProductName", sz("Windows 7 Enterprise")),
            ("CurrentBuildNumber", sz("7600")),
        ]);
        let r = check(&rtm, None);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("Service Pack 1 is missing"), "{}", r.summary);
    }

    #[test]
    fn an_unreadable_version_is_a_warning_not_a_pass() {
        let os = OsFacts::from_key(&Key::missing(Hive::LocalMachine, KEY));
        let r = check(&os, None);
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("is missing"), "{}", r.summary);
    }

    #[test]
    fn wine_is_named_as_the_platform() {
        let r = check(&win7(), Some("8.0"));
        assert!(
            r.facts
                .iter()
                .any(|(k, v)| k == "platform" && v.starts_with("Wine 8.0")),
            "{:?}",
            r.facts
        );
    }

    #[test]
    fn multi_session_editions_are_recognised() {
        let avd = fixture([
            ("ProductName", sz("Windows 10 Enterprise multi-session")),
            ("EditionID", sz("ServerRdsh")),
            ("CurrentBuildNumber", sz("22621")),
        ]);
        assert!(avd.is_multi_session());
        // Multi-session keeps its product name (it is not renamed to Windows 11 here).
        assert!(avd.name().starts_with("Windows 10 Enterprise multi-session"));
        assert!(!win7().is_multi_session());
    }
}
