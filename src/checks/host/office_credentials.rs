//! `host:office-credentials`: what Office has stored in Credential Manager.
//!
//! Office keeps tokens as generic credentials whose target starts with `MicrosoftOffice16`
//! (`MicrosoftOffice16_Data:SSPI:<upn>`, `...:ADAL:<id>`, ...). Stale entries, or entries
//! for several different accounts, are a known cause of sign-in loops and wrong-account
//! activation; the article's fix is to remove them. Only target names are listed — never
//! a secret — and reports redact the addresses in them with `--redact`.

use crate::model::{CheckResult, Status};
use crate::platform::windows::credentials::StoredCredential;

use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:office-credentials",
    target: "Credential Manager: MicrosoftOffice16 entries",
    os: HostOs::Windows,
    reads: "the target names of Credential Manager entries starting with MicrosoftOffice16 (CredEnumerateW; never secrets)",
    remediation: Some("office-credentials"),
};

/// Target prefix of Office 2016 and later (Microsoft 365 Apps included).
pub const PREFIX: &str = "MicrosoftOffice16";
/// Shown targets at most; the count is always complete.
const SHOWN: usize = 12;

/// The target without the `LegacyGeneric:target=` decoration some tools print.
fn bare(target: &str) -> &str {
    let lower = target.to_ascii_lowercase();
    match lower.find("target=") {
        Some(i) => &target[i + "target=".len()..],
        None => target,
    }
}

/// Whether a credential belongs to Office.
pub fn is_office(target: &str) -> bool {
    bare(target)
        .get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
}

/// The account an Office target names (`MicrosoftOffice16_Data:SSPI:ada@contoso.com` ->
/// `ada@contoso.com`), lower-cased, if it names one.
pub fn account(target: &str) -> Option<String> {
    let last = bare(target).rsplit(':').next()?.trim();
    (last.contains('@') && !last.starts_with('@')).then(|| last.to_ascii_lowercase())
}

pub fn check(listed: &Result<Vec<StoredCredential>, String>) -> CheckResult {
    let all = match listed {
        Ok(all) => all,
        Err(e) => {
            let mut r = result(&CHECK, Status::Warn, "cannot list Credential Manager entries");
            fact(&mut r, "error", e.clone());
            r.remediation = Some("office-credentials".into());
            return r;
        }
    };
    let office: Vec<&StoredCredential> = all.iter().filter(|c| is_office(&c.target)).collect();
    let mut accounts: Vec<String> = office.iter().filter_map(|c| account(&c.target)).collect();
    accounts.sort();
    accounts.dedup();
    let (status, summary) = match (office.len(), accounts.len()) {
        (0, _) => (Status::Pass, "no stored Office credentials".to_owned()),
        (n, a) if a > 1 => (
            Status::Warn,
            format!("{n} stored Office credentials for {a} different accounts"),
        ),
        (n, 1) => (
            Status::Pass,
            format!("{n} stored Office credentials, for {}", accounts[0]),
        ),
        (n, _) => (Status::Pass, format!("{n} stored Office credentials")),
    };
    let mut r = result(&CHECK, status, summary);
    for c in office.iter().take(SHOWN) {
        let written = c
            .last_written
            .map(|t| format!(", written {}", super::when(t)))
            .unwrap_or_default();
        fact(
            &mut r,
            "credential",
            format!("{} ({}{written})", bare(&c.target), c.kind),
        );
    }
    if office.len() > SHOWN {
        fact(
            &mut r,
            "credential",
            format!("... and {} more", office.len() - SHOWN),
        );
    }
    fact(
        &mut r,
        "all entries",
        format!(
            "{} in Credential Manager, {} of them Office's",
            all.len(),
            office.len()
        ),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(target: &str) -> StoredCredential {
        StoredCredential {
            target: target.into(),
            kind: "generic",
            last_written: None,
        }
    }

    #[test]
    fn recognises_office_targets_and_their_accounts() {
        assert!(is_office("MicrosoftOffice16_Data:SSPI:ada@contoso.com"));
        assert!(is_office("LegacyGeneric:target=microsoftoffice16_Data:ADAL:1234"));
        assert!(!is_office("MicrosoftOffice15_Data:SSPI:ada@contoso.com"));
        assert!(!is_office("git:https://github.com"));
        assert_eq!(
            account("MicrosoftOffice16_Data:SSPI:Ada@Contoso.com").as_deref(),
            Some("ada@contoso.com")
        );
        assert_eq!(account("MicrosoftOffice16_Data:ADAL:3f2a1b"), None);
    }

    #[test]
    fn one_account_passes_and_mixed_accounts_warn() {
        let list = Ok(vec![
            cred("MicrosoftOffice16_Data:SSPI:ada@contoso.com"),
            cred("MicrosoftOffice16_Data:ADAL:3f2a1b"),
            cred("git:https://github.com"),
        ]);
        let r = check(&list);
        assert_eq!(
            (r.status, r.summary.as_str()),
            (Status::Pass, "2 stored Office credentials, for ada@contoso.com")
        );
        assert!(r.facts.contains(&(
            "all entries".into(),
            "3 in Credential Manager, 2 of them Office's".into()
        )));
        assert!(
            !r.facts.iter().any(|(_, v)| v.contains("github")),
            "non-Office targets are not listed"
        );

        let mixed = Ok(vec![
            cred("MicrosoftOffice16_Data:SSPI:ada@contoso.com"),
            cred("MicrosoftOffice16_Data:orgid:ada@fabrikam.com"),
        ]);
        let r = check(&mixed);
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.summary, "2 stored Office credentials for 2 different accounts");
        assert_eq!(r.remediation.as_deref(), Some("office-credentials"));
    }

    #[test]
    fn none_stored_passes_and_an_error_warns() {
        assert_eq!(
            check(&Ok(vec![cred("x")])).summary,
            "no stored Office credentials"
        );
        assert_eq!(check(&Err("denied".into())).status, Status::Warn);
    }

    /// Entries written with CredWriteW for two accounts flip the finding; targets only.
    #[cfg(windows)]
    #[test]
    fn credwritew_entries_are_listed_and_flip_the_finding() {
        use crate::platform::windows::credentials::{delete_generic, list, write_generic};
        let pid = std::process::id();
        let targets = [
            format!("MicrosoftOffice16_Data:SSPI:m365mon-a-{pid}@contoso.example"),
            format!("MicrosoftOffice16_Data:orgid:m365mon-b-{pid}@fabrikam.example"),
        ];
        struct Cleanup<'a>(&'a [String]);
        impl Drop for Cleanup<'_> {
            fn drop(&mut self) {
                for t in self.0 {
                    let _ = delete_generic(t);
                }
            }
        }
        let _cleanup = Cleanup(&targets);
        let before = check(&list()).status;
        write_generic(&targets[0], "m365mon-test", b"secret-one").unwrap();
        let r = check(&list());
        assert!(
            r.facts
                .iter()
                .any(|(k, v)| k == "credential" && v.starts_with(targets[0].as_str())),
            "{:?}",
            r.facts
        );
        write_generic(&targets[1], "m365mon-test", b"secret-two").unwrap();
        let r = check(&list());
        assert_eq!(r.status, Status::Warn, "{r:?} (before: {before:?})");
        assert!(
            !format!("{r:?}").contains("secret-"),
            "a secret leaked into the result"
        );
    }
}
