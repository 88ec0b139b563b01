//! Remediation entries: what a finding means and what to do next, in our own words, with
//! a link to the Microsoft page each draws on.
//!
//! Every section of the source article ("Sign in issues when activating Microsoft 365
//! Apps") has at least one entry here (tested against [`article_sections`]), plus entries
//! for the network causes the probes classify. Findings point at entries by id; the TUI's
//! remediation panel, `check`, `explain` and the reports all render the same entries, so a
//! fix is written once.
//!
//! `leads_from` names what leads to an entry, in one shared vocabulary (also used by
//! `explain`): either a probe cause ([`Cause::as_str`], e.g. `tcp-timeout`) or a check id
//! starting with one of [`CHECK_ID_PREFIXES`]:
//!
//! - `endpoint:` an endpoint check, exactly as [`crate::catalog::Endpoint::check_id`] makes it;
//! - `network:` a check of the network around the machine (`network:proxy`, `network:vpn`,
//!   `network:clock`, `network:ncsi`, `network:msoid`);
//! - `host:` a check of the machine itself (`host:broker-plugin`, `host:adal-wam`, ...).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Value};

use crate::catalog::Instance;
use crate::model::Cause;

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

impl Shell {
    /// The label shown next to a command.
    pub fn label(self) -> &'static str {
        match self {
            Shell::Cmd => "cmd",
            Shell::PowerShell => "PowerShell",
            Shell::Sh => "sh",
        }
    }
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

/// Prefixes of check ids that may appear in `leads_from` (and in `explain`'s checks).
pub const CHECK_ID_PREFIXES: &[&str] = &["endpoint:", "network:", "host:"];

/// The source article.
pub const ARTICLE: &str = "https://learn.microsoft.com/microsoft-365/troubleshoot/activation/sign-in-issues";
/// Shown under entries only an administrator can carry out.
pub const FIND_ADMIN: &str = "https://support.microsoft.com/office/how-do-i-find-my-microsoft-365-admin-59b8e361-dbb6-407f-8ac3-a30889e7b99b";

/// "Configure IPv6 in Windows": the prefix policies and `DisabledComponents` (0x20 to
/// prefer IPv4).
const IPV6_PREFER_IPV4: &str =
    "https://learn.microsoft.com/troubleshoot/windows-server/networking/configure-ipv6-in-windows";
/// "IPv6 support in Microsoft 365 services".
const IPV6_M365: &str = "https://learn.microsoft.com/microsoft-365/enterprise/ipv6-support";
const URLS_AND_IPS: &str = "https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges";
const URLS_COMMON: &str = "https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges#microsoft-365-common-and-office-online";
const GCC_HIGH_URLS: &str = Instance::GccHigh.endpoints_page();
const DOD_URLS: &str = Instance::Dod.endpoints_page();
const VIANET_URLS: &str = Instance::China.endpoints_page();
const VIANET_MSOID: &str =
    "https://learn.microsoft.com/microsoft-365/admin/services-in-china/purpose-of-cname";
const MANAGING_ENDPOINTS: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/managing-office-365-endpoints";
const IP_WEB_SERVICE: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-ip-web-service";
const NETWORK_PRINCIPLES: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-network-connectivity-principles";
const INTERMEDIATION: &str = "https://learn.microsoft.com/microsoft-365/enterprise/network-intermediation";
const AZURE_CA_DETAILS: &str =
    "https://learn.microsoft.com/azure/security/fundamentals/azure-certificate-authority-details";
const SERVICE_HEALTH: &str = "https://learn.microsoft.com/microsoft-365/enterprise/view-service-health";
const CERT_CHAINS: &str =
    "https://learn.microsoft.com/microsoft-365/compliance/encryption-office-365-certificate-chains";
const SPLIT_TUNNEL: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-vpn-implement-split-tunnel";
const CONNECTIVITY_TEST: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/office-365-network-mac-perf-onboarding-tool";
const NCSI: &str = "https://learn.microsoft.com/windows-server/networking/ncsi/ncsi-overview";
const WINDOWS_TIME: &str =
    "https://learn.microsoft.com/windows-server/networking/windows-time-service/windows-time-service-tools-and-settings";
const DSREGCMD: &str = "https://learn.microsoft.com/entra/identity/devices/troubleshoot-device-dsregcmd";
const ADAL_WAM: &str =
    "https://learn.microsoft.com/microsoft-365/troubleshoot/administration/disabling-adal-wam-not-recommended";
const AUTH_FAILS: &str =
    "https://learn.microsoft.com/microsoft-365/troubleshoot/authentication/automatic-authentication-fails";
const SARA_SIGN_IN: &str = "https://aka.ms/SaRA-OfficeSignInScenario";
const WIP_APPS: &str = "https://learn.microsoft.com/windows/security/information-protection/windows-information-protection/enlightened-microsoft-apps-and-wip";
const SEAMLESS_SSO: &str = "https://learn.microsoft.com/azure/active-directory/hybrid/how-to-connect-sso";
const INTUNE_DEVICE_MGMT: &str =
    "https://learn.microsoft.com/mem/intune/fundamentals/what-is-device-management";
const TPM_ARTICLE: &str =
    "https://learn.microsoft.com/microsoft-365/troubleshoot/activation/tpm-malfunctioned";
const MAC_KEYCHAIN: &str = "https://support.microsoft.com/office/office-for-mac-repeatedly-requesting-keychain-access-ced5a09c-3099-47cb-9190-e961bf63e240";
const END_OF_SUPPORT: &str = "https://learn.microsoft.com/deployoffice/endofsupport/resources";
const WIN7_SP1: &str = "https://support.microsoft.com/topic/information-about-service-pack-1-for-windows-7-and-for-windows-server-2008-r2-df044624-55b8-3a97-de80-5d99cb689063";
const TLS12_EASY_FIX: &str =
    "https://download.microsoft.com/download/0/6/5/0658B1A7-6D2E-474F-BC2C-D69E5B9E9A68/MicrosoftEasyFix51044.msi";
const CITRIX_KNOWN_ISSUES: &str =
    "https://docs.citrix.com/en-us/citrix-virtual-apps-desktops/whats-new/known-issues.html";

// The article's section headings (the `<summary>` texts), verbatim: entries name the one
// they cover, and a test checks that every heading is covered.
const SEC_MAC: &str = "Office for Mac repeatedly requesting keychain access";
const SEC_OLD_WINDOWS: &str = "Activating Microsoft 365 on Windows 8.1 or earlier";
const SEC_CITRIX: &str = "Citrix Server issues";
const SEC_SIGN_OUT: &str = "Sign out of Office and sign back in";
const SEC_ADAL_WAM: &str =
    "Make sure Azure Active Directory Authentication Library (ADAL) and Web Account Manager (WAM) are enabled";
const SEC_PROXY: &str = "Check whether you're behind a proxy server";
const SEC_FIREWALL: &str = "Check whether you're behind a firewall";
const SEC_CNAME: &str = "Check external DNS for incorrect CNAME records";
const SEC_BROKER: &str = "Check BrokerPlugin process";
const SEC_WIP: &str = "Add Microsoft 365 Apps to the Windows Information Protection (WIP) allowed apps list";
const SEC_VDI: &str = "Make sure Virtual Desktop Infrastructure (VDI) is configured correctly";
const SEC_CREDENTIALS: &str = "Remove Office credentials";
const SEC_PROTECTION: &str = "Enable Office Protection Policy";
const SEC_MDM_MAM: &str =
    "Disable Mobile Device Management (MDM) and Mobile Application Management (MAM) in Microsoft Intune";
const SEC_FEDERATED: &str = "Activate with federated organization credentials";
const SEC_ADDITIONAL: &str = "Additional troubleshooting";

/// The source article's section headings, in article order: the 15 expandable sections
/// plus "Additional troubleshooting".
pub fn article_sections() -> &'static [&'static str] {
    &[
        SEC_MAC,
        SEC_OLD_WINDOWS,
        SEC_CITRIX,
        SEC_SIGN_OUT,
        SEC_ADAL_WAM,
        SEC_PROXY,
        SEC_FIREWALL,
        SEC_CNAME,
        SEC_BROKER,
        SEC_WIP,
        SEC_VDI,
        SEC_CREDENTIALS,
        SEC_PROTECTION,
        SEC_MDM_MAM,
        SEC_FEDERATED,
        SEC_ADDITIONAL,
    ]
}

const fn cmd(label: &'static str, text: &'static str) -> Command {
    Command {
        label,
        shell: Shell::Cmd,
        text,
        admin: false,
    }
}
const fn cmd_admin(label: &'static str, text: &'static str) -> Command {
    Command {
        label,
        shell: Shell::Cmd,
        text,
        admin: true,
    }
}
const fn ps(label: &'static str, text: &'static str) -> Command {
    Command {
        label,
        shell: Shell::PowerShell,
        text,
        admin: false,
    }
}
const fn ps_admin(label: &'static str, text: &'static str) -> Command {
    Command {
        label,
        shell: Shell::PowerShell,
        text,
        admin: true,
    }
}
const fn sh(label: &'static str, text: &'static str) -> Command {
    Command {
        label,
        shell: Shell::Sh,
        text,
        admin: false,
    }
}
const fn sh_admin(label: &'static str, text: &'static str) -> Command {
    Command {
        label,
        shell: Shell::Sh,
        text,
        admin: true,
    }
}

// Commands used by more than one entry.
const WINHTTP_SHOW: Command = cmd(
    "Show the machine-wide (WinHTTP) proxy",
    "netsh winhttp show proxy",
);
const WINHTTP_SET: Command = cmd_admin(
    "Point WinHTTP at the proxy, keeping local names direct (put in your proxy's address)",
    r#"netsh winhttp set proxy proxy-server="proxy.example.com:8080" bypass-list="<local>""#,
);
const DSREG_STATUS: Command = cmd(
    "Show how the device is joined and which work account Windows holds (AzureAdJoined, WorkplaceJoined, AzureAdPrt)",
    "dsregcmd /status",
);
const SHARED_ACTIVATION_QUERY: Command = cmd(
    "Is shared computer activation on? (SharedComputerLicensing = 1)",
    r#"reg query "HKLM\SOFTWARE\Microsoft\Office\ClickToRun\Configuration" /v SharedComputerLicensing"#,
);

/// All entries. Order is the order `remediation list` prints: network causes first, then
/// the machine, in article order.
pub static ALL: &[Remediation] = &[
    // ---- Network causes found by the endpoint probes -------------------------------------
    Remediation {
        id: "dns-failure",
        title: "Name lookups for Microsoft 365 fail",
        summary: "The DNS servers this machine uses return no address for the Microsoft 365 host names (the name \
                  is reported as non-existent, the server fails, or nothing answers). Nothing else can work until \
                  the names resolve.",
        steps: &[
            "Read how the lookups fail: NXDOMAIN means the server claims the name does not exist; SERVFAIL or a \
             timeout means the server itself is broken or unreachable.",
            "Check which DNS servers the machine uses (VPN clients often replace them) and whether they resolve \
             any public name at all.",
            "If only Microsoft names fail, look for a DNS filter, a block list or an internal zone (for example a \
             local copy of microsoftonline.com) that hides the real records.",
            "Look in the hosts file for Microsoft names pointed somewhere else.",
            "Once the server is fixed, flush the client's DNS cache; the lights here turn green on the next sweep.",
        ],
        commands: &[
            ps(
                "List the DNS servers of each adapter",
                "Get-DnsClientServerAddress -AddressFamily IPv4 | Select-Object InterfaceAlias, ServerAddresses",
            ),
            ps("Resolve a sign-in host", "Resolve-DnsName login.microsoftonline.com"),
            cmd_admin("Flush the DNS cache (Windows)", "ipconfig /flushdns"),
            sh("Resolve a sign-in host", "nslookup login.microsoftonline.com"),
            sh("Show the resolvers in use (Linux, systemd-resolved)", "resolvectl status"),
            sh_admin("Flush the DNS cache (macOS)", "sudo dscacheutil -flushcache; sudo killall -HUP mDNSResponder"),
        ],
        links: &[URLS_AND_IPS, NETWORK_PRINCIPLES],
        admin_only: false,
        article_section: None,
        leads_from: &["dns-nxdomain", "dns-servfail", "dns-timeout"],
    },
    Remediation {
        id: "firewall",
        title: "A firewall blocks Microsoft 365 endpoints",
        summary: "Connections to the failing endpoints are dropped (no answer) or rejected before TLS starts. \
                  Sign-in and activation need every endpoint on the article's list, so the firewall has to let \
                  them out.",
        steps: &[
            "Take the list of failing endpoints from this monitor (or from `m365mon check`) to the network \
             administrator.",
            "Have them allow outbound TCP 443 to those hosts, and TCP 80 to crl.microsoft.com and \
             www.microsoft.com for the certificate revocation lists.",
            "Write the rules by host name, or feed them from Microsoft's endpoint web service: the IP ranges \
             change over time, the names do not.",
            "Keep this monitor open while the rule changes: each endpoint turns green on the next sweep.",
        ],
        commands: &[
            ps("Test one endpoint over TCP 443", "Test-NetConnection activation.sls.microsoft.com -Port 443"),
            cmd(
                "Fetch a revocation list over plain HTTP (port 80)",
                "curl.exe -sI http://crl.microsoft.com/pki/crl/products/MicrosoftRootAuthority.crl",
            ),
            sh("Test one endpoint", "curl -sv -o /dev/null https://activation.sls.microsoft.com/"),
            sh(
                "Fetch a revocation list over plain HTTP (port 80)",
                "curl -sI http://crl.microsoft.com/pki/crl/products/MicrosoftRootAuthority.crl",
            ),
        ],
        links: &[ARTICLE, URLS_COMMON, IP_WEB_SERVICE, GCC_HIGH_URLS, DOD_URLS, VIANET_URLS],
        admin_only: true,
        article_section: Some(SEC_FIREWALL),
        leads_from: &["tcp-timeout", "tcp-refused", "tcp-unreachable"],
    },
    Remediation {
        id: "ipv6-path-broken",
        title: "The IPv6 path to Microsoft 365 is broken while IPv4 works",
        summary: "The endpoint's name has IPv6 addresses (AAAA records) that do not answer, while its IPv4 \
                  addresses do. Windows tries IPv6 first when it has an IPv6 address, so Office waits on each \
                  dead IPv6 address before it falls back to IPv4, and sign-in or activation can time out.",
        steps: &[
            "Take the broken IPv6 addresses named in the finding to the network administrator: a firewall rule \
             written for IPv4 only, or a tunnel or VPN that drops IPv6, is the usual cause.",
            "Fix the IPv6 path: allow outbound TCP 443 (and 80 for the revocation lists) to Microsoft 365's \
             IPv6 ranges as well as the IPv4 ones, or repair the tunnel.",
            "Until then, make Windows prefer IPv4 rather than turning IPv6 off (Microsoft advises against \
             disabling it): set DisabledComponents to 0x20 and restart the machine.",
            "Keep this monitor open: the endpoint turns green once both families answer.",
        ],
        commands: &[
            ps(
                "Test one endpoint over IPv6 and over IPv4",
                "Resolve-DnsName login.microsoftonline.com -Type AAAA; Test-NetConnection login.microsoftonline.com -Port 443",
            ),
            cmd_admin(
                "Prefer IPv4 over IPv6 (restart needed)",
                "reg add \"HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip6\\Parameters\" /v DisabledComponents /t REG_DWORD /d 0x20 /f",
            ),
            sh("Test one endpoint over IPv6", "curl -6 -sv -o /dev/null https://login.microsoftonline.com/"),
        ],
        links: &[IPV6_PREFER_IPV4, IPV6_M365, URLS_AND_IPS],
        admin_only: true,
        article_section: None,
        leads_from: &["tcp-timeout", "tcp-refused", "tcp-reset"],
    },
    Remediation {
        id: "activation-blocked",
        title: "The activation and licensing endpoints are blocked",
        summary: "The sign-in endpoints answer, but Office's activation and licensing services do not. The \
                  firewall or proxy lets Microsoft 365 through in general and misses these hosts, which older \
                  allow-lists often leave out.",
        steps: &[
            "Confirm the pattern here: login.microsoftonline.com passes while activation.sls.microsoft.com, \
             ols.officeapps.live.com or officeclient.microsoft.com fail (for a 21Vianet tenant: \
             login.partner.microsoftonline.cn passes, ols.officeapps.partner.office365.cn fails).",
            "Ask the network administrator to add those hosts (TCP 443) to the rule that already allows the \
             sign-in hosts.",
            "Have them search the firewall and proxy logs for these names: a category filter (software \
             downloads, uncategorised sites) is a common culprit.",
            "After the change, open an Office app and activate again; the activation lights here turn green \
             first.",
        ],
        commands: &[
            ps(
                "Test the activation and licensing hosts",
                r#"'activation.sls.microsoft.com','ols.officeapps.live.com','officeclient.microsoft.com' | ForEach-Object { "{0}: {1}" -f $_, (Test-NetConnection $_ -Port 443 -InformationLevel Quiet) }"#,
            ),
            sh(
                "Test the activation and licensing hosts (000 = no answer)",
                r#"for h in activation.sls.microsoft.com ols.officeapps.live.com officeclient.microsoft.com; do curl -s -o /dev/null --max-time 10 -w "$h %{http_code}\n" "https://$h/"; done"#,
            ),
        ],
        links: &[ARTICLE, URLS_COMMON, VIANET_URLS],
        admin_only: true,
        article_section: Some(SEC_FIREWALL),
        leads_from: &[
            "endpoint:activation.sls.microsoft.com",
            "endpoint:ols.officeapps.live.com/olsc",
            "endpoint:officeclient.microsoft.com",
            "endpoint:ols.officeapps.partner.office365.cn",
        ],
    },
    Remediation {
        id: "connection-reset",
        title: "Something on the path cuts the connections",
        summary: "Connections open and are then reset. That is the signature of an intrusion-prevention system, \
                  next-generation firewall or proxy that reads the server name in the TLS greeting and kills \
                  connections its policy does not like.",
        steps: &[
            "Compare the layers: if a plain TCP test succeeds but the HTTPS request is reset, the device decides \
             by server name or content, not by address.",
            "Try the same endpoint from another network (a phone hotspot, for instance). If it works there, the \
             cause is inside your network.",
            "Ask the network or security team to search their IPS, application-control and URL-filter logs for \
             the failing host names at the times this monitor shows.",
            "Have them exempt the Microsoft 365 endpoints from those policies; Microsoft recommends letting this \
             traffic pass without inspection.",
        ],
        commands: &[
            ps("Does TCP itself connect?", "Test-NetConnection login.microsoftonline.com -Port 443"),
            cmd("Watch where the HTTPS request dies", "curl.exe -sv -o NUL https://login.microsoftonline.com/"),
            sh("Watch where the HTTPS request dies", "curl -sv -o /dev/null https://login.microsoftonline.com/"),
        ],
        links: &[ARTICLE, INTERMEDIATION, NETWORK_PRINCIPLES],
        admin_only: true,
        article_section: Some(SEC_FIREWALL),
        leads_from: &["tcp-reset"],
    },
    Remediation {
        id: "tls-untrusted",
        title: "The certificate chain is not trusted on this machine",
        summary: "The certificate presented for a Microsoft 365 host does not lead to a root this machine \
                  trusts. Either a device in the path swaps in its own certificates and its root was never \
                  installed here, or the machine's root store is out of date.",
        steps: &[
            "Read the issuer in the endpoint's detail view. Microsoft 365 chains end in DigiCert Global Root G2, \
             DigiCert Global Root CA, or Microsoft RSA / ECC Root Certificate Authority 2017.",
            "If the issuer names a security product or your own company, the traffic is being inspected: follow \
             the tls-interception entry instead of installing that root.",
            "If the issuer is one of Microsoft's roots, the root store is stale: install pending Windows updates \
             (root certificates arrive with them) and make sure the machine can reach Windows Update.",
            "Check again; the light turns green once the chain verifies.",
        ],
        commands: &[
            ps(
                "Are the Microsoft 365 roots installed?",
                r#"Get-ChildItem Cert:\LocalMachine\Root | Where-Object Subject -Match 'DigiCert Global Root|Microsoft (RSA|ECC) Root Certificate Authority 2017' | Select-Object Subject, NotAfter"#,
            ),
            sh(
                "Show the chain a sign-in host presents (s: subject, i: issuer)",
                "openssl s_client -connect login.microsoftonline.com:443 -servername login.microsoftonline.com \
                 -showcerts </dev/null 2>/dev/null | grep -E '^ *[0-9]+ s:|^ +i:'",
            ),
        ],
        links: &[CERT_CHAINS, INTERMEDIATION],
        admin_only: false,
        article_section: None,
        leads_from: &["tls-untrusted"],
    },
    Remediation {
        id: "tls-interception",
        title: "TLS inspection is decrypting Microsoft 365 traffic",
        summary: "The chain is trusted here but ends in a root Microsoft 365 does not use: a proxy, firewall or \
                  security agent decrypts the traffic and re-signs it. Microsoft asks that Microsoft 365 traffic \
                  bypass such inspection, and sign-in and activation often break under it.",
        steps: &[
            "Note the root named in the finding: it identifies the product doing the inspection (Zscaler, Palo \
             Alto, Fortinet, Netskope, a company CA...).",
            "Ask the security team to exempt Microsoft 365 from TLS inspection: at least the sign-in and \
             activation hosts listed here, ideally every endpoint in the Optimize and Allow categories.",
            "If an agent on the machine does the inspection (an endpoint proxy, an antivirus web shield), exclude \
             the same hosts there.",
            "Do not work around it by trusting more roots: the fix is to stop decrypting this traffic. The \
             finding clears once the chains end in a Microsoft or DigiCert root again.",
        ],
        commands: &[
            ps(
                "Who issued the certificate you receive? (Microsoft or DigiCert = not inspected)",
                r#"$h = 'login.microsoftonline.com'; $c = [Net.Sockets.TcpClient]::new($h, 443); $s = [Net.Security.SslStream]::new($c.GetStream(), $false, { $true }); $s.AuthenticateAsClient($h); $s.RemoteCertificate.Issuer; $c.Close()"#,
            ),
            sh(
                "Who issued the certificate you receive? (Microsoft or DigiCert = not inspected)",
                "openssl s_client -connect login.microsoftonline.com:443 -servername login.microsoftonline.com \
                 </dev/null 2>/dev/null | openssl x509 -noout -issuer",
            ),
        ],
        links: &[INTERMEDIATION, NETWORK_PRINCIPLES, CERT_CHAINS, URLS_AND_IPS],
        admin_only: true,
        article_section: None,
        leads_from: &["tls-intercepted"],
    },
    Remediation {
        id: "tls-expired",
        title: "Certificates look expired or not yet valid",
        summary: "A certificate's validity period does not include the current time as this machine sees it. \
                  Microsoft renews its certificates well in advance, so the usual cause is this machine's clock, \
                  or an inspection device or captive portal presenting an outdated certificate.",
        steps: &[
            "Compare the machine's date, time and time zone with a phone or another reliable clock.",
            "If the clock is wrong, fix time synchronisation (see the clock-skew entry) and check again.",
            "If the clock is right, look at who issued the failing certificate in the detail view: an inspection \
             device or portal with an old certificate needs its owner to renew it or to bypass Microsoft 365.",
        ],
        commands: &[
            ps("Show the local time with its UTC offset", "Get-Date -Format o"),
            cmd_admin("Show when and from where Windows last synchronised time", "w32tm /query /status"),
            sh("Show the time and whether it is synchronised", "date -u; timedatectl status"),
        ],
        links: &[WINDOWS_TIME, CERT_CHAINS],
        admin_only: false,
        article_section: None,
        leads_from: &["tls-expired"],
    },
    Remediation {
        id: "tls-wrong-name",
        title: "The certificate is for a different name",
        summary: "The server that answered presented a certificate that does not cover the Microsoft 365 host \
                  name, so something else is answering in Microsoft's place: a hosts-file or DNS override, a \
                  guest Wi-Fi login page, or a proxy that intercepts the connection.",
        steps: &[
            "Read the certificate subject in the detail view; it often names the device or portal that answered.",
            "Look in the hosts file for Microsoft names and remove entries nobody put there on purpose.",
            "Resolve the failing name and compare the address with what another network returns; an internal DNS \
             zone or filter may redirect it.",
            "On guest or public Wi-Fi, open a browser, complete the network's sign-in page, then check again.",
        ],
        commands: &[
            cmd(
                "Look for Microsoft names in the hosts file",
                r#"findstr /i "microsoft live.com msauth windows.net" %SystemRoot%\System32\drivers\etc\hosts"#,
            ),
            ps("Where does the name point?", "Resolve-DnsName login.microsoftonline.com"),
            sh(
                "Look for Microsoft names in the hosts file",
                r#"grep -iE 'microsoft|live\.com|msauth|windows\.net' /etc/hosts"#,
            ),
        ],
        links: &[URLS_AND_IPS, INTERMEDIATION],
        admin_only: false,
        article_section: None,
        leads_from: &["tls-wrong-name"],
    },
    Remediation {
        id: "tls-handshake",
        title: "The TLS handshake fails",
        summary: "The connection opens but no secure session is agreed. Microsoft 365 needs TLS 1.2 or later: old \
                  Windows versions without TLS 1.2 switched on fail here, and so do middleboxes that reject or \
                  stall modern handshakes.",
        steps: &[
            "Check the Windows version. Windows 7, 8.1, Server 2008 R2 and Server 2012 need TLS 1.2 switched on \
             (see tls12-old-windows) and are no longer supported for Microsoft 365 Apps.",
            "On current Windows, check that no policy or hardening script has disabled TLS 1.2 (the SCHANNEL \
             registry key below; a missing key means the Windows default, which is enabled).",
            "If the machine is fine, test from another network. A handshake that fails only on yours points at a \
             firewall or proxy that blocks or mangles TLS: give the failing hosts to the network team.",
        ],
        commands: &[
            ps("Show the Windows version", "Get-CimInstance Win32_OperatingSystem | Select-Object Caption, Version"),
            cmd(
                "Has TLS 1.2 been configured for clients? (Enabled 1 / DisabledByDefault 0 is good)",
                r#"reg query "HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client""#,
            ),
            cmd(
                "Which protocols WinHTTP uses by default (0x800 = TLS 1.2)",
                r#"reg query "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp" /v DefaultSecureProtocols"#,
            ),
            sh(
                "Try a TLS 1.2 handshake with a sign-in host",
                "openssl s_client -connect login.microsoftonline.com:443 -servername login.microsoftonline.com \
                 -tls1_2 </dev/null",
            ),
        ],
        links: &[ARTICLE, END_OF_SUPPORT],
        admin_only: false,
        article_section: Some(SEC_OLD_WINDOWS),
        leads_from: &["tls-handshake", "tls-timeout"],
    },
    Remediation {
        id: "proxy-auth",
        title: "A proxy demands credentials",
        summary: "A proxy answered HTTP 407: it wants the client to authenticate first. Parts of sign-in and \
                  activation run in the background (WinHTTP, the sign-in broker) and often cannot answer that \
                  challenge, so they fail while the browser works.",
        steps: &[
            "Note which proxy answered (the detail view shows its Via or Server header).",
            "Ask the proxy administrator to let the Microsoft 365 endpoints through without authentication, or to \
             send them direct through the PAC file or bypass list.",
            "Make sure the machine-wide WinHTTP proxy matches the user's proxy, because background components use \
             WinHTTP (see the proxy entry).",
            "Check again: the endpoints should now answer from Microsoft rather than from the proxy.",
        ],
        commands: &[
            WINHTTP_SHOW,
            WINHTTP_SET,
            sh(
                "See the proxy's answer (407 = it wants credentials; put in your proxy's address)",
                "curl -sv -o /dev/null -x http://proxy.example.com:8080 https://login.microsoftonline.com/",
            ),
        ],
        links: &[ARTICLE, URLS_COMMON, MANAGING_ENDPOINTS],
        admin_only: true,
        article_section: Some(SEC_PROXY),
        leads_from: &["http-proxy-auth"],
    },
    Remediation {
        id: "proxy-auth-windows",
        title: "A proxy demands Windows sign-in (Negotiate or NTLM)",
        summary: "A proxy answered HTTP 407 and offers Negotiate (Kerberos) or NTLM: it wants to know which \
                  Windows account is behind each connection. Office and its sign-in components answer that \
                  challenge on their own with the signed-in user's Windows credentials, without a prompt, but only \
                  when that works for this user on this machine: a local or non-domain account, no ticket for the \
                  proxy, or a service running as the machine rather than the user all end in the same 407.",
        steps: &[
            "Ask the proxy administrator to let the Microsoft 365 endpoints through without authentication, or to \
             send them direct through the PAC file or bypass list; that removes the problem for every client and \
             account at once.",
            "If the proxy must authenticate them: check that the user is signed in to Windows with a domain \
             account the proxy accepts, and that the machine can reach a domain controller (the Kerberos ticket \
             list should show one for HTTP/ and the proxy's name after a request through it).",
            "Make sure the proxy is configured by its host name, not an IP address: Kerberos finds the proxy's \
             service by name, and with an address Windows can only fall back to NTLM, which the proxy or a policy \
             may refuse.",
            "Make sure the machine-wide WinHTTP proxy matches the user's proxy, because background components use \
             WinHTTP (see the proxy entry).",
            "Check again: the endpoints should now answer from Microsoft rather than from the proxy.",
        ],
        commands: &[
            cmd(
                "List the signed-in user's Kerberos tickets (look for HTTP/ followed by the proxy's name)",
                "klist",
            ),
            cmd(
                "Show the signed-in user's domain account (an error means a local account)",
                "whoami /upn",
            ),
            WINHTTP_SHOW,
            sh(
                "See which schemes the proxy offers (the Proxy-Authenticate lines; put in your proxy's address)",
                "curl -sv -o /dev/null -x http://proxy.example.com:8080 https://login.microsoftonline.com/ 2>&1 \
                 | grep -i proxy-authenticate",
            ),
        ],
        links: &[ARTICLE, NETWORK_PRINCIPLES, MANAGING_ENDPOINTS],
        admin_only: true,
        article_section: Some(SEC_PROXY),
        leads_from: &["http-proxy-auth", "network:proxy"],
    },
    Remediation {
        id: "proxy-block",
        title: "A proxy or web filter blocks Microsoft 365 endpoints",
        summary: "The request reached a proxy or filter that answered with its own refusal (a 403 or a block \
                  page) instead of passing it on to Microsoft, usually because a URL category or allow-list rule \
                  does not include these hosts.",
        steps: &[
            "Open the detail view: the Server or Via header and the page title name the product that blocked.",
            "Give the network administrator the blocked host names and ask for them to be allowed; Microsoft \
             publishes the complete list, also as a machine-readable feed.",
            "Where possible, let Microsoft 365 traffic skip the proxy altogether through the PAC file or bypass \
             list.",
            "Check again; the lights turn green once the answers come from Microsoft.",
        ],
        commands: &[
            cmd(
                "Show who answers (look for the Server: and Via: lines)",
                "curl.exe -sv -o NUL https://login.microsoftonline.com/",
            ),
            sh(
                "Show who answers",
                "curl -sv -o /dev/null https://login.microsoftonline.com/ 2>&1 | grep -iE '^< (HTTP|server|via)'",
            ),
        ],
        links: &[ARTICLE, URLS_COMMON, MANAGING_ENDPOINTS],
        admin_only: true,
        article_section: Some(SEC_PROXY),
        leads_from: &["http-blocked"],
    },
    Remediation {
        id: "http-timeout",
        title: "Endpoints accept the connection but give no usable answer",
        summary: "TCP and TLS succeed, then no HTTP answer arrives in time, or what arrives is not HTTP. A proxy, \
                  content filter or IPS that holds the request, or a tunnel with a broken MTU, are the usual \
                  causes.",
        steps: &[
            "Check whether a proxy is in use, and try the same URL with and without it to see which path stalls.",
            "If only larger responses stall, suspect the path MTU on VPN or PPPoE links: have the network team \
             check MSS clamping.",
            "Ask the network team to look for the requests in the proxy and IPS logs: a device that queues or \
             scans responses can exceed the client's timeout.",
            "If your side is clean, look at Microsoft 365 service health in the admin center before escalating.",
        ],
        commands: &[
            ps(
                "Time a request to a sign-in host",
                "Measure-Command { Invoke-WebRequest https://login.microsoftonline.com/ -UseBasicParsing -TimeoutSec 20 }",
            ),
            sh(
                "Time a request to a sign-in host",
                "curl -s -o /dev/null --max-time 20 -w 'connect %{time_connect}s tls %{time_appconnect}s \
                 first byte %{time_starttransfer}s\\n' https://login.microsoftonline.com/",
            ),
        ],
        links: &[NETWORK_PRINCIPLES, INTERMEDIATION],
        admin_only: false,
        article_section: None,
        leads_from: &["http-timeout", "http-protocol"],
    },
    Remediation {
        id: "tls-unexpected-ca",
        title: "The certificate comes from a public CA Microsoft 365 does not use",
        summary: "The chain verifies and ends in a public root, but not in one of the roots Microsoft lists for its \
                  services. That is not necessarily inspection: a DNS or hosts-file entry may send the name to \
                  someone else's server, or a cloud proxy may answer with its own public certificate.",
        steps: &[
            "Read the root and the certificate's subject in the detail view: they name who answered.",
            "Resolve the name and compare the address with what another network returns; an internal DNS zone or a \
             hosts-file entry can redirect it.",
            "If a cloud security service answers in Microsoft's place, have its administrator exempt Microsoft 365 \
             from TLS inspection, as Microsoft recommends.",
        ],
        commands: &[sh(
            "Show who issued the certificate you receive",
            "openssl s_client -connect login.microsoftonline.com:443 -servername login.microsoftonline.com \
             </dev/null 2>/dev/null | openssl x509 -noout -issuer -fingerprint -sha256",
        )],
        links: &[AZURE_CA_DETAILS, CERT_CHAINS, INTERMEDIATION],
        admin_only: false,
        article_section: None,
        leads_from: &["tls-unexpected-ca"],
    },
    Remediation {
        id: "http-server-error",
        title: "An endpoint answers with a server error",
        summary: "The connection and TLS work, and the origin answers, but with a server error (5xx) or an \
                  unexpected 401. The path is fine; the service behind the name is not, or something answers in \
                  its place.",
        steps: &[
            "Look at Microsoft 365 service health in the admin center: a 5xx from Microsoft's own front door usually \
             means an incident on their side.",
            "Read the Server header in the detail view: if it is not Microsoft's, something in the path answers in \
             Microsoft's place.",
            "Check again after a few minutes; a passing 503 during maintenance clears by itself.",
        ],
        commands: &[sh(
            "Show the status and who answers",
            "curl -s -o /dev/null -D - https://login.microsoftonline.com/ | grep -iE '^(HTTP|server|via)'",
        )],
        links: &[SERVICE_HEALTH, NETWORK_PRINCIPLES],
        admin_only: false,
        article_section: None,
        leads_from: &["http-server-error"],
    },
    Remediation {
        id: "http-gateway",
        title: "A proxy or gateway could not reach Microsoft 365",
        summary: "A proxy or gateway in the path answered 502 (bad gateway) or 504 (gateway timeout) itself: it \
                  took the request but could not get an answer from Microsoft. The fault is between that device \
                  and Microsoft, not on this machine.",
        steps: &[
            "Read the Via or Server header in the detail view: it names the proxy that answered.",
            "Give the proxy's administrator the failing host names: the proxy's own DNS, firewall or upstream \
             route to Microsoft is what fails.",
            "Where possible, let Microsoft 365 traffic skip the proxy through the PAC file or bypass list, as \
             Microsoft recommends.",
        ],
        commands: &[sh(
            "Show who answers (look for the Via: and Server: lines)",
            "curl -sv -o /dev/null https://login.microsoftonline.com/ 2>&1 | grep -iE '^< (HTTP|server|via)'",
        )],
        links: &[ARTICLE, MANAGING_ENDPOINTS, NETWORK_PRINCIPLES],
        admin_only: true,
        article_section: Some(SEC_PROXY),
        leads_from: &["http-gateway"],
    },
    Remediation {
        id: "proxy",
        title: "Proxy settings need checking",
        summary: "On Windows, Office relies on two proxy settings: the user's (the browser settings, possibly with \
                  a PAC file) and the machine's WinHTTP setting used by background components. When they differ, \
                  or the proxy mishandles Microsoft 365, sign-in works in the browser and fails in Office.",
        steps: &[
            "Find out whether this network needs a proxy at all; if unsure, ask the administrator.",
            "Compare the user's proxy (Settings > Network & internet > Proxy, or the command below) with the \
             WinHTTP proxy that `netsh winhttp show proxy` prints.",
            "If the WinHTTP proxy is wrong or missing, set it from an elevated prompt: copy the user's settings, \
             or name the proxy and a bypass list explicitly.",
            "Make sure the proxy allows the Microsoft 365 endpoints; better still, send them direct with a PAC \
             file or bypass list, as Microsoft recommends.",
            "Check again; the proxy finding clears when both settings agree and the endpoints answer.",
        ],
        commands: &[
            WINHTTP_SHOW,
            ps(
                "Show the user's proxy settings",
                r#"Get-ItemProperty 'HKCU:\Software\Microsoft\Windows\CurrentVersion\Internet Settings' | Select-Object ProxyEnable, ProxyServer, ProxyOverride, AutoConfigURL"#,
            ),
            cmd_admin("Copy the user's proxy settings to WinHTTP", "netsh winhttp import proxy source=ie"),
            WINHTTP_SET,
            cmd_admin("Go back to direct access (only where no proxy is needed)", "netsh winhttp reset proxy"),
            sh("Show the proxy settings (macOS)", "scutil --proxy"),
            sh("Show the proxy variables (Linux)", "env | grep -i _proxy"),
        ],
        links: &[ARTICLE, URLS_COMMON, MANAGING_ENDPOINTS],
        admin_only: false,
        article_section: Some(SEC_PROXY),
        leads_from: &["network:proxy"],
    },
    Remediation {
        id: "msoid-cname",
        title: "A stray MSOID CNAME record breaks activation",
        summary: "The public DNS zone has an msoid CNAME pointing at clientconfig.partner.microsoftonline-p.net.cn. \
                  Only tenants operated by 21Vianet in China need it; anywhere else sign-in reports that the \
                  custom domain isn't in Microsoft's system, and activation fails.",
        steps: &[
            "Query the msoid record of each domain your users sign in with, from outside the company network so \
             that you see the public zone (replace contoso.com below).",
            "If it points at clientconfig.partner.microsoftonline-p.net.cn and your tenant is not operated by \
             21Vianet, delete the record at your DNS host.",
            "Wait for the record's TTL to run out and the change to replicate, flush the DNS cache on affected \
             machines, and activate again.",
        ],
        commands: &[
            cmd("Look up the record", "nslookup -type=CNAME msoid.contoso.com"),
            ps("Look up the record", "Resolve-DnsName msoid.contoso.com -Type CNAME"),
            sh("Look up the record", "dig +short CNAME msoid.contoso.com"),
        ],
        links: &[ARTICLE],
        admin_only: true,
        article_section: Some(SEC_CNAME),
        leads_from: &["network:msoid"],
    },
    Remediation {
        id: "msoid-china",
        title: "A 21Vianet tenant's MSOID record is missing or wrong",
        summary: "Tenants operated by 21Vianet need msoid.<domain> to be a CNAME for \
                  clientconfig.partner.microsoftonline-p.net.cn on every custom domain. Without it Office signs in \
                  through the default worldwide endpoint, which is slower; with any other target it cannot sign in.",
        steps: &[
            "Query the msoid record of each domain your users sign in with, from outside the company network \
             (replace contoso.cn below).",
            "At the DNS host, create the record, or correct it: alias msoid, type CNAME, target \
             clientconfig.partner.microsoftonline-p.net.cn. If the 21Vianet admin center manages the zone, it \
             sets the record itself.",
            "Wait for the change to replicate, flush the DNS cache on affected machines, and sign in again.",
            "If the tenant is not operated by 21Vianet, run this monitor with the right --instance instead: \
             outside that cloud the record must not exist.",
        ],
        commands: &[
            cmd("Look up the record", "nslookup -type=CNAME msoid.contoso.cn"),
            ps("Look up the record", "Resolve-DnsName msoid.contoso.cn -Type CNAME"),
            sh("Look up the record", "dig +short CNAME msoid.contoso.cn"),
        ],
        links: &[VIANET_MSOID, ARTICLE],
        admin_only: true,
        article_section: None,
        leads_from: &["network:msoid"],
    },
    Remediation {
        id: "vpn-full-tunnel",
        title: "The VPN carries Microsoft 365 traffic",
        summary: "All traffic, Microsoft 365 included, goes through the VPN tunnel. Microsoft recommends that the \
                  Optimize endpoints leave the machine directly; hauling them through the VPN and the company's \
                  proxies adds delay and more places where sign-in can break.",
        steps: &[
            "See which adapter carries Microsoft 365 traffic (commands below); a VPN adapter means a full tunnel.",
            "As a quick test, and only where policy allows, disconnect the VPN and sign in again.",
            "Ask the VPN administrator to set up split tunnelling: route the Optimize category (IP ranges from \
             Microsoft's endpoint web service) outside the tunnel.",
            "Check again after the change; the VPN finding clears when those routes leave outside the tunnel.",
        ],
        commands: &[
            ps(
                "Which adapter carries traffic to Exchange Online?",
                r#"$ip = (Resolve-DnsName outlook.office365.com -Type A | Where-Object Type -eq 'A' | Select-Object -First 1).IPAddress; Find-NetRoute -RemoteIPAddress $ip | Select-Object InterfaceAlias, NextHop"#,
            ),
            sh(
                "Which route carries traffic to Exchange Online? (Linux)",
                "ip route get $(getent ahostsv4 outlook.office365.com | awk 'NR==1{print $1}')",
            ),
            sh("Which route carries traffic to Exchange Online? (macOS)", "route -n get outlook.office365.com"),
        ],
        links: &[SPLIT_TUNNEL, IP_WEB_SERVICE, NETWORK_PRINCIPLES],
        admin_only: true,
        article_section: None,
        leads_from: &["network:vpn"],
    },
    Remediation {
        id: "clock-skew",
        title: "The clock is off",
        summary: "This machine's clock differs from real time by minutes or more. Sign-in tokens and certificates \
                  are valid only within a time window, so a wrong clock makes Entra ID reject tokens (invalid \
                  grant) and makes good certificates look expired.",
        steps: &[
            "Compare the clock and time zone with a reliable source; the finding shows the offset measured \
             against the Date headers of Microsoft's servers.",
            "Turn on automatic time and time zone (Settings > Time & language); on domain-joined machines make \
             sure the time service follows the domain.",
            "Force a resync from an elevated prompt and check the offset again.",
            "If the clock drifts again after every restart, the hardware clock (or a virtual machine's host) \
             needs fixing.",
        ],
        commands: &[
            cmd(
                "Measure the offset against a time server",
                "w32tm /stripchart /computer:time.windows.com /samples:3 /dataonly",
            ),
            cmd_admin("Show the time service's state", "w32tm /query /status"),
            cmd_admin("Resynchronise now", "w32tm /resync"),
            sh("Show the time and whether it is synchronised", "date -u; timedatectl status"),
        ],
        links: &[WINDOWS_TIME],
        admin_only: false,
        article_section: None,
        leads_from: &["network:clock"],
    },
    Remediation {
        id: "ncsi",
        title: "Windows thinks there is no internet",
        summary: "Windows' connectivity probe (http://www.msftconnecttest.com/connecttest.txt and a lookup of \
                  dns.msftncsi.com) fails, so Windows reports no internet access. Office trusts that status and \
                  may refuse to sign in or activate, saying it is offline, even though websites work.",
        steps: &[
            "Fetch the probe URL: it must return exactly 'Microsoft Connect Test'. A block page or login page \
             means a proxy or captive portal intercepts it.",
            "Resolve dns.msftncsi.com: the answer should be 131.107.255.255.",
            "Ask the network administrator to allow both hosts (the probe is plain HTTP on port 80) without \
             redirecting or authenticating them.",
            "Check that active probing is not switched off: EnableActiveProbing should be 1, and the Group Policy \
             'Turn off Windows Network Connectivity Status Indicator active tests' should not be enabled.",
        ],
        commands: &[
            ps(
                "Fetch the probe (expect: Microsoft Connect Test)",
                "(Invoke-WebRequest http://www.msftconnecttest.com/connecttest.txt -UseBasicParsing).Content",
            ),
            ps("Resolve the probe name (expect 131.107.255.255)", "Resolve-DnsName dns.msftncsi.com -Type A"),
            cmd(
                "Is active probing on? (expect 0x1)",
                r#"reg query "HKLM\SYSTEM\CurrentControlSet\Services\NlaSvc\Parameters\Internet" /v EnableActiveProbing"#,
            ),
            sh("Fetch the probe", "curl -s http://www.msftconnecttest.com/connecttest.txt"),
        ],
        links: &[NCSI],
        admin_only: false,
        article_section: None,
        leads_from: &["network:ncsi"],
    },
    Remediation {
        id: "generic-connectivity",
        title: "An endpoint cannot be reached (unclassified)",
        summary: "The probe failed in a way m365mon could not sort into one of its causes. The raw error in the \
                  detail view is what the operating system reported.",
        steps: &[
            "Open the check's detail view and read the raw error and the stage it happened in (DNS, TCP, TLS or \
             HTTP).",
            "Repeat the request by hand with the commands below and compare.",
            "Try the same endpoint from another network; if it works there, take the raw error and the times \
             shown here to the network team.",
            "For a second opinion, Microsoft's network connectivity test tool runs a wider set of checks from \
             the same machine.",
        ],
        commands: &[
            ps("Test one endpoint over TCP 443", "Test-NetConnection login.microsoftonline.com -Port 443"),
            cmd("Show every step of one request", "curl.exe -sv -o NUL https://login.microsoftonline.com/"),
            sh("Show every step of one request", "curl -sv -o /dev/null https://login.microsoftonline.com/"),
        ],
        links: &[CONNECTIVITY_TEST, URLS_AND_IPS],
        admin_only: false,
        article_section: None,
        leads_from: &["other"],
    },
    // ---- The machine and the tenant, in article order ------------------------------------
    Remediation {
        id: "mac-keychain",
        title: "Office for Mac keeps asking for keychain access",
        summary: "Repeated keychain prompts when an Office for Mac app starts usually mean the apps are not where \
                  the installer put them (the Applications folder), so macOS does not recognise them as the \
                  owners of their keychain items.",
        steps: &[
            "Quit every Office app.",
            "Check where the apps are: each should sit directly in /Applications, not in a subfolder, on another \
             disk or in Downloads.",
            "Move any stray copy into /Applications (or reinstall Office there) and start the app again.",
            "If the prompts continue, follow Microsoft's keychain article, which lists the keychain items to \
             remove.",
        ],
        commands: &[
            sh("List the Office apps in /Applications", "ls -d /Applications/Microsoft*.app"),
            sh(
                "Find every copy of Word on the disk",
                r#"mdfind 'kMDItemCFBundleIdentifier == "com.microsoft.Word"'"#,
            ),
        ],
        links: &[MAC_KEYCHAIN, ARTICLE],
        admin_only: false,
        article_section: Some(SEC_MAC),
        leads_from: &["host:mac-office-location"],
    },
    Remediation {
        id: "tls12-old-windows",
        title: "TLS 1.2 is not switched on (old Windows)",
        summary: "Activation needs TLS 1.2. Windows 7 SP1, Server 2008 R2 and Server 2012 can use it only after an \
                  update and a settings change; without them every handshake with Microsoft 365 fails. These \
                  systems are also out of support for Microsoft 365 Apps, so plan the upgrade.",
        steps: &[
            "On Windows 7 or Server 2008 R2, make sure Service Pack 1 is installed.",
            "Install Microsoft's Easy Fix 51044 (linked below) to make TLS 1.2 a WinHTTP default, then restart.",
            "Open Internet Options > Advanced, tick 'Use TLS 1.2' if it is not ticked, and apply.",
            "Restart and activate again. If the Easy Fix cannot be used, the registry commands below make the \
             same change by hand (elevated prompt, restart afterwards).",
        ],
        commands: &[
            cmd("Show the Windows version and service pack", r#"systeminfo | findstr /B /C:"OS Name" /C:"OS Version""#),
            cmd("Open Internet Options on the Advanced tab", "control inetcpl.cpl,,6"),
            cmd_admin(
                "Switch TLS 1.2 on for clients (1 of 2)",
                r#"reg add "HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client" /v DisabledByDefault /t REG_DWORD /d 0 /f"#,
            ),
            cmd_admin(
                "Switch TLS 1.2 on for clients (2 of 2)",
                r#"reg add "HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client" /v Enabled /t REG_DWORD /d 1 /f"#,
            ),
            cmd_admin(
                "Let WinHTTP use TLS 1.1 and 1.2 by default (0x200 + 0x800)",
                r#"reg add "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp" /v DefaultSecureProtocols /t REG_DWORD /d 0xA00 /f"#,
            ),
            cmd_admin(
                "The same for 32-bit programs on 64-bit Windows",
                r#"reg add "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp" /v DefaultSecureProtocols /t REG_DWORD /d 0xA00 /f"#,
            ),
        ],
        links: &[ARTICLE, WIN7_SP1, TLS12_EASY_FIX, END_OF_SUPPORT],
        admin_only: false,
        article_section: Some(SEC_OLD_WINDOWS),
        leads_from: &["host:tls12", "host:os-version"],
    },
    Remediation {
        id: "citrix",
        title: "Office published on a Citrix server does not activate",
        summary: "Microsoft 365 Apps launched as a published application from a Citrix server can fail to \
                  activate; Citrix lists this as a known issue on its side.",
        steps: &[
            "Confirm the app runs as a published application on a Citrix server (not inside a published desktop).",
            "Look up your Citrix Virtual Apps and Desktops version on Citrix's known-issues page and apply the fix \
             or update it names.",
            "Make sure the servers use shared computer activation, which multi-user hosts need.",
            "Launch Office from a published desktop on the same server to confirm the published-app path is the \
             problem.",
        ],
        commands: &[SHARED_ACTIVATION_QUERY],
        links: &[ARTICLE, CITRIX_KNOWN_ISSUES],
        admin_only: true,
        article_section: Some(SEC_CITRIX),
        leads_from: &["host:citrix"],
    },
    Remediation {
        id: "sign-out-sign-in",
        title: "Sign out of Office and back in with the work account",
        summary: "Office may hold a stale sign-in, or be signed in with a personal Microsoft account. Microsoft 365 \
                  Apps for business and enterprise activate only with the work or school account the licence is \
                  assigned to.",
        steps: &[
            "Open any Office app (Word, for example) and select your name or picture at the top of the window.",
            "Choose Sign out and confirm.",
            "Choose Sign in and use your work or school address (name@yourcompany), not a personal outlook.com, \
             hotmail.com or live.com account.",
            "Activate again; File > Account shows the result.",
        ],
        commands: &[DSREG_STATUS],
        links: &[ARTICLE, DSREGCMD],
        admin_only: false,
        article_section: Some(SEC_SIGN_OUT),
        leads_from: &["host:office-account"],
    },
    Remediation {
        id: "adal-wam",
        title: "Modern authentication (ADAL/WAM) has been switched off",
        summary: "Registry values under Office's Identity key turn off modern authentication or the Web Account \
                  Manager. Old guides offer them as a sign-in fix; Microsoft says they cause sign-in and \
                  activation failures instead and should be removed.",
        steps: &[
            "List the values (first command). Look for EnableADAL = 0, DisableADALatopWAMOverride = 1 and \
             DisableAADWAM = 1.",
            "Export the key as a backup, then delete whichever of those values exist (no elevation needed: it is \
             your own registry hive).",
            "If the values come back after a policy refresh, a Group Policy or management script sets them: ask \
             your administrator to remove it.",
            "Restart Office (or sign out of Windows and back in) and sign in again.",
        ],
        commands: &[
            cmd("Show Office's identity settings", r#"reg query "HKCU\Software\Microsoft\Office\16.0\Common\Identity""#),
            cmd(
                "Back up the key first",
                r#"reg export "HKCU\Software\Microsoft\Office\16.0\Common\Identity" "%USERPROFILE%\office-identity-backup.reg" /y"#,
            ),
            cmd(
                "Remove EnableADAL",
                r#"reg delete "HKCU\Software\Microsoft\Office\16.0\Common\Identity" /v EnableADAL /f"#,
            ),
            cmd(
                "Remove DisableADALatopWAMOverride",
                r#"reg delete "HKCU\Software\Microsoft\Office\16.0\Common\Identity" /v DisableADALatopWAMOverride /f"#,
            ),
            cmd(
                "Remove DisableAADWAM",
                r#"reg delete "HKCU\Software\Microsoft\Office\16.0\Common\Identity" /v DisableAADWAM /f"#,
            ),
        ],
        links: &[ADAL_WAM, ARTICLE],
        admin_only: false,
        article_section: Some(SEC_ADAL_WAM),
        leads_from: &["host:adal-wam"],
    },
    Remediation {
        id: "brokerplugin-blocked",
        title: "Security software blocks the sign-in broker",
        summary: "Office signs in through the Web Account Manager broker, the app \
                  Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy. Antivirus, endpoint protection, a proxy or a \
                  firewall that blocks that app or its traffic makes Office sign-in fail while browsers work.",
        steps: &[
            "Start a sign-in in Office and check whether Microsoft.AAD.BrokerPlugin.exe appears (command below); \
             it only runs while a sign-in is in progress.",
            "Look in the antivirus or endpoint-protection console for blocks on Microsoft.AAD.BrokerPlugin and \
             ask the security team for an exclusion.",
            "Ask the network team whether a proxy or firewall filters by application, and have it let the broker \
             reach the sign-in endpoints.",
            "As a short test, and only where policy allows, pause the antivirus, disconnect the VPN or bypass the \
             proxy, then sign in again. Switch everything back on afterwards.",
            "Read the broker's event log for error codes; `m365mon explain CODE` decodes them.",
        ],
        commands: &[
            ps(
                "Is the broker app installed and healthy?",
                "Get-AppxPackage Microsoft.AAD.BrokerPlugin | Select-Object Name, Version, Status",
            ),
            ps(
                "Is the broker running right now? (start a sign-in first)",
                "Get-Process Microsoft.AAD.BrokerPlugin -ErrorAction SilentlyContinue",
            ),
            ps(
                "Show the broker's latest events",
                "Get-WinEvent -LogName 'Microsoft-Windows-AAD/Operational' -MaxEvents 20 | Format-List TimeCreated, Id, LevelDisplayName, Message",
            ),
        ],
        links: &[ARTICLE, AUTH_FAILS],
        admin_only: false,
        article_section: Some(SEC_BROKER),
        leads_from: &["host:broker-plugin"],
    },
    Remediation {
        id: "brokerplugin-reset",
        title: "Reset the sign-in broker's cached accounts",
        summary: "If the broker runs but sign-in still fails, its cached account data may be damaged. Clearing the \
                  two TokenBroker account caches makes Windows and Office start the sign-in from scratch.",
        steps: &[
            "Close every Office app, Teams and OneDrive.",
            "Run the first command in PowerShell as the signed-in user (not as an administrator). It copies both \
             caches into a dated TokenBroker-backup folder in your profile and only then empties them; if the \
             copy fails, nothing is deleted. The cmd commands do the same with robocopy.",
            "Restart the device.",
            "Open an Office app and sign in with your work account. If it still fails, run Microsoft's sign-in \
             troubleshooter (SaRA, linked below).",
            "Once sign-in works, delete the backup folder after a few days; if it does not, the backup lets you \
             put the files back.",
        ],
        commands: &[
            ps(
                "Back up, then empty, both TokenBroker account caches",
                r#"$b = "$env:USERPROFILE\TokenBroker-backup-$(Get-Date -Format yyyyMMdd-HHmmss)"; foreach ($p in 'Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy', 'Microsoft.Windows.CloudExperienceHost_cw5n1h2txyewy') { $src = "$env:LOCALAPPDATA\Packages\$p\AC\TokenBroker\Accounts"; if (Test-Path $src) { New-Item -ItemType Directory -Force "$b\$p" | Out-Null; Copy-Item "$src\*" "$b\$p" -Recurse -Force -ErrorAction Stop; Get-ChildItem $src -Force | Remove-Item -Recurse -Force } }; "Backup: $b""#,
            ),
            cmd(
                "Move the broker's cache into a backup folder (copy first, then remove)",
                r#"robocopy "%LOCALAPPDATA%\Packages\Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy\AC\TokenBroker\Accounts" "%USERPROFILE%\TokenBroker-backup\BrokerPlugin" /E /MOV"#,
            ),
            cmd(
                "Move the CloudExperienceHost cache into a backup folder (copy first, then remove)",
                r#"robocopy "%LOCALAPPDATA%\Packages\Microsoft.Windows.CloudExperienceHost_cw5n1h2txyewy\AC\TokenBroker\Accounts" "%USERPROFILE%\TokenBroker-backup\CloudExperienceHost" /E /MOV"#,
            ),
            ps(
                "Re-register the broker app if it is missing",
                r#"if (-not (Get-AppxPackage Microsoft.AAD.BrokerPlugin)) { Add-AppxPackage -Register "$env:windir\SystemApps\Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy\Appxmanifest.xml" -DisableDevelopmentMode -ForceApplicationShutdown }; Get-AppxPackage Microsoft.AAD.BrokerPlugin"#,
            ),
        ],
        links: &[ARTICLE, SARA_SIGN_IN, AUTH_FAILS],
        admin_only: false,
        article_section: Some(SEC_BROKER),
        leads_from: &["host:token-broker-cache"],
    },
    Remediation {
        id: "wip",
        title: "Windows Information Protection blocks Office (0x80070164)",
        summary: "Under a Windows Information Protection (WIP) policy, apps missing from the policy's allowed list \
                  cannot use protected work resources, and activation fails with error 0x80070164.",
        steps: &[
            "Confirm that the device receives a WIP policy (from Intune or Configuration Manager) and that \
             activation reports 0x80070164.",
            "In the WIP policy, add the Microsoft 365 Apps to the allowed apps; Microsoft's list of enlightened \
             apps gives the exact names to use.",
            "Sync the device so the updated policy arrives, then activate again.",
        ],
        commands: &[],
        links: &[WIP_APPS, ARTICLE],
        admin_only: true,
        article_section: Some(SEC_WIP),
        leads_from: &["host:wip"],
    },
    Remediation {
        id: "vdi-sso",
        title: "Virtual desktops need non-roamed credentials and single sign-on",
        summary: "On virtual desktops, Office's sign-in data must not be copied from machine to machine by profile \
                  roaming, and non-persistent desktops (reset at every logoff) need single sign-on so that users \
                  are signed in silently in each new session.",
        steps: &[
            "Check the profile solution: leave Office's credentials and tokens out of generic profile roaming. If \
             Office data must follow the user, use a container built for it (the FSLogix Office container; its \
             IncludeOfficeActivation setting decides whether activation data travels).",
            "For non-persistent desktops, set up Seamless Single Sign-On for Microsoft Entra ID so each session \
             signs in without a prompt.",
            "On multi-user hosts, make sure shared computer activation is on.",
            "Sign a test user in on two fresh sessions and confirm Office activates without asking.",
        ],
        commands: &[
            SHARED_ACTIVATION_QUERY,
            cmd(
                "Does FSLogix keep Office activation data? (IncludeOfficeActivation)",
                r#"reg query "HKLM\SOFTWARE\Policies\FSLogix\ODFC" /v IncludeOfficeActivation"#,
            ),
        ],
        links: &[SEAMLESS_SSO, ARTICLE],
        admin_only: true,
        article_section: Some(SEC_VDI),
        leads_from: &["host:vdi"],
    },
    Remediation {
        id: "office-credentials",
        title: "Remove stored Office credentials",
        summary: "Credential Manager can hold old Office tokens (entries named MicrosoftOffice16...), and extra work \
                  accounts connected to Windows can make Office pick the wrong identity. Removing them forces a \
                  clean sign-in.",
        steps: &[
            "Close all Office apps.",
            "Open Credential Manager > Windows Credentials and remove every entry whose name starts with \
             MicrosoftOffice16.",
            "Open Settings > Accounts > Access work or school. If the account you use for Office is listed but is \
             not the account you sign in to Windows with, select it and choose Disconnect.",
            "Restart the device, open an Office app and sign in again.",
        ],
        commands: &[
            cmd("List the stored Office credentials", "cmdkey /list | findstr /i MicrosoftOffice16"),
            cmd("Open Credential Manager", "control /name Microsoft.CredentialManager"),
            cmd("Open Access work or school", "start ms-settings:workplace"),
        ],
        links: &[ARTICLE],
        admin_only: false,
        article_section: Some(SEC_CREDENTIALS),
        leads_from: &["host:office-credentials"],
    },
    Remediation {
        id: "protection-policy",
        title: "Turn on the data-protection policy Office needs",
        summary: "Office protects its tokens with Windows' data-protection keys. Setting ProtectionPolicy = 1 for \
                  the data-protection provider lets Windows back those keys up locally instead of depending on a \
                  domain controller; without it Office can fail to protect or read its tokens.",
        steps: &[
            "In an Office app, select your name at the top, sign out, and close the app.",
            "In Settings > Accounts > Access work or school, disconnect the account you use for Office.",
            "From an elevated Command Prompt, add the ProtectionPolicy value (command below).",
            "Restart, sign in to Office again and activate.",
        ],
        commands: &[
            cmd(
                "Is the value already set?",
                r#"reg query "HKLM\SOFTWARE\Microsoft\Cryptography\Protect\Providers\df9d8cd0-1501-11d1-8c7a-00c04fc297eb" /v ProtectionPolicy"#,
            ),
            cmd_admin(
                "Set ProtectionPolicy = 1",
                r#"reg add "HKLM\SOFTWARE\Microsoft\Cryptography\Protect\Providers\df9d8cd0-1501-11d1-8c7a-00c04fc297eb" /v ProtectionPolicy /t REG_DWORD /d 1 /f"#,
            ),
        ],
        links: &[ARTICLE],
        admin_only: false,
        article_section: Some(SEC_PROTECTION),
        leads_from: &["host:protection-policy"],
    },
    Remediation {
        id: "mdm-mam",
        title: "Intune MDM/MAM enrolment interferes with sign-in",
        summary: "Automatic enrolment into Intune device management (MDM) or app protection (MAM) can run as part \
                  of the Office sign-in. When that enrolment fails or conflicts with how the device is managed, \
                  sign-in and activation fail with it.",
        steps: &[
            "Check how the device is joined and whether it is enrolled (dsregcmd /status: join state and MDM \
             URLs).",
            "An Intune administrator opens the Windows automatic-enrolment settings in the Intune admin center \
             and sets the MDM and MAM user scopes to None, preferably for a test group first: this stops \
             automatic enrolment for everyone in scope.",
            "Sign in to Office on the affected device and activate.",
            "If that helps, fix the enrolment problem and restore the scopes rather than leaving them at None.",
        ],
        commands: &[DSREG_STATUS],
        links: &[ARTICLE, INTUNE_DEVICE_MGMT, DSREGCMD],
        admin_only: true,
        article_section: Some(SEC_MDM_MAM),
        leads_from: &["host:device-join"],
    },
    Remediation {
        id: "federated-autoorgidgetkey",
        title: "Federated sign-in: set Autoorgidgetkey",
        summary: "For organisations that sign in through a federation service (AD FS or another identity \
                  provider), the article's fix for failed activation is a per-user registry value, \
                  Autoorgidgetkey = 1, under Office's Common key.",
        steps: &[
            "Close all Office apps.",
            "Add the value with the command below (no elevation needed: it is your own registry hive).",
            "Restart the device and activate again.",
            "If it does not help, delete the value again in Registry Editor so it does not linger.",
        ],
        commands: &[
            cmd("Is the value already set?", r#"reg query "HKCU\Software\Microsoft\Office\16.0\Common" /v Autoorgidgetkey"#),
            cmd(
                "Set Autoorgidgetkey = 1",
                r#"reg add "HKCU\Software\Microsoft\Office\16.0\Common" /v Autoorgidgetkey /t REG_DWORD /d 1 /f"#,
            ),
        ],
        links: &[ARTICLE],
        admin_only: false,
        article_section: Some(SEC_FEDERATED),
        leads_from: &["host:federated-sign-in"],
    },
    Remediation {
        id: "tpm-malfunction",
        title: "\"Trusted Platform Module malfunctioned\" during activation",
        summary: "Windows keeps the keys that protect your work account's tokens in the TPM. When those keys are \
                  lost or unreadable (after a TPM reset, a firmware update or a motherboard change), Office shows \
                  this error and cannot activate. Microsoft covers it in a separate article.",
        steps: &[
            "Work through the related entries first: office-credentials, brokerplugin-reset and \
             protection-policy.",
            "Check the TPM's state from an elevated PowerShell (Get-Tpm): it should be present, ready and enabled.",
            "Before anyone clears or resets the TPM, save the BitLocker recovery key (command below): clearing the \
             TPM without it can lock you out of the disk.",
            "Follow Microsoft's 'Trusted Platform Module malfunctioned' article for the remaining steps.",
        ],
        commands: &[
            ps_admin("Show the TPM's state", "Get-Tpm"),
            cmd_admin("Show the BitLocker recovery key of drive C: (store it safely)", "manage-bde -protectors -get C:"),
            cmd("Open the TPM management console", "tpm.msc"),
        ],
        links: &[TPM_ARTICLE, ARTICLE],
        admin_only: false,
        article_section: Some(SEC_ADDITIONAL),
        leads_from: &["host:tpm"],
    },
    Remediation {
        id: "conditional-access",
        title: "A Conditional Access policy blocks the sign-in",
        summary: "Entra ID accepted the credentials, but a Conditional Access policy requires something this \
                  sign-in does not meet: a compliant or hybrid-joined device, a trusted location or multifactor \
                  authentication, for example.",
        steps: &[
            "Note the time of the failure and the user's sign-in address.",
            "A tenant administrator opens the Entra sign-in logs for that user and time; the Conditional Access \
             tab names the policy and the condition that was not met.",
            "Check the device's join state (dsregcmd /status: AzureAdJoined, DomainJoined, WorkplaceJoined, \
             AzureAdPrt).",
            "Meet the condition (register or enrol the device, complete MFA) or have the administrator adjust the \
             policy.",
        ],
        commands: &[DSREG_STATUS],
        links: &[DSREGCMD, ARTICLE],
        admin_only: true,
        article_section: None,
        leads_from: &["host:device-join"],
    },
];

/// The entry with this id.
pub fn get(id: &str) -> Option<&'static Remediation> {
    ALL.iter().find(|r| r.id == id)
}

/// Looks up an id that the code itself names (a finding, `for_cause`, `explain`); every
/// such id is tested to exist, so a miss is a programming error caught by the tests, and
/// falls back to the generic entry rather than panicking in front of a user.
fn entry(id: &str) -> &'static Remediation {
    get(id).or_else(|| get("generic-connectivity")).unwrap_or(&ALL[0])
}

/// The entry for a probe's failure cause.
pub fn for_cause(cause: Cause) -> &'static Remediation {
    entry(cause_entry_id(cause))
}

fn cause_entry_id(cause: Cause) -> &'static str {
    use Cause::*;
    match cause {
        DnsNxdomain | DnsServfail | DnsTimeout => "dns-failure",
        TcpRefused | TcpTimeout | TcpUnreachable => "firewall",
        TcpReset => "connection-reset",
        TlsUntrusted => "tls-untrusted",
        TlsWrongName => "tls-wrong-name",
        TlsExpired => "tls-expired",
        TlsIntercepted => "tls-interception",
        TlsUnexpectedCa => "tls-unexpected-ca",
        TlsHandshake | TlsTimeout => "tls-handshake",
        HttpProxyAuth => "proxy-auth",
        HttpBlocked => "proxy-block",
        HttpTimeout | HttpProtocol => "http-timeout",
        HttpServerError => "http-server-error",
        HttpGateway => "http-gateway",
        Other => "generic-connectivity",
    }
}

/// Whether `s` is something that can lead to an entry: a cause name or a check id with a
/// documented prefix and something after it.
pub fn is_known_lead(s: &str) -> bool {
    Cause::ALL.iter().any(|c| c.as_str() == s)
        || CHECK_ID_PREFIXES
            .iter()
            .any(|p| s.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// `m365mon remediation list`: one block per entry with what leads to it.
pub fn list_text() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} remediation entries (source article: {ARTICLE})",
        ALL.len()
    );
    for r in ALL {
        let admin = if r.admin_only { "  [admin only]" } else { "" };
        let _ = writeln!(out, "\n{}  {}{admin}", r.id, r.title);
        let _ = writeln!(out, "  from:    {}", r.leads_from.join(", "));
        if let Some(section) = r.article_section {
            let _ = writeln!(out, "  article: {section}");
        }
    }
    out
}

/// `m365mon remediation list --format json`: every entry in full.
pub fn list_json() -> Value {
    json!({
        "schema": "m365mon.remediation/1",
        "article": ARTICLE,
        "article_sections": article_sections(),
        "count": ALL.len(),
        "entries": ALL,
    })
}

/// One entry as a plain-text block (for `check`, `explain` and text reports).
pub fn render_text(r: &Remediation) -> String {
    let mut out = String::new();
    let admin = if r.admin_only {
        " (needs a Microsoft 365 or network administrator)"
    } else {
        ""
    };
    let _ = writeln!(out, "{}{admin}", r.title);
    let _ = writeln!(out, "  {}", r.summary);
    if !r.steps.is_empty() {
        let _ = writeln!(out, "  Steps:");
        for (n, step) in r.steps.iter().enumerate() {
            let _ = writeln!(out, "    {}. {}", n + 1, step);
        }
    }
    if !r.commands.is_empty() {
        let _ = writeln!(out, "  Commands:");
        for c in r.commands {
            let elevated = if c.admin { " (admin)" } else { "" };
            let _ = writeln!(out, "    [{}] {}{elevated}", c.shell.label(), c.label);
            let _ = writeln!(out, "      {}", c.text);
        }
    }
    let _ = writeln!(out, "  More:");
    for l in r.links {
        let _ = writeln!(out, "    {l}");
    }
    if r.admin_only {
        let _ = writeln!(out, "    Not an administrator? Find yours: {FIND_ADMIN}");
    }
    if let Some(section) = r.article_section {
        let _ = writeln!(out, "  Article section: \"{section}\"");
    }
    out
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
            assert!(
                !r.title.is_empty() && !r.summary.is_empty(),
                "{} lacks a title or summary",
                r.id
            );
            assert!(!r.steps.is_empty(), "{} has no steps", r.id);
            assert!(!r.links.is_empty(), "{} has no link", r.id);
            assert!(r.links.iter().all(|l| l.starts_with("https://")), "{}", r.id);
            assert!(!r.leads_from.is_empty(), "{}: nothing leads here", r.id);
            for c in r.commands {
                assert!(
                    !c.label.is_empty() && !c.text.trim().is_empty(),
                    "{}: empty command",
                    r.id
                );
            }
        }
    }

    #[test]
    fn every_id_the_code_relies_on_exists() {
        let required = [
            "dns-failure",
            "firewall",
            "activation-blocked",
            "connection-reset",
            "tls-untrusted",
            "tls-interception",
            "tls-expired",
            "tls-wrong-name",
            "tls-handshake",
            "proxy-auth",
            "proxy-auth-windows",
            "proxy-block",
            "http-timeout",
            "proxy",
            "msoid-cname",
            "vpn-full-tunnel",
            "clock-skew",
            "ncsi",
            "generic-connectivity",
            "mac-keychain",
            "tls12-old-windows",
            "citrix",
            "sign-out-sign-in",
            "adal-wam",
            "brokerplugin-blocked",
            "brokerplugin-reset",
            "wip",
            "vdi-sso",
            "office-credentials",
            "protection-policy",
            "mdm-mam",
            "federated-autoorgidgetkey",
            "tpm-malfunction",
        ];
        for id in required {
            assert!(get(id).is_some(), "missing entry {id}");
        }
        assert!(get("no-such-entry").is_none());
    }

    #[test]
    fn every_cause_maps_to_an_entry_that_names_it() {
        for c in Cause::ALL {
            let id = cause_entry_id(c);
            assert!(get(id).is_some(), "{c:?} maps to missing entry {id}");
            let r = for_cause(c);
            assert_eq!(r.id, id);
            assert!(
                r.leads_from.contains(&c.as_str()),
                "{} does not list {} in leads_from",
                r.id,
                c.as_str()
            );
        }
        assert_eq!(for_cause(Cause::Other).id, "generic-connectivity");
        assert_eq!(for_cause(Cause::TlsIntercepted).id, "tls-interception");
    }

    #[test]
    fn leads_are_causes_or_documented_check_ids() {
        for r in ALL {
            for lead in r.leads_from {
                assert!(
                    is_known_lead(lead),
                    "{}: {lead:?} is neither a cause nor a documented check id",
                    r.id
                );
            }
        }
        assert!(!is_known_lead("tcp-lost"));
        assert!(!is_known_lead("host:"));
        assert!(!is_known_lead("dns:whatever"));
    }

    #[test]
    fn endpoint_leads_are_real_builtin_check_ids() {
        let ids: Vec<String> = Instance::ALL
            .iter()
            .flat_map(|&i| crate::catalog::Catalog::for_cloud(i).endpoints)
            .map(|e| e.check_id())
            .collect();
        for r in ALL {
            for lead in r.leads_from.iter().filter(|l| l.starts_with("endpoint:")) {
                assert!(
                    ids.iter().any(|i| i == lead),
                    "{}: {lead} is not a built-in endpoint check",
                    r.id
                );
            }
        }
    }

    #[test]
    fn every_article_section_is_covered() {
        let sections = article_sections();
        assert_eq!(
            sections.len(),
            16,
            "15 expandable sections plus Additional troubleshooting"
        );
        for s in sections {
            assert!(
                ALL.iter().any(|r| r.article_section == Some(s)),
                "no entry covers {s:?}"
            );
        }
        for r in ALL {
            if let Some(s) = r.article_section {
                assert!(
                    sections.contains(&s),
                    "{}: {s:?} is not a heading of the article",
                    r.id
                );
            }
        }
    }

    #[test]
    fn entries_covering_an_article_section_link_the_article() {
        for r in ALL.iter().filter(|r| r.article_section.is_some()) {
            assert!(
                r.links.contains(&ARTICLE),
                "{} covers an article section but does not link it",
                r.id
            );
        }
    }

    /// File deletions must copy first, in the same command; registry deletions need an
    /// export earlier in the same entry. Technicians paste these on users' machines.
    #[test]
    fn nothing_is_deleted_without_a_backup() {
        let deletes = ["Remove-Item", "del ", "rd ", "rmdir", "rm ", "/MOV"];
        let copies = ["Copy-Item", "robocopy", "xcopy", "cp "];
        for r in ALL {
            for (i, c) in r.commands.iter().enumerate() {
                if let Some(d) = deletes.iter().filter_map(|d| c.text.find(d)).min() {
                    let copied_first = copies.iter().filter_map(|k| c.text.find(k)).any(|k| k < d);
                    assert!(
                        copied_first,
                        "{}: {:?} deletes files without copying them first",
                        r.id, c.label
                    );
                }
                if c.text.starts_with("reg delete") {
                    let exported = r.commands[..i].iter().any(|e| e.text.starts_with("reg export"));
                    assert!(
                        exported,
                        "{}: {:?} deletes a registry value without an export first",
                        r.id, c.label
                    );
                }
            }
        }
    }

    #[test]
    fn broker_reset_backs_up_both_caches() {
        let r = get("brokerplugin-reset").unwrap();
        let all: String = r.commands.iter().map(|c| c.text).collect::<Vec<_>>().join("\n");
        for pkg in [
            "Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy",
            "Microsoft.Windows.CloudExperienceHost_cw5n1h2txyewy",
        ] {
            assert!(all.contains(pkg), "the reset does not cover {pkg}");
        }
        assert!(all.contains(r"AC\TokenBroker\Accounts"));
        assert!(r.links.contains(&"https://aka.ms/SaRA-OfficeSignInScenario"));
    }

    #[test]
    fn registry_fixes_use_the_documented_values() {
        let text = |id: &str| {
            get(id)
                .unwrap()
                .commands
                .iter()
                .map(|c| c.text)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let adal = text("adal-wam");
        for v in ["EnableADAL", "DisableADALatopWAMOverride", "DisableAADWAM"] {
            assert!(
                adal.contains(&format!("/v {v} /f")),
                "adal-wam does not remove {v}"
            );
        }
        let protection = get("protection-policy").unwrap();
        let set = protection
            .commands
            .iter()
            .find(|c| c.text.starts_with("reg add"))
            .unwrap();
        assert!(
            set.admin
                && set.text.contains("df9d8cd0-1501-11d1-8c7a-00c04fc297eb")
                && set.text.contains("/d 1")
        );
        assert!(text("federated-autoorgidgetkey").contains(r"HKCU\Software\Microsoft\Office\16.0\Common"));
        assert!(text("office-credentials").contains("cmdkey /list"));
        assert!(text("proxy").contains("netsh winhttp set proxy"));
        assert!(text("proxy-auth").contains("netsh winhttp set proxy"));
    }

    #[test]
    fn admin_commands_are_marked() {
        // Writes under HKLM and netsh winhttp changes need elevation.
        for r in ALL {
            for c in r.commands {
                let machine_write = (c.text.starts_with("reg add") || c.text.starts_with("reg delete"))
                    && c.text.contains("HKLM");
                let winhttp_change = c.text.starts_with("netsh winhttp") && !c.text.contains(" show ");
                if machine_write || winhttp_change {
                    assert!(
                        c.admin,
                        "{}: {:?} needs elevation but is not marked admin",
                        r.id, c.label
                    );
                }
            }
        }
    }

    #[test]
    fn list_outputs_cover_every_entry() {
        let text = list_text();
        let json = list_json();
        assert_eq!(json["count"], ALL.len());
        let entries = json["entries"].as_array().unwrap();
        assert_eq!(entries.len(), ALL.len());
        for (r, e) in ALL.iter().zip(entries) {
            assert!(
                text.contains(&format!("\n{}  {}", r.id, r.title)),
                "{} missing from the text list",
                r.id
            );
            assert_eq!(e["id"], r.id);
            assert_eq!(e["steps"].as_array().unwrap().len(), r.steps.len());
            assert_eq!(e["admin_only"], r.admin_only);
        }
        assert!(text.contains("article: Check whether you're behind a firewall"));
        assert_eq!(entries[0]["commands"][0]["shell"], "powershell");
    }

    #[test]
    fn render_text_numbers_steps_and_marks_admin_commands() {
        let r = get("tls12-old-windows").unwrap();
        let text = render_text(r);
        assert!(text.starts_with(r.title));
        assert!(text.contains(&format!("    1. {}", r.steps[0])));
        assert!(text.contains(&format!("    {}. {}", r.steps.len(), r.steps[r.steps.len() - 1])));
        assert!(text.contains("[cmd] Switch TLS 1.2 on for clients (1 of 2) (admin)"));
        assert!(text.contains("[cmd] Open Internet Options on the Advanced tab\n"));
        assert!(text.contains(ARTICLE));
        assert!(!text.contains(FIND_ADMIN), "not an admin-only entry");
        assert!(render_text(get("firewall").unwrap()).contains(FIND_ADMIN));
    }
}
