//! `host:office-account`: which accounts Office has signed in, and whether one of them is a
//! work or school account.
//!
//! Microsoft 365 Apps for business and enterprise activate only with the work or school
//! account the licence belongs to; being signed in only with a personal Microsoft account
//! (outlook.com, hotmail.com ...) is the article's "sign out and sign back in" case.
//! Office records each signed-in identity as a subkey of
//! `HKCU\Software\Microsoft\Office\16.0\Common\Identity\Identities`, named `<id>_<provider>`
//! with values such as `EmailAddress`, `SignInName`, `FriendlyName` and `ProviderId`
//! (`ADAL`/`OrgId`: work or school; `LiveId`: personal). Only those names are read — no
//! token or secret is stored there or shown. Reports redact the addresses with `--redact`.

use crate::model::{CheckResult, Status};
use crate::platform::windows::registry::{Key, RegValue};

use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:office-account",
    target: "accounts signed in to Office",
    os: HostOs::Windows,
    reads: "HKCU Office 16.0 Common\\Identity\\Identities (EmailAddress, SignInName, ProviderId)",
    remediation: Some("sign-out-sign-in"),
};

pub const IDENTITIES: &str = "Software\\Microsoft\\Office\\16.0\\Common\\Identity\\Identities";

/// Work or school (Entra ID) or personal (Microsoft account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    WorkOrSchool,
    Personal,
    Unknown,
}

impl AccountKind {
    pub fn label(self) -> &'static str {
        match self {
            AccountKind::WorkOrSchool => "work or school",
            AccountKind::Personal => "personal Microsoft account",
            AccountKind::Unknown => "unknown kind",
        }
    }

    /// From a provider name as Office writes it (`ProviderId`, `IdP`, or the key suffix).
    pub fn from_provider(p: &str) -> AccountKind {
        match p.trim().to_ascii_lowercase().as_str() {
            "adal" | "orgid" | "aad" | "wam_aad" | "wamaad" => AccountKind::WorkOrSchool,
            "liveid" | "msa" | "live" | "wam_msa" | "wammsa" | "consumer" => AccountKind::Personal,
            _ => AccountKind::Unknown,
        }
    }
}

/// One identity Office has recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeIdentity {
    /// The subkey's name.
    pub key: String,
    pub email: Option<String>,
    pub sign_in_name: Option<String>,
    pub provider: Option<String>,
    pub kind: AccountKind,
}

impl OfficeIdentity {
    /// Builds the identity from its subkey.
    pub fn from_key(name: &str, key: &Key) -> OfficeIdentity {
        let text = |n: &str| {
            key.value(n)
                .and_then(RegValue::as_text)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let provider = text("ProviderId").or_else(|| text("IdP"));
        let suffix = name.rsplit_once('_').map(|(_, s)| s);
        let kind = [provider.as_deref(), suffix]
            .into_iter()
            .flatten()
            .map(AccountKind::from_provider)
            .find(|k| *k != AccountKind::Unknown)
            .unwrap_or(AccountKind::Unknown);
        OfficeIdentity {
            key: name.to_owned(),
            email: text("EmailAddress"),
            sign_in_name: text("SignInName"),
            provider,
            kind,
        }
    }

    /// The address to show: the e-mail address, else the sign-in name, else the key.
    pub fn shown(&self) -> &str {
        self.email
            .as_deref()
            .or(self.sign_in_name.as_deref())
            .unwrap_or(&self.key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFacts {
    /// `Ok(None)`: Office has no identity data for this user.
    pub identities: Result<Option<Vec<OfficeIdentity>>, String>,
    /// Microsoft 365 Apps (Click-to-Run) are installed on the machine.
    pub office_installed: bool,
}

impl AccountFacts {
    #[cfg(windows)]
    pub fn read(view: &crate::platform::windows::registry::View, office_installed: bool) -> AccountFacts {
        use crate::platform::windows::registry::{read_key, subkeys, Hive};
        let identities = subkeys(view, Hive::CurrentUser, IDENTITIES).map(|names| {
            names.map(|names| {
                names
                    .iter()
                    .map(|n| {
                        OfficeIdentity::from_key(
                            n,
                            &read_key(view, Hive::CurrentUser, &format!("{IDENTITIES}\\{n}")),
                        )
                    })
                    .collect()
            })
        });
        AccountFacts {
            identities,
            office_installed,
        }
    }
}

pub fn check(f: &AccountFacts) -> CheckResult {
    let ids = match &f.identities {
        Err(e) => {
            let mut r = result(&CHECK, Status::Warn, "cannot read Office's signed-in accounts");
            fact(&mut r, "error", e.clone());
            r.remediation = Some("sign-out-sign-in".into());
            return r;
        }
        Ok(Some(ids)) if !ids.is_empty() => ids,
        Ok(_) if f.office_installed => {
            let mut r = result(
                &CHECK,
                Status::Warn,
                "Microsoft 365 Apps are installed but no account is signed in to Office",
            );
            fact(&mut r, "looked in", format!("HKCU\\{IDENTITIES}"));
            r.remediation = Some("sign-out-sign-in".into());
            return r;
        }
        Ok(_) => {
            return result(&CHECK, Status::Skip, "Office has no signed-in account for this user, and no Microsoft 365 Apps installation was found");
        }
    };
    let work: Vec<&OfficeIdentity> = ids
        .iter()
        .filter(|i| i.kind == AccountKind::WorkOrSchool)
        .collect();
    let personal = ids.iter().filter(|i| i.kind == AccountKind::Personal).count();
    let (status, summary) = match (work.as_slice(), personal) {
        ([], n) if n == ids.len() => (
            Status::Warn,
            "signed in to Office only with a personal Microsoft account: activation needs the work or school account".to_owned(),
        ),
        ([], _) => (Status::Warn, "no work or school account among Office's signed-in accounts".to_owned()),
        ([one], _) => (Status::Pass, format!("signed in as {} (work or school)", one.shown())),
        (many, _) => (Status::Pass, format!("{} work or school accounts signed in, e.g. {}", many.len(), many[0].shown())),
    };
    let mut r = result(&CHECK, status, summary);
    for i in ids {
        let provider = i
            .provider
            .as_deref()
            .map(|p| format!(", ProviderId {p}"))
            .unwrap_or_default();
        fact(
            &mut r,
            "account",
            format!("{} ({}{provider})", i.shown(), i.kind.label()),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::windows::registry::Hive;

    fn identity(name: &str, values: Vec<(&'static str, RegValue)>) -> OfficeIdentity {
        OfficeIdentity::from_key(name, &Key::with(Hive::CurrentUser, "x", values))
    }

    fn sz(s: &str) -> RegValue {
        RegValue::Sz(s.into())
    }

    fn facts(ids: Vec<OfficeIdentity>) -> AccountFacts {
        AccountFacts {
            identities: Ok(Some(ids)),
            office_installed: true,
        }
    }

    #[test]
    fn classifies_accounts_by_provider_or_key_suffix() {
        let work = identity(
            "1a2b3c_ADAL",
            vec![
                ("EmailAddress", sz("ada@contoso.com")),
                ("ProviderId", sz("ADAL")),
            ],
        );
        assert_eq!(work.kind, AccountKind::WorkOrSchool);
        let msa = identity("0007_LiveId", vec![("SignInName", sz("ada@outlook.com"))]);
        assert_eq!(
            (msa.kind, msa.shown()),
            (AccountKind::Personal, "ada@outlook.com")
        );
        assert_eq!(identity("odd", vec![]).kind, AccountKind::Unknown);
        assert_eq!(identity("odd", vec![]).shown(), "odd");
    }

    #[test]
    fn a_work_account_passes_and_a_personal_one_alone_warns() {
        let work = identity("1_ADAL", vec![("EmailAddress", sz("ada@contoso.com"))]);
        let msa = identity("2_LiveId", vec![("EmailAddress", sz("ada@outlook.com"))]);
        let r = check(&facts(vec![work.clone(), msa.clone()]));
        assert_eq!(
            (r.status, r.summary.as_str()),
            (Status::Pass, "signed in as ada@contoso.com (work or school)")
        );
        assert!(r.facts.contains(&(
            "account".into(),
            "ada@outlook.com (personal Microsoft account)".into()
        )));
        let r = check(&facts(vec![msa]));
        assert_eq!(r.status, Status::Warn);
        assert!(
            r.summary.contains("only with a personal Microsoft account"),
            "{}",
            r.summary
        );
        assert_eq!(r.remediation.as_deref(), Some("sign-out-sign-in"));
    }

    #[test]
    fn nobody_signed_in_warns_only_where_office_is_installed() {
        let r = check(&AccountFacts {
            identities: Ok(None),
            office_installed: true,
        });
        assert_eq!(r.status, Status::Warn);
        let r = check(&AccountFacts {
            identities: Ok(Some(vec![])),
            office_installed: false,
        });
        assert_eq!(r.status, Status::Skip);
        let r = check(&AccountFacts {
            identities: Err("access denied".into()),
            office_installed: true,
        });
        assert_eq!(r.status, Status::Warn);
    }

    /// Identities written with `reg add` as Office writes them are read back and judged.
    #[cfg(windows)]
    #[test]
    fn reads_identities_written_with_reg_add() {
        use crate::checks::host::windows_facts::tests::RegSandbox;
        let sandbox = RegSandbox::new("account");
        let view = sandbox.view();
        let key = format!("{IDENTITIES}\\9f8e7d6c_LiveId");
        sandbox.set(
            Hive::CurrentUser,
            &key,
            "EmailAddress",
            "REG_SZ",
            "m365mon-test@outlook.com",
        );
        let r = check(&AccountFacts::read(&view, true));
        assert_eq!(r.status, Status::Warn, "{r:?}");
        let key = format!("{IDENTITIES}\\1a2b3c4d_ADAL");
        sandbox.set(
            Hive::CurrentUser,
            &key,
            "EmailAddress",
            "REG_SZ",
            "m365mon-test@contoso.example",
        );
        sandbox.set(Hive::CurrentUser, &key, "ProviderId", "REG_SZ", "ADAL");
        let r = check(&AccountFacts::read(&view, true));
        assert_eq!(
            r.summary, "signed in as m365mon-test@contoso.example (work or school)",
            "{r:?}"
        );
    }
}
