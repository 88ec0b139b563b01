//! `host:tls12`: is TLS 1.2 switched on in the places Windows keeps it?
//!
//! Three switches decide whether Office's connections may use TLS 1.2:
//! - SCHANNEL, the TLS library: `...\SCHANNEL\Protocols\TLS 1.2\Client`, values `Enabled`
//!   (0 = off) and `DisabledByDefault` (1 = only for programs that ask for it).
//! - WinHTTP's default protocols, a bit mask in `DefaultSecureProtocols` (0x800 = TLS 1.2)
//!   under `...\Internet Settings\WinHttp` and its `Wow6432Node` twin for 32-bit Office.
//! - Internet Options' "Use TLS 1.2" box: `SecureProtocols` in the user's Internet Settings.
//!
//! An absent value means the Windows default, which depends on the version: Windows 8.1
//! and later use TLS 1.2 by default; Windows 7 needs SCHANNEL's `DisabledByDefault = 0`,
//! and Windows 7 and 8/Server 2012 need WinHTTP's mask (the article's Easy Fix). The
//! network-side twin, `network:tls12`, tries a TLS 1.2 handshake with the sign-in hosts.

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::{Hive, Key, RegValue};

use super::os_version::Generation;
use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:tls12",
    target: "TLS 1.2 switches (SCHANNEL, WinHTTP, Internet Options)",
    os: HostOs::Windows,
    reads: "HKLM SCHANNEL TLS 1.2 Client, WinHTTP DefaultSecureProtocols (and Wow6432Node), HKCU Internet Settings SecureProtocols",
    remediation: Some("tls12-old-windows"),
};

pub const SCHANNEL: &str =
    "SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client";
pub const WINHTTP: &str = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp";
pub const WINHTTP_WOW: &str =
    "SOFTWARE\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp";
pub const INTERNET_SETTINGS: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";

/// TLS 1.2's bit in `DefaultSecureProtocols` and `SecureProtocols`.
pub const TLS12_BIT: u32 = 0x800;

/// The keys this check reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFacts {
    pub schannel: Key,
    pub winhttp: Key,
    pub winhttp_wow: Key,
    /// The user's Internet Settings (WinINet).
    pub internet: Key,
}

impl TlsFacts {
    /// All keys absent: a machine on Windows' defaults.
    pub fn defaults() -> TlsFacts {
        TlsFacts {
            schannel: Key::missing(Hive::LocalMachine, SCHANNEL),
            winhttp: Key::missing(Hive::LocalMachine, WINHTTP),
            winhttp_wow: Key::missing(Hive::LocalMachine, WINHTTP_WOW),
            internet: Key::missing(Hive::CurrentUser, INTERNET_SETTINGS),
        }
    }

    /// Whether any of the switches has a value (rather than all being on defaults).
    pub fn any_switch_set(&self) -> bool {
        ["Enabled", "DisabledByDefault"]
            .iter()
            .any(|n| self.schannel.value(n).is_some())
            || [&self.winhttp, &self.winhttp_wow]
                .iter()
                .any(|k| k.value("DefaultSecureProtocols").is_some())
            || self.internet.value("SecureProtocols").is_some()
    }

    #[cfg(windows)]
    pub fn read(view: &crate::platform::windows::registry::View) -> TlsFacts {
        use crate::platform::windows::registry::read_key;
        TlsFacts {
            schannel: read_key(view, Hive::LocalMachine, SCHANNEL),
            winhttp: read_key(view, Hive::LocalMachine, WINHTTP),
            winhttp_wow: read_key(view, Hive::LocalMachine, WINHTTP_WOW),
            internet: read_key(view, Hive::CurrentUser, INTERNET_SETTINGS),
        }
    }
}

/// The protocols a mask names, e.g. "TLS 1.0, TLS 1.2".
pub fn mask_names(mask: u32) -> String {
    let names: Vec<&str> = [
        (0x08, "SSL 2.0"),
        (0x20, "SSL 3.0"),
        (0x80, "TLS 1.0"),
        (0x200, "TLS 1.1"),
        (0x800, "TLS 1.2"),
        (0x2000, "TLS 1.3"),
    ]
    .iter()
    .filter(|(bit, _)| mask & bit != 0)
    .map(|(_, n)| *n)
    .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// One problem found, and whether it is only a warning (a value of the wrong type that
/// Windows ignores, as opposed to TLS 1.2 being off).
struct Problem {
    text: String,
    warn_only: bool,
}

/// A DWORD switch: its number if it is a DWORD; a problem if it has another type.
fn dword(key: &Key, name: &str, problems: &mut Vec<Problem>) -> Option<u32> {
    let v = key.value(name)?;
    if v.is_dword() {
        return v.as_number();
    }
    problems.push(Problem {
        text: format!(
            "{}\\{name} is a {}: Windows reads only a DWORD, so it is ignored",
            key.display_path(),
            v.type_name()
        ),
        warn_only: true,
    });
    None
}

/// Judges the switches for this Windows generation (`None`: unknown, judged as Windows 10).
pub fn check(f: &TlsFacts, generation: Option<Generation>) -> CheckResult {
    let gen = generation.unwrap_or(Generation::TenOrLater);
    let mut problems: Vec<Problem> = Vec::new();
    let mut off = |text: String| {
        problems.push(Problem {
            text,
            warn_only: false,
        })
    };
    let mut typed = Vec::new();

    // SCHANNEL.
    let enabled = dword(&f.schannel, "Enabled", &mut typed);
    let disabled_by_default = dword(&f.schannel, "DisabledByDefault", &mut typed);
    if enabled == Some(0) {
        off(format!(
            "SCHANNEL's TLS 1.2 client is switched off ({}\\Enabled = 0)",
            f.schannel.display_path()
        ));
    }
    match disabled_by_default {
        Some(v) if v != 0 => off(format!(
            "SCHANNEL offers TLS 1.2 only to programs that ask for it ({}\\DisabledByDefault = {v})",
            f.schannel.display_path()
        )),
        None if gen <= Generation::SevenSp1 && enabled != Some(0) => off(
            "Windows 7 keeps TLS 1.2 off for clients until SCHANNEL's DisabledByDefault is set to 0"
                .to_owned(),
        ),
        _ => {}
    }

    // WinHTTP, native and 32-bit.
    for (key, label) in [
        (&f.winhttp, "WinHTTP"),
        (&f.winhttp_wow, "WinHTTP (32-bit programs)"),
    ] {
        match dword(key, "DefaultSecureProtocols", &mut typed) {
            Some(mask) if mask & TLS12_BIT == 0 => off(format!(
                "{label} default protocols leave out TLS 1.2 (DefaultSecureProtocols = 0x{mask:X}: {})",
                mask_names(mask)
            )),
            None if gen < Generation::EightOne => off(format!(
                "{label} does not use TLS 1.2 by default on this Windows (DefaultSecureProtocols is not set)"
            )),
            _ => {}
        }
    }

    // Internet Options ("Use TLS 1.2").
    if let Some(mask) = dword(&f.internet, "SecureProtocols", &mut typed) {
        if mask & TLS12_BIT == 0 {
            off(format!(
                "Internet Options has 'Use TLS 1.2' unticked (SecureProtocols = 0x{mask:X}: {})",
                mask_names(mask)
            ));
        }
    }
    problems.extend(typed);

    let status = if problems.iter().any(|p| !p.warn_only) {
        Status::Fail
    } else if problems.is_empty() {
        Status::Pass
    } else {
        Status::Warn
    };
    let summary = match problems.first() {
        None if f.any_switch_set() => "TLS 1.2 is on (set explicitly)".to_owned(),
        None => "TLS 1.2 is on (Windows defaults)".to_owned(),
        Some(p) if problems.len() == 1 => p.text.clone(),
        Some(p) => format!("{} (and {} more)", p.text, problems.len() - 1),
    };
    let mut r = result(&CHECK, status, summary);
    fact(&mut r, "SCHANNEL Enabled", f.schannel.describe("Enabled"));
    fact(
        &mut r,
        "SCHANNEL DisabledByDefault",
        f.schannel.describe("DisabledByDefault"),
    );
    for (key, label) in [(&f.winhttp, "WinHTTP"), (&f.winhttp_wow, "WinHTTP 32-bit")] {
        let shown = match key.value("DefaultSecureProtocols") {
            Some(RegValue::Dword(m)) => format!("0x{m:X} ({})", mask_names(*m)),
            _ => key.describe("DefaultSecureProtocols"),
        };
        fact(&mut r, &format!("{label} DefaultSecureProtocols"), shown);
    }
    fact(
        &mut r,
        "Internet Options SecureProtocols",
        f.internet.describe("SecureProtocols"),
    );
    for p in problems.iter().skip(1) {
        fact(&mut r, "also", p.text.clone());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(mut f: TlsFacts, which: &str, values: Vec<(&'static str, RegValue)>) -> TlsFacts {
        match which {
            "schannel" => f.schannel = Key::with(Hive::LocalMachine, SCHANNEL, values),
            "winhttp" => f.winhttp = Key::with(Hive::LocalMachine, WINHTTP, values),
            "wow" => f.winhttp_wow = Key::with(Hive::LocalMachine, WINHTTP_WOW, values),
            _ => f.internet = Key::with(Hive::CurrentUser, INTERNET_SETTINGS, values),
        }
        f
    }

    #[test]
    fn windows_10_defaults_pass() {
        let r = check(&TlsFacts::defaults(), Some(Generation::TenOrLater));
        assert_eq!(r.status, Status::Pass, "{}", r.summary);
        assert_eq!(r.summary, "TLS 1.2 is on (Windows defaults)");
        assert_eq!(r.remediation, None);
    }

    #[test]
    fn windows_7_defaults_fail_until_the_switches_are_set() {
        let r = check(&TlsFacts::defaults(), Some(Generation::SevenSp1));
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("DisabledByDefault"), "{}", r.summary);
        assert_eq!(r.remediation.as_deref(), Some("tls12-old-windows"));
        // The article's steps: SCHANNEL on, WinHTTP mask with 0x800, for both views.
        let f = with(
            TlsFacts::defaults(),
            "schannel",
            vec![
                ("Enabled", RegValue::Dword(1)),
                ("DisabledByDefault", RegValue::Dword(0)),
            ],
        );
        let f = with(
            f,
            "winhttp",
            vec![("DefaultSecureProtocols", RegValue::Dword(0xA00))],
        );
        let f = with(f, "wow", vec![("DefaultSecureProtocols", RegValue::Dword(0xA00))]);
        let r = check(&f, Some(Generation::SevenSp1));
        assert_eq!(r.status, Status::Pass, "{}: {:?}", r.summary, r.facts);
        assert_eq!(r.summary, "TLS 1.2 is on (set explicitly)");
    }

    #[test]
    fn switching_tls12_off_fails_on_any_windows() {
        let f = with(
            TlsFacts::defaults(),
            "schannel",
            vec![("Enabled", RegValue::Dword(0))],
        );
        let r = check(&f, Some(Generation::TenOrLater));
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("Enabled = 0"), "{}", r.summary);

        let f = with(
            TlsFacts::defaults(),
            "winhttp",
            vec![("DefaultSecureProtocols", RegValue::Dword(0x280))],
        );
        let r = check(&f, Some(Generation::TenOrLater));
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("0x280: TLS 1.0, TLS 1.1"), "{}", r.summary);

        let f = with(
            TlsFacts::defaults(),
            "internet",
            vec![("SecureProtocols", RegValue::Dword(0xA0))],
        );
        let r = check(&f, Some(Generation::TenOrLater));
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("'Use TLS 1.2' unticked"), "{}", r.summary);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_a_warning() {
        let f = with(
            TlsFacts::defaults(),
            "winhttp",
            vec![("DefaultSecureProtocols", RegValue::Sz("0xA00".into()))],
        );
        let r = check(&f, Some(Generation::TenOrLater));
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("is a REG_SZ"), "{}", r.summary);
        // On Windows 7 the ignored string leaves WinHTTP on its default: TLS 1.2 is off.
        let f = with(
            TlsFacts::defaults(),
            "schannel",
            vec![("DisabledByDefault", RegValue::Dword(0))],
        );
        let f = with(
            f,
            "winhttp",
            vec![("DefaultSecureProtocols", RegValue::Sz("0xA00".into()))],
        );
        assert_eq!(check(&f, Some(Generation::SevenSp1)).status, Status::Fail);
    }

    #[test]
    fn masks_are_named() {
        assert_eq!(mask_names(0xA80), "TLS 1.0, TLS 1.1, TLS 1.2");
        assert_eq!(mask_names(0), "none");
    }

    /// `reg add` under the Windows tier flips the finding: real registry writes, read back
    /// through the Win32 layer. Uses the real keys only under Wine's throwaway prefix.
    #[cfg(windows)]
    #[test]
    fn reg_add_flips_the_tls12_finding() {
        use crate::checks::host::windows_facts::tests::RegSandbox;
        let sandbox = RegSandbox::new("tls12");
        let view = sandbox.view();
        let gen = Some(Generation::TenOrLater);
        assert_eq!(
            check(&TlsFacts::read(&view), gen).status,
            Status::Pass,
            "a clean prefix starts on the defaults"
        );
        sandbox.set(Hive::LocalMachine, SCHANNEL, "Enabled", "REG_DWORD", "0");
        let r = check(&TlsFacts::read(&view), gen);
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert!(r.summary.contains("Enabled = 0"), "{}", r.summary);
        sandbox.set(Hive::LocalMachine, SCHANNEL, "Enabled", "REG_DWORD", "1");
        sandbox.set(
            Hive::LocalMachine,
            WINHTTP_WOW,
            "DefaultSecureProtocols",
            "REG_DWORD",
            "0x280",
        );
        let r = check(&TlsFacts::read(&view), gen);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("32-bit"), "{}", r.summary);
        sandbox.set(
            Hive::LocalMachine,
            WINHTTP_WOW,
            "DefaultSecureProtocols",
            "REG_DWORD",
            "0xA80",
        );
        let r = check(&TlsFacts::read(&view), gen);
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert_eq!(r.summary, "TLS 1.2 is on (set explicitly)");
    }
}
