//! The built-in endpoint list of each Microsoft 365 cloud (`--instance`).
//!
//! The clouds are separate services: a GCC High tenant signs in at
//! `login.microsoftonline.us`, a tenant operated by 21Vianet at
//! `login.partner.microsoftonline.cn` and licenses Office at
//! `ols.officeapps.partner.office365.cn`. Probing the worldwide hosts for such a tenant would
//! light up green while the hosts its Office actually needs stay unchecked.
//!
//! - Worldwide (and GCC, which uses the worldwide endpoints): the firewall list of the
//!   activation article ([`worldwide`]).
//! - GCC High, DoD, 21Vianet: no such article exists, so the list is taken from Microsoft's
//!   published endpoint list for that cloud: the entries of its "Microsoft 365 Common and
//!   Office Online" service area that sign-in and Office activation use, each with
//!   Microsoft's endpoint-set id and category so it can be found on the cloud's page.
//!   Wildcard entries (`*.auth.microsoft.us`) are left out: there is no single host to probe,
//!   and the page lists them. `--ms-endpoints` imports the cloud's current full list on top.
//!
//! Each module names its page and the version of the endpoint data it was taken from.

mod china;
mod us_gov;
mod worldwide;

use serde::{Deserialize, Serialize};

use super::{Endpoint, Scheme};

/// Microsoft 365 cloud instances: each has its own sign-in and licensing hosts, and its own
/// rule for the tenant domain's `msoid` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Instance {
    /// Worldwide, including GCC (`gcc` means this: GCC uses the worldwide endpoints)
    #[default]
    #[value(alias = "gcc")]
    Worldwide,
    /// US Government GCC High.
    GccHigh,
    /// US Government DoD.
    Dod,
    /// Operated by 21Vianet.
    China,
}

impl Instance {
    pub const ALL: [Instance; 4] = [
        Instance::Worldwide,
        Instance::GccHigh,
        Instance::Dod,
        Instance::China,
    ];

    /// The name on the command line and in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Instance::Worldwide => "worldwide",
            Instance::GccHigh => "gcc-high",
            Instance::Dod => "dod",
            Instance::China => "china",
        }
    }

    /// The instance name in Microsoft's endpoint web service (`/endpoints/{instance}`).
    pub fn web_service_name(self) -> &'static str {
        match self {
            Instance::Worldwide => "Worldwide",
            Instance::GccHigh => "USGovGCCHigh",
            Instance::Dod => "USGovDoD",
            Instance::China => "China",
        }
    }

    /// Microsoft's page listing this cloud's endpoints.
    pub const fn endpoints_page(self) -> &'static str {
        match self {
            Instance::Worldwide => worldwide::PAGE,
            Instance::GccHigh => us_gov::GCC_HIGH_PAGE,
            Instance::Dod => us_gov::DOD_PAGE,
            Instance::China => china::PAGE,
        }
    }

    fn entries(self) -> &'static [Entry] {
        match self {
            Instance::Worldwide => worldwide::ENTRIES,
            Instance::GccHigh => us_gov::GCC_HIGH,
            Instance::Dod => us_gov::DOD,
            Instance::China => china::ENTRIES,
        }
    }
}

/// What an endpoint does for Office, as far as the findings care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Entra ID sign-in.
    SignIn,
    /// Product activation and licensing: the hosts allow-lists forget.
    Activation,
    Other,
}

/// One built-in entry.
pub(super) struct Entry {
    pub host: &'static str,
    pub scheme: Scheme,
    pub path: &'static str,
    pub role: Role,
    /// Endpoint-set id and category on the cloud's published list (none for the article's
    /// list, which has neither).
    pub set: Option<(u32, &'static str)>,
    pub notes: &'static str,
}

/// Shorthand for the tables: an HTTPS entry at `/`.
const fn https(
    host: &'static str,
    role: Role,
    set: Option<(u32, &'static str)>,
    notes: &'static str,
) -> Entry {
    Entry {
        host,
        scheme: Scheme::Https,
        path: "/",
        role,
        set,
        notes,
    }
}

/// The three certificate revocation lists Office fetches from crl.microsoft.com over plain
/// HTTP. The paths are the activation article's; the published lists of the other clouds
/// name the host (with port 80) but not the files.
const fn crl(path: &'static str, set: Option<(u32, &'static str)>) -> Entry {
    Entry {
        host: "crl.microsoft.com",
        scheme: Scheme::Http,
        path,
        role: Role::Other,
        set,
        notes: "Certificate revocation list",
    }
}

const CRL_FILES: [&str; 3] = [
    "/pki/crl/products/MicrosoftProductSecureServer.crl",
    "/pki/crl/products/MicrosoftRootAuthority.crl",
    "/pki/crl/products/MicrosoftProductSecureCommunicationsPCA.crl",
];

/// The built-in endpoints of a cloud.
pub(super) fn endpoints(instance: Instance) -> Vec<Endpoint> {
    instance
        .entries()
        .iter()
        .map(|entry| {
            let mut e = Endpoint::new(entry.host, entry.scheme, entry.path);
            e.notes = Some(entry.notes.to_string());
            if let Some((id, category)) = entry.set {
                e.ms_ids.push(id);
                e.category = Some(category.to_string());
                e.service_area = Some("Common".into());
            }
            e
        })
        .collect()
}

fn has_role(host: &str, role: Role) -> bool {
    Instance::ALL
        .iter()
        .flat_map(|i| i.entries())
        .any(|e| e.role == role && e.host.eq_ignore_ascii_case(host))
}

/// Whether `host` is a sign-in host in any cloud.
pub fn is_sign_in_host(host: &str) -> bool {
    has_role(host, Role::SignIn)
}

/// Whether `host` is an activation or licensing host in any cloud.
pub fn is_activation_host(host: &str) -> bool {
    has_role(host, Role::Activation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::validate_host;
    use std::collections::HashSet;

    #[test]
    fn every_cloud_has_sign_in_and_activation_hosts_and_unique_ids() {
        for i in Instance::ALL {
            let eps = endpoints(i);
            let ids: HashSet<_> = eps.iter().map(Endpoint::check_id).collect();
            assert_eq!(ids.len(), eps.len(), "{}: check ids are unique", i.as_str());
            assert!(eps.iter().all(|e| e.probe && !e.wildcard), "{}", i.as_str());
            for e in i.entries() {
                assert!(validate_host(e.host).is_ok(), "{}", e.host);
            }
            assert!(
                i.entries().iter().any(|e| e.role == Role::SignIn),
                "{}",
                i.as_str()
            );
            assert!(
                i.entries().iter().any(|e| e.role == Role::Activation),
                "{}",
                i.as_str()
            );
        }
    }

    #[test]
    fn each_cloud_signs_in_and_licenses_at_its_own_hosts() {
        let hosts = |i: Instance| -> Vec<&str> { i.entries().iter().map(|e| e.host).collect() };
        assert!(hosts(Instance::GccHigh).contains(&"login.microsoftonline.us"));
        assert!(hosts(Instance::Dod).contains(&"login.microsoftonline.us"));
        assert!(hosts(Instance::China).contains(&"login.partner.microsoftonline.cn"));
        assert!(hosts(Instance::China).contains(&"ols.officeapps.partner.office365.cn"));
        assert!(!hosts(Instance::China).contains(&"ols.officeapps.live.com"));
        assert!(!hosts(Instance::Worldwide)
            .iter()
            .any(|h| h.ends_with(".us") || h.ends_with(".cn")));
        for i in [Instance::Worldwide, Instance::GccHigh, Instance::Dod] {
            assert!(!hosts(i).iter().any(|h| h.ends_with(".cn")), "{}", i.as_str());
        }
        assert!(!hosts(Instance::China).iter().any(|h| h.ends_with(".us")));
    }

    #[test]
    fn sovereign_entries_carry_their_endpoint_set() {
        for i in [Instance::GccHigh, Instance::Dod, Instance::China] {
            for e in endpoints(i) {
                assert_eq!(e.ms_ids.len(), 1, "{} {}", i.as_str(), e.host);
                let cat = e.category.as_deref().unwrap_or("");
                assert!(crate::catalog::CATEGORIES.contains(&cat), "{cat}");
            }
        }
    }

    #[test]
    fn roles_span_the_clouds() {
        assert!(is_sign_in_host("login.microsoftonline.com"));
        assert!(is_sign_in_host("LOGIN.microsoftonline.us"));
        assert!(is_sign_in_host("login.partner.microsoftonline.cn"));
        assert!(is_activation_host("ols.officeapps.partner.office365.cn"));
        assert!(is_activation_host("activation.sls.microsoft.com"));
        assert!(!is_activation_host("login.microsoftonline.us"));
        assert!(!is_sign_in_host("officecdn.microsoft.com"));
    }

    #[test]
    fn web_service_names_are_microsofts() {
        let names: Vec<_> = Instance::ALL.iter().map(|i| i.web_service_name()).collect();
        assert_eq!(names, ["Worldwide", "USGovGCCHigh", "USGovDoD", "China"]);
    }
}
