//! Worldwide (and GCC): the firewall list of "Sign in issues when activating Microsoft 365
//! Apps" (<https://learn.microsoft.com/microsoft-365/troubleshoot/activation/sign-in-issues>),
//! section "Check whether you're behind a firewall". All HTTPS on 443 except the four
//! certificate revocation list files, which Office fetches over plain HTTP on port 80.

use super::Role::{Activation, Other, SignIn};
use super::{crl, https, Entry, CRL_FILES};
use crate::catalog::Scheme;

/// Microsoft's page of worldwide endpoints (GCC uses the same).
pub(super) const PAGE: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges";

pub(super) const ENTRIES: &[Entry] = &[
    https("officecdn.microsoft.com", Other, None, "Office content delivery"),
    Entry {
        host: "ols.officeapps.live.com",
        scheme: Scheme::Https,
        path: "/olsc",
        role: Activation,
        set: None,
        notes: "Office licensing service",
    },
    https(
        "activation.sls.microsoft.com",
        Activation,
        None,
        "Product activation",
    ),
    https(
        "odc.officeapps.live.com",
        Other,
        None,
        "Office discovery and configuration",
    ),
    crl(CRL_FILES[0], None),
    crl(CRL_FILES[1], None),
    crl(CRL_FILES[2], None),
    Entry {
        host: "www.microsoft.com",
        scheme: Scheme::Http,
        path: "/pki/crl/products/MicrosoftProductSecureCommunicationsPCA.crl",
        role: Other,
        set: None,
        notes: "Certificate revocation list",
    },
    https("go.microsoft.com", Other, None, "Microsoft redirection service"),
    https(
        "office15client.microsoft.com",
        Other,
        None,
        "Office client services",
    ),
    https("login.windows.net", SignIn, None, "Entra ID sign-in"),
    https("login.microsoft.com", SignIn, None, "Entra ID sign-in"),
    https("login.microsoftonline.com", SignIn, None, "Entra ID sign-in"),
    https("crl.microsoft.com", Other, None, "Certificate services"),
    https(
        "cdn.odc.officeapps.live.com",
        Other,
        None,
        "Office discovery content",
    ),
    https(
        "ajax.aspnetcdn.com",
        Other,
        None,
        "Script content used by sign-in pages",
    ),
    https(
        "officeclient.microsoft.com",
        Activation,
        None,
        "Office client configuration and licensing",
    ),
    https("aadcdn.msauth.net", Other, None, "Sign-in page assets"),
    https("aadcdn.msauthimages.net", Other, None, "Sign-in page branding"),
    https(
        "enterpriseregistration.windows.net",
        Other,
        None,
        "Device registration",
    ),
];
