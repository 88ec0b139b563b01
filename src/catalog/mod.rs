//! The endpoint catalog: which Microsoft 365 URLs are probed.
//!
//! The built-in catalog depends on the cloud (`--instance`, see [`cloud`]): for the
//! worldwide cloud it is the firewall list of the article "Sign in issues when activating
//! Microsoft 365 Apps" (20 entries); for GCC High, DoD and 21Vianet it is the sign-in and
//! activation part of that cloud's published endpoint list. A TOML file (`--endpoints`) can
//! extend or replace it, and Microsoft's endpoint web service JSON (`--ms-endpoints`) can be
//! imported on top. Every entry remembers where it came from, so the list a technician sees
//! can be traced back to its source.

pub mod cloud;
pub mod file;
pub mod ms_json;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

use crate::model::error::InputError;
pub use cloud::Instance;

/// How an endpoint is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Where a catalog entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The article's firewall list, compiled in.
    Builtin,
    /// A `--endpoints` TOML file.
    File,
    /// Microsoft's endpoint web service JSON (`--ms-endpoints`).
    Microsoft,
}

/// Microsoft's endpoint categories (see "Microsoft 365 network connectivity principles").
pub const CATEGORIES: [&str; 3] = ["Optimize", "Allow", "Default"];

/// One URL in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Host name, lower case; may start with `*.` for a wildcard entry.
    pub host: String,
    pub scheme: Scheme,
    pub port: u16,
    /// Path requested by the HTTP stage; starts with `/`.
    pub path: String,
    /// `Optimize`, `Allow` or `Default` (Microsoft's categories), when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub category: Option<String>,
    /// Whether Microsoft marks the URL as required for the service to work.
    pub required: bool,
    /// A wildcard URL is listed but cannot be probed as such.
    pub wildcard: bool,
    pub source: Source,
    /// Endpoint-set id(s) in Microsoft's web service.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ms_ids: Vec<u32>,
    /// `serviceArea` in Microsoft's web service (`Exchange`, `SharePoint`, `Skype`, `Common`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub service_area: Option<String>,
    /// TCP ports Microsoft lists for the URL, as given (`"80,443"`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tcp_ports: Option<String>,
    /// Why it matters, shown in the detail view.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notes: Option<String>,
    /// Whether the sweep probes it (false for wildcards and non-web ports); see `skip_reason`.
    pub probe: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub skip_reason: Option<String>,
}

impl Endpoint {
    /// A probeable endpoint with defaults for everything else.
    pub fn new(host: &str, scheme: Scheme, path: &str) -> Self {
        let host = host.trim().to_ascii_lowercase();
        let wildcard = host.contains('*');
        let mut e = Self {
            host,
            scheme,
            port: scheme.default_port(),
            path: path.to_string(),
            category: None,
            required: true,
            wildcard,
            source: Source::Builtin,
            ms_ids: Vec::new(),
            service_area: None,
            tcp_ports: None,
            notes: None,
            probe: true,
            skip_reason: None,
        };
        if wildcard {
            e.probe = false;
            e.skip_reason = Some("wildcard URL: no single host to probe".into());
        }
        e
    }

    /// The URL as a technician would type it.
    pub fn url(&self) -> String {
        if self.port == self.scheme.default_port() {
            format!("{}://{}{}", self.scheme.as_str(), self.host, self.path)
        } else {
            format!(
                "{}://{}:{}{}",
                self.scheme.as_str(),
                self.host,
                self.port,
                self.path
            )
        }
    }

    /// Stable check id: `endpoint:` + host, then `:port` when not the scheme's default, then
    /// the path when it is not `/`.
    pub fn check_id(&self) -> String {
        let mut id = format!("endpoint:{}", self.host);
        if self.port != self.scheme.default_port() {
            id.push_str(&format!(":{}", self.port));
        }
        if self.path != "/" {
            id.push_str(&self.path);
        }
        id
    }

    /// Host and path, short enough for a table row.
    pub fn display(&self) -> String {
        if self.path == "/" {
            self.host.clone()
        } else {
            format!("{}{}", self.host, self.path)
        }
    }

    /// The group a long list shows it in: Microsoft's service area, else its category,
    /// else what it is for (the built-in list has neither).
    pub fn group(&self) -> String {
        if let Some(area) = &self.service_area {
            return area.clone();
        }
        if let Some(category) = &self.category {
            return category.clone();
        }
        if self.is_sign_in() {
            "Sign-in".into()
        } else if self.is_activation() {
            "Activation".into()
        } else if self.path.ends_with(".crl") || self.host.starts_with("crl.") {
            "Certificates".into()
        } else {
            "Office apps".into()
        }
    }

    /// Whether this is a sign-in (Entra ID) endpoint, in any cloud.
    pub fn is_sign_in(&self) -> bool {
        cloud::is_sign_in_host(&self.host)
    }

    /// Whether this is an activation/licensing endpoint, in any cloud: the ones a firewall
    /// rule typically forgets.
    pub fn is_activation(&self) -> bool {
        cloud::is_activation_host(&self.host)
    }
}

/// How a `--endpoints` file combines with the built-in list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Merge {
    /// Add the file's entries after the built-in ones (the default).
    #[default]
    Extend,
    /// Use only the file's entries.
    Replace,
}

/// The list of endpoints in effect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    pub endpoints: Vec<Endpoint>,
}

impl Catalog {
    /// The worldwide cloud's built-in list: the article's 20 endpoints.
    pub fn builtin() -> Self {
        Self::for_cloud(Instance::Worldwide)
    }

    /// The built-in list of a cloud.
    pub fn for_cloud(instance: Instance) -> Self {
        Self {
            endpoints: cloud::endpoints(instance),
        }
    }

    /// The catalog a command runs with: the cloud's built-in list, then `--endpoints`, then
    /// `--ms-endpoints`.
    pub fn load(
        instance: Instance,
        endpoints: Option<&Path>,
        ms_endpoints: Option<&Path>,
    ) -> Result<Self, InputError> {
        let mut catalog = Self::for_cloud(instance);
        if let Some(path) = endpoints {
            let file = file::load(path)?;
            if file.merge == Merge::Replace {
                catalog.endpoints.clear();
            }
            catalog.add_all(file.endpoints);
        }
        if let Some(path) = ms_endpoints {
            catalog.add_all(ms_json::load(path)?);
        }
        Ok(catalog)
    }

    /// Adds an entry unless the same URL is already there; a duplicate from Microsoft's
    /// list contributes its endpoint-set ids and missing metadata to the existing entry.
    pub fn add(&mut self, e: Endpoint) {
        self.add_all([e]);
    }

    /// [`Catalog::add`] for many entries, in linear time: the entries already there are
    /// indexed by URL once (a search of the list per entry made a file of 20,000 entries
    /// take half a minute).
    pub fn add_all(&mut self, entries: impl IntoIterator<Item = Endpoint>) {
        let mut index: HashMap<(String, Scheme), usize> = HashMap::new();
        for (i, x) in self.endpoints.iter().enumerate() {
            index.entry((x.check_id(), x.scheme)).or_insert(i);
        }
        for e in entries {
            let key = (e.check_id(), e.scheme);
            let Some(&i) = index.get(&key) else {
                index.insert(key, self.endpoints.len());
                self.endpoints.push(e);
                continue;
            };
            let existing = &mut self.endpoints[i];
            for id in e.ms_ids {
                if !existing.ms_ids.contains(&id) {
                    existing.ms_ids.push(id);
                }
            }
            if existing.category.is_none() {
                existing.category = e.category;
            }
            if existing.service_area.is_none() {
                existing.service_area = e.service_area;
            }
            if existing.tcp_ports.is_none() {
                existing.tcp_ports = e.tcp_ports;
            }
        }
    }

    /// The entries a sweep probes.
    pub fn probed(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(|e| e.probe)
    }

    /// Distinct host names that are probed.
    pub fn probed_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.probed().map(|e| e.host.clone()).collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }
}

/// Validates a host name from a file: letters, digits, `-`, `.`, and an optional leading
/// `*.` wildcard. Returns the reason when it is not acceptable.
pub fn validate_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("host is empty".into());
    }
    if host.len() > 253 {
        return Err("host is longer than 253 characters".into());
    }
    // Microsoft's list uses `*` within a label too: `*-files.sharepoint.com`,
    // `autodiscover.*.onmicrosoft.com`. A `*` stands for one or more label characters.
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("host {host:?} is not a fully qualified name"));
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("host {host:?} has an empty or over-long label"));
        }
        if label.matches('*').count() > 1 {
            return Err(format!("host {host:?}: at most one '*' per label"));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
            || label.starts_with('-')
        {
            return Err(format!("host {host:?} has characters a DNS name cannot have"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_the_articles_twenty_entries() {
        let c = Catalog::builtin();
        assert_eq!(c.endpoints.len(), 20);
        let http: Vec<_> = c.endpoints.iter().filter(|e| e.scheme == Scheme::Http).collect();
        assert_eq!(http.len(), 4, "the four CRL files are plain HTTP");
        assert!(http.iter().all(|e| e.port == 80 && e.path.ends_with(".crl")));
        let ids: std::collections::HashSet<_> = c.endpoints.iter().map(|e| e.check_id()).collect();
        assert_eq!(ids.len(), 20, "check ids are unique");
        assert!(c.endpoints.iter().all(|e| e.probe && !e.wildcard));
    }

    #[test]
    fn ids_and_urls() {
        let e = Endpoint::new("ols.officeapps.live.com", Scheme::Https, "/olsc");
        assert_eq!(e.check_id(), "endpoint:ols.officeapps.live.com/olsc");
        assert_eq!(e.url(), "https://ols.officeapps.live.com/olsc");
        let mut e = Endpoint::new("Example.COM", Scheme::Https, "/");
        e.port = 8443;
        assert_eq!(e.check_id(), "endpoint:example.com:8443");
        assert_eq!(e.url(), "https://example.com:8443/");
    }

    #[test]
    fn wildcards_are_listed_not_probed() {
        let e = Endpoint::new("*.officeapps.live.com", Scheme::Https, "/");
        assert!(e.wildcard && !e.probe);
        assert!(e.skip_reason.is_some());
    }

    #[test]
    fn host_validation() {
        assert!(validate_host("login.microsoftonline.com").is_ok());
        assert!(validate_host("*.officeapps.live.com").is_ok());
        assert!(validate_host("autodiscover.*.onmicrosoft.com").is_ok());
        assert!(validate_host("*-files.sharepoint.com").is_ok());
        assert!(validate_host("**.com").is_err());
        assert!(validate_host("localhost").is_err());
        assert!(validate_host("bad host").is_err());
        assert!(validate_host("").is_err());
        assert!(validate_host("a..b").is_err());
    }
}
