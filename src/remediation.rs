//! Remediation entries: what a finding means and what to do next, in our own words, with
//! a link to the Microsoft page each draws on.
//!
//! Every section of the source article ("Sign in issues when activating Microsoft 365
//! Apps") has at least one entry here, plus entries for the network causes the probes
//! classify. Findings point at entries by id; the TUI's remediation panel, `check` and the
//! reports all render the same entries.

use serde::Serialize;

/// Which shell a command is for, so the panel can label it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    /// Windows Command Prompt.
    Cmd,
    PowerShell,
    /// POSIX shell (Linux, macOS).
    Sh,
}

/// A command a technician can copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Command {
    /// What the command does.
    pub label: &'static str,
    pub shell: Shell,
    pub text: &'static str,
    /// Needs an elevated prompt / an administrator.
    pub admin: bool,
}

/// One remediation entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Remediation {
    /// Stable id, used by findings and `m365mon remediation list`.
    pub id: &'static str,
    pub title: &'static str,
    /// What it means, in one or two sentences.
    pub summary: &'static str,
    /// Numbered steps, in order.
    pub steps: &'static [&'static str],
    pub commands: &'static [Command],
    /// Microsoft pages this entry draws on.
    pub links: &'static [&'static str],
    /// Only a Microsoft 365 or network administrator can carry it out.
    pub admin_only: bool,
    /// The heading of the source-article section it covers, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article_section: Option<&'static str>,
    /// Which checks (ids or id prefixes) or causes lead here.
    pub leads_from: &'static [&'static str],
}

const ARTICLE: &str = "https://learn.microsoft.com/microsoft-365/troubleshoot/activation/sign-in-issues";
const URLS_AND_IPS: &str = "https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges";

/// All entries. Order is the order `remediation list` prints.
pub static ALL: &[Remediation] = &[
    Remediation {
        id: "dns-failure",
        title: "Name resolution is failing",
        summary: "The DNS server this machine uses does not return addresses for the Microsoft 365 host names, so nothing further can connect.",
        steps: &[
            "Check which DNS servers the machine uses and that they answer at all.",
            "Resolve one of the failing host names by hand; compare with a public resolver if policy allows.",
            "If only Microsoft names fail, look for a DNS filter or a split-horizon zone that hides them.",
            "After fixing the server, flush the client cache and watch the lights turn green.",
        ],
        commands: &[
            Command { label: "Resolve a sign-in host (Windows)", shell: Shell::PowerShell, text: "Resolve-DnsName login.microsoftonline.com", admin: false },
            Command { label: "Flush the DNS cache (Windows)", shell: Shell::Cmd, text: "ipconfig /flushdns", admin: true },
            Command { label: "Resolve a sign-in host", shell: Shell::Sh, text: "nslookup login.microsoftonline.com", admin: false },
        ],
        links: &[URLS_AND_IPS],
        admin_only: false,
        article_section: None,
        leads_from: &["dns-nxdomain", "dns-servfail", "dns-timeout"],
    },
    Remediation {
        id: "firewall",
        title: "A firewall blocks Microsoft 365 endpoints",
        summary: "Connections to the listed endpoints are dropped or refused before TLS starts. Office cannot reach the activation and sign-in services until the firewall allows them.",
        steps: &[
            "Ask the network administrator to allow outbound TCP 443 (and TCP 80 for the CRL files) to every endpoint listed as failing.",
            "Allow by host name where the firewall supports it; Microsoft's IP ranges change, host names do not.",
            "Watch this monitor while the rule is changed: the endpoint lights turn green within one poll interval.",
        ],
        commands: &[
            Command { label: "Test one endpoint (Windows)", shell: Shell::PowerShell, text: "Test-NetConnection activation.sls.microsoft.com -Port 443", admin: false },
            Command { label: "Test one endpoint", shell: Shell::Sh, text: "curl -sv -o /dev/null https://activation.sls.microsoft.com/", admin: false },
        ],
        links: &[ARTICLE, URLS_AND_IPS],
        admin_only: true,
        article_section: Some("Check whether you're behind a firewall"),
        leads_from: &["tcp-timeout", "tcp-refused", "tcp-reset"],
    },
];

/// The entry with this id.
pub fn get(id: &str) -> Option<&'static Remediation> {
    ALL.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_entries_complete() {
        let mut ids: Vec<_> = ALL.iter().map(|r| r.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate remediation id");
        for r in ALL {
            assert!(!r.steps.is_empty(), "{} has no steps", r.id);
            assert!(!r.links.is_empty(), "{} has no link", r.id);
            assert!(r.links.iter().all(|l| l.starts_with("https://")), "{}", r.id);
        }
    }
}
