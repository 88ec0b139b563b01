//! `host:device-join`: how the device is joined (Entra ID, hybrid, domain, registered)
//! and whether the user holds a Primary Refresh Token, from `dsregcmd /status`.
//!
//! On a device joined to Entra ID, Office's single sign-on rides on the Primary Refresh
//! Token (PRT). No PRT, or one not renewed for two weeks, means sign-in prompts and
//! failed activation; `dsregcmd` then prints an `AcquirePrtDiagnostics` block naming the
//! endpoint and the error of the last attempt, which this check shows and decodes.
//!
//! `dsregcmd` must run as the signed-in user (it reports that user's PRT). Its labels are
//! English on every Windows, while section headers and the YES/NO values can come out
//! translated, so the parser keys on labels only and reads yes/no in several languages.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::model::{CheckResult, Status};

use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:device-join",
    target: "dsregcmd /status",
    os: HostOs::Windows,
    reads: "the output of `dsregcmd /status` run as the user (join state, PRT, AcquirePrtDiagnostics)",
    remediation: None,
};

/// A PRT is renewed every few hours while in use; two weeks without renewal means it
/// has expired.
const PRT_STALE_DAYS: i64 = 14;

/// `Label : value` pairs of `dsregcmd /status`, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsreg {
    pub fields: Vec<(String, String)>,
}

impl Dsreg {
    /// Parses the text; lines that are not `label : value` (borders, headers) are skipped.
    pub fn parse(text: &str) -> Dsreg {
        let fields = text
            .lines()
            .filter(|l| !l.trim_start().starts_with(['+', '|']))
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                let k = k.trim();
                // Labels are single words or a few words of ASCII letters.
                (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '))
                    .then(|| (k.to_owned(), v.trim().to_owned()))
            })
            .collect();
        Dsreg { fields }
    }

    /// The first value of a label, matched without case.
    pub fn get(&self, label: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A YES/NO label as a boolean (`None`: absent or not a yes/no word).
    pub fn flag(&self, label: &str) -> Option<bool> {
        yes_no(self.get(label)?)
    }
}

/// Yes or no in the languages Windows is commonly used in.
pub fn yes_no(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "yes" | "ja" | "oui" | "sí" | "si" | "sim" | "tak" | "да" | "是" | "はい" | "true" => {
            Some(true)
        }
        "no" | "nein" | "non" | "não" | "nao" | "nie" | "nee" | "nej" | "нет" | "否" | "いいえ" | "false" => {
            Some(false)
        }
        _ => None,
    }
}

/// A dsregcmd time (`2024-05-14 08:12:43.000 UTC`).
pub fn parse_time(v: &str) -> Option<DateTime<Utc>> {
    let v = v.trim().trim_end_matches("UTC").trim();
    NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// What running `dsregcmd /status` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinFacts {
    Parsed(Dsreg),
    /// The tool is not on this machine (Windows 8.1 and older, Wine).
    NotAvailable(String),
    /// It ran but gave nothing usable.
    Failed(String),
}

impl JoinFacts {
    /// Interprets a run of the tool.
    pub fn from_run(run: &crate::platform::tool::ToolRun) -> JoinFacts {
        use crate::platform::tool::ToolRun;
        if matches!(run, ToolRun::NotFound) {
            return JoinFacts::NotAvailable(run.problem("dsregcmd"));
        }
        match run.success().map(Dsreg::parse) {
            Some(d) if d.get("AzureAdJoined").is_some() => JoinFacts::Parsed(d),
            Some(_) => JoinFacts::Failed("dsregcmd printed no join state (AzureAdJoined)".to_owned()),
            None => JoinFacts::Failed(run.problem("dsregcmd")),
        }
    }

    /// Runs `dsregcmd /status` (at most once a minute; see [`super::Cached`]).
    #[cfg(windows)]
    pub fn read() -> JoinFacts {
        use std::time::{Duration, Instant};
        static CACHE: super::Cached<JoinFacts> = super::Cached::new(Duration::from_secs(60));
        CACHE.get(Instant::now(), || {
            JoinFacts::from_run(&crate::platform::tool::run(
                "dsregcmd",
                &["/status"],
                Duration::from_secs(30),
            ))
        })
    }
}

/// The join state in the words of Microsoft's dsregcmd documentation.
pub fn join_state(d: &Dsreg) -> String {
    let aad = d.flag("AzureAdJoined") == Some(true);
    let domain = d.flag("DomainJoined") == Some(true);
    let enterprise = d.flag("EnterpriseJoined") == Some(true);
    let mut s = match (aad, domain, enterprise) {
        (true, true, _) => "Microsoft Entra hybrid joined".to_owned(),
        (true, false, _) => "Microsoft Entra joined".to_owned(),
        (false, true, true) => "on-premises DRS joined".to_owned(),
        (false, true, false) => "domain joined (not in Entra ID)".to_owned(),
        (false, false, _) => "not joined".to_owned(),
    };
    if d.flag("WorkplaceJoined") == Some(true) {
        s.push_str(", Microsoft Entra registered");
    }
    s
}

pub fn check(f: &JoinFacts, now: DateTime<Utc>) -> CheckResult {
    let d = match f {
        JoinFacts::NotAvailable(why) => {
            let mut r = result(
                &CHECK,
                Status::Skip,
                "dsregcmd is not available here (Windows 10 and later have it)",
            );
            fact(&mut r, "why", why.clone());
            return r;
        }
        JoinFacts::Failed(why) => {
            let mut r = result(
                &CHECK,
                Status::Warn,
                "cannot read the device's join state from dsregcmd",
            );
            fact(&mut r, "error", why.clone());
            r.remediation = Some("conditional-access".into());
            return r;
        }
        JoinFacts::Parsed(d) => d,
    };
    let state = join_state(d);
    let entra = d.flag("AzureAdJoined") == Some(true);
    let prt = d.flag("AzureAdPrt");
    let updated = d.get("AzureAdPrtUpdateTime").and_then(parse_time);
    let stale_days = updated
        .map(|t| (now - t).num_days())
        .filter(|days| *days >= PRT_STALE_DAYS);
    let diagnostics = d.get("AcquirePrtDiagnostics").is_some();
    // The error of the last PRT attempt, if it names one we can decode.
    let error_code = ["HTTP Error", "Attempt Status"]
        .iter()
        .filter_map(|l| d.get(l))
        .filter_map(|v| {
            u32::from_str_radix(v.trim().trim_start_matches("0x").trim_start_matches("0X"), 16).ok()
        })
        .find(|c| *c != 0);
    let explained = error_code.and_then(crate::diagnosis::explain::explain);

    let (status, summary) = if entra && prt == Some(false) {
        let why = match (&explained, d.get("Server Error Code")) {
            (_, Some(server)) => format!(": the sign-in service answered {server}"),
            (Some(e), None) => format!(": {} ({})", e.title.to_lowercase(), e.hex),
            (None, None) if diagnostics => ": see the last attempt below".to_owned(),
            (None, None) => String::new(),
        };
        (
            Status::Warn,
            format!("{state}, but the user has no Primary Refresh Token{why}"),
        )
    } else if let (true, Some(days)) = (entra, stale_days) {
        (
            Status::Warn,
            format!("{state}, but the Primary Refresh Token was last renewed {days} days ago"),
        )
    } else if entra {
        (Status::Pass, format!("{state}, Primary Refresh Token present"))
    } else {
        (Status::Pass, state.clone())
    };
    let mut r = result(&CHECK, status, summary);
    fact(&mut r, "join state", state);
    for label in [
        "AzureAdJoined",
        "EnterpriseJoined",
        "DomainJoined",
        "DomainName",
        "WorkplaceJoined",
        "WamDefaultSet",
        "TenantName",
        "AzureAdPrt",
        "AzureAdPrtUpdateTime",
    ] {
        if let Some(v) = d.get(label) {
            fact(&mut r, label, v.to_owned());
        }
    }
    if diagnostics {
        for label in [
            "Previous Prt Attempt",
            "Attempt Status",
            "HTTP Error",
            "HTTP status",
            "Endpoint URI",
            "Server Error Code",
            "Server Error Description",
        ] {
            if let Some(v) = d.get(label) {
                fact(&mut r, label, v.to_owned());
            }
        }
    }
    if let Some(e) = &explained {
        fact(
            &mut r,
            "error meaning",
            format!("{}: {} ({})", e.hex, e.title, e.confidence.as_str()),
        );
    }
    if status != Status::Pass {
        let from_code = explained.as_ref().and_then(|e| e.remediation);
        r.remediation = Some(from_code.unwrap_or("conditional-access").to_owned());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Dsreg {
        let path = format!("{}/tests/fixtures/host/{name}", env!("CARGO_MANIFEST_DIR"));
        Dsreg::parse(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
    }

    fn now() -> DateTime<Utc> {
        parse_time("2024-05-14 12:00:00.000 UTC").unwrap()
    }

    #[test]
    fn parses_labels_values_with_colons_and_skips_borders() {
        let d = fixture("dsregcmd-entra-joined.txt");
        assert_eq!(d.get("AzureAdJoined"), Some("YES"));
        assert_eq!(d.get("azureadprtupdatetime"), Some("2024-05-14 08:12:43.000 UTC"));
        assert_eq!(
            d.get("AuthCodeUrl"),
            Some("https://login.microsoftonline.com/72f988bf-0000-41af-91ab-2d7cd011db47/oauth2/authorize")
        );
        assert_eq!(d.get("EnterprisePrtAuthority"), None, "empty values are absent");
        assert!(d.fields.iter().all(|(k, _)| !k.contains("Device State")));
    }

    #[test]
    fn an_entra_joined_device_with_a_prt_passes() {
        let r = check(&JoinFacts::Parsed(fixture("dsregcmd-entra-joined.txt")), now());
        assert_eq!(
            (r.status, r.summary.as_str()),
            (
                Status::Pass,
                "Microsoft Entra joined, Primary Refresh Token present"
            )
        );
        assert!(r.facts.contains(&("WamDefaultSet".into(), "YES".into())));
        assert_eq!(r.remediation, None);
    }

    #[test]
    fn a_missing_prt_shows_the_last_attempt_and_decodes_its_error() {
        let r = check(&JoinFacts::Parsed(fixture("dsregcmd-hybrid-no-prt.txt")), now());
        assert_eq!(r.status, Status::Warn);
        assert!(
            r.summary
                .starts_with("Microsoft Entra hybrid joined, but the user has no Primary Refresh Token: "),
            "{}",
            r.summary
        );
        assert!(r.summary.contains("0x80072EE2"), "{}", r.summary);
        assert!(r
            .facts
            .iter()
            .any(|(k, v)| k == "Endpoint URI" && v.starts_with("https://login.microsoftonline.com/")));
        assert!(
            r.facts
                .iter()
                .any(|(k, v)| k == "error meaning" && v.starts_with("0x80072EE2")),
            "{:?}",
            r.facts
        );
        let rem = r.remediation.expect("a remediation");
        assert!(crate::diagnosis::remediation::get(&rem).is_some(), "{rem}");
    }

    #[test]
    fn localised_headers_and_yes_no_values_are_read() {
        let de = fixture("dsregcmd-de.txt");
        assert_eq!(de.flag("AzureAdJoined"), Some(true));
        assert_eq!(de.flag("EnterpriseJoined"), Some(false));
        let r = check(&JoinFacts::Parsed(de), now());
        assert_eq!(
            (r.status, r.summary.as_str()),
            (
                Status::Pass,
                "Microsoft Entra hybrid joined, Primary Refresh Token present"
            )
        );

        let r = check(&JoinFacts::Parsed(fixture("dsregcmd-fr.txt")), now());
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.summary, "Microsoft Entra hybrid joined, but the user has no Primary Refresh Token: the sign-in service answered invalid_grant");
        assert!(r
            .facts
            .iter()
            .any(|(k, v)| k == "Server Error Description" && v.starts_with("AADSTS50126")));
    }

    #[test]
    fn a_workgroup_pc_with_a_registered_account_passes() {
        let r = check(&JoinFacts::Parsed(fixture("dsregcmd-workgroup.txt")), now());
        assert_eq!(
            (r.status, r.summary.as_str()),
            (Status::Pass, "not joined, Microsoft Entra registered")
        );
    }

    #[test]
    fn a_prt_not_renewed_for_two_weeks_warns() {
        let r = check(
            &JoinFacts::Parsed(fixture("dsregcmd-entra-joined.txt")),
            now() + chrono::Duration::days(20),
        );
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("last renewed 20 days ago"), "{}", r.summary);
    }

    #[test]
    fn yes_and_no_in_several_languages() {
        for y in ["YES", "Ja", "OUI", "sí", "Sim", "TAK"] {
            assert_eq!(yes_no(y), Some(true), "{y}");
        }
        for n in ["NO", "Nein", "NON", "não", "NIE", "nej"] {
            assert_eq!(yes_no(n), Some(false), "{n}");
        }
        assert_eq!(yes_no("PRESENT"), None);
    }

    #[test]
    fn tool_runs_become_facts() {
        use crate::platform::tool::ToolRun;
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/host/dsregcmd-workgroup.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let ok = ToolRun::Ran {
            code: Some(0),
            stdout: text,
            stderr: String::new(),
        };
        assert!(matches!(JoinFacts::from_run(&ok), JoinFacts::Parsed(_)));
        let r = check(&JoinFacts::from_run(&ToolRun::NotFound), now());
        assert_eq!(r.status, Status::Skip);
        let garbage = ToolRun::Ran {
            code: Some(0),
            stdout: "Usage: dsregcmd ...".into(),
            stderr: String::new(),
        };
        let r = check(&JoinFacts::from_run(&garbage), now());
        assert_eq!(r.status, Status::Warn);
        let failed = ToolRun::Ran {
            code: Some(1),
            stdout: String::new(),
            stderr: "Access is denied.".into(),
        };
        assert!(
            matches!(JoinFacts::from_run(&failed), JoinFacts::Failed(e) if e.contains("Access is denied"))
        );
    }
}
