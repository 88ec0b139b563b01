//! The firewall list of "Sign in issues when activating Microsoft 365 Apps"
//! (<https://learn.microsoft.com/microsoft-365/troubleshoot/activation/sign-in-issues>),
//! section "Check whether you're behind a firewall". All HTTPS on 443 except the four
//! certificate revocation list files, which Office fetches over plain HTTP on port 80.

use super::{Endpoint, Scheme};

/// (host, scheme, path, notes)
const ARTICLE_LIST: [(&str, Scheme, &str, &str); 20] = [
    (
        "officecdn.microsoft.com",
        Scheme::Https,
        "/",
        "Office content delivery",
    ),
    (
        "ols.officeapps.live.com",
        Scheme::Https,
        "/olsc",
        "Office licensing service",
    ),
    (
        "activation.sls.microsoft.com",
        Scheme::Https,
        "/",
        "Product activation",
    ),
    (
        "odc.officeapps.live.com",
        Scheme::Https,
        "/",
        "Office discovery and configuration",
    ),
    (
        "crl.microsoft.com",
        Scheme::Http,
        "/pki/crl/products/MicrosoftProductSecureServer.crl",
        "Certificate revocation list",
    ),
    (
        "crl.microsoft.com",
        Scheme::Http,
        "/pki/crl/products/MicrosoftRootAuthority.crl",
        "Certificate revocation list",
    ),
    (
        "crl.microsoft.com",
        Scheme::Http,
        "/pki/crl/products/MicrosoftProductSecureCommunicationsPCA.crl",
        "Certificate revocation list",
    ),
    (
        "www.microsoft.com",
        Scheme::Http,
        "/pki/crl/products/MicrosoftProductSecureCommunicationsPCA.crl",
        "Certificate revocation list",
    ),
    (
        "go.microsoft.com",
        Scheme::Https,
        "/",
        "Microsoft redirection service",
    ),
    (
        "office15client.microsoft.com",
        Scheme::Https,
        "/",
        "Office client services",
    ),
    ("login.windows.net", Scheme::Https, "/", "Entra ID sign-in"),
    ("login.microsoft.com", Scheme::Https, "/", "Entra ID sign-in"),
    (
        "login.microsoftonline.com",
        Scheme::Https,
        "/",
        "Entra ID sign-in",
    ),
    ("crl.microsoft.com", Scheme::Https, "/", "Certificate services"),
    (
        "cdn.odc.officeapps.live.com",
        Scheme::Https,
        "/",
        "Office discovery content",
    ),
    (
        "ajax.aspnetcdn.com",
        Scheme::Https,
        "/",
        "Script content used by sign-in pages",
    ),
    (
        "officeclient.microsoft.com",
        Scheme::Https,
        "/",
        "Office client configuration and licensing",
    ),
    ("aadcdn.msauth.net", Scheme::Https, "/", "Sign-in page assets"),
    (
        "aadcdn.msauthimages.net",
        Scheme::Https,
        "/",
        "Sign-in page branding",
    ),
    (
        "enterpriseregistration.windows.net",
        Scheme::Https,
        "/",
        "Device registration",
    ),
];

pub(super) fn endpoints() -> Vec<Endpoint> {
    ARTICLE_LIST
        .iter()
        .map(|&(host, scheme, path, notes)| {
            let mut e = Endpoint::new(host, scheme, path);
            e.notes = Some(notes.to_string());
            e
        })
        .collect()
}
