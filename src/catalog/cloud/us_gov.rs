//! US Government GCC High and DoD, from Microsoft's published lists, endpoint data version
//! 2023073100, service area "Microsoft 365 Common and Office Online":
//!
//! - GCC High: "Microsoft 365 U.S. Government GCC High endpoints"
//!   (<https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-gcc-high-endpoints>);
//! - DoD: "Microsoft 365 U.S. Government DoD endpoints"
//!   (<https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-dod-endpoints>).
//!
//! Both sign in at `login.microsoftonline.us` (set 13, Allow) with the worldwide sign-in hosts
//! still required beside it (set 14, Default). Office activation and licensing use the
//! worldwide Office hosts: sets 18 and 19 in GCC High, 17 and 18 in DoD (Default). The two
//! lists differ here only in those set numbers. `aadcdn.msauth.net` stands for the
//! `*.msauth.net` entry of set 14: it is the name under it that the activation article lists
//! for the sign-in pages' assets.

use super::Role::{Activation, Other, SignIn};
use super::{crl, https, Entry, CRL_FILES};
use crate::catalog::Scheme;

pub(super) const GCC_HIGH_PAGE: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-gcc-high-endpoints";
pub(super) const DOD_PAGE: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-dod-endpoints";

pub(super) const GCC_HIGH: &[Entry] = &entries(18, 19);
pub(super) const DOD: &[Entry] = &entries(17, 18);

/// The list, given the ids of the two Office endpoint sets: `office` (activation, licensing,
/// content delivery) and `config` (Office discovery and client configuration).
const fn entries(office: u32, config: u32) -> [Entry; 18] {
    let gov = Some((13, "Allow"));
    let sign_in = Some((14, "Default"));
    let office = Some((office, "Default"));
    let config = Some((config, "Default"));
    [
        https(
            "login.microsoftonline.us",
            SignIn,
            gov,
            "Entra ID sign-in (US Government)",
        ),
        https("login.microsoftonline.com", SignIn, sign_in, "Entra ID sign-in"),
        https("login.windows.net", SignIn, sign_in, "Entra ID sign-in"),
        https(
            "login-us.microsoftonline.com",
            SignIn,
            sign_in,
            "Entra ID sign-in",
        ),
        https(
            "clientconfig.microsoftonline-p.net",
            Other,
            sign_in,
            "Sign-in client configuration",
        ),
        https("aadcdn.msauth.net", Other, sign_in, "Sign-in page assets"),
        Entry {
            host: "ols.officeapps.live.com",
            scheme: Scheme::Https,
            path: "/olsc",
            role: Activation,
            set: office,
            notes: "Office licensing service",
        },
        https(
            "activation.sls.microsoft.com",
            Activation,
            office,
            "Product activation",
        ),
        https(
            "officeclient.microsoft.com",
            Activation,
            config,
            "Office client configuration and licensing",
        ),
        https(
            "officecdn.microsoft.com",
            Other,
            office,
            "Office content delivery",
        ),
        https(
            "office15client.microsoft.com",
            Other,
            office,
            "Office client services",
        ),
        https("go.microsoft.com", Other, office, "Microsoft redirection service"),
        https(
            "odc.officeapps.live.com",
            Other,
            config,
            "Office discovery and configuration",
        ),
        https(
            "cdn.odc.officeapps.live.com",
            Other,
            config,
            "Office discovery content",
        ),
        https("crl.microsoft.com", Other, office, "Certificate services"),
        crl(CRL_FILES[0], office),
        crl(CRL_FILES[1], office),
        crl(CRL_FILES[2], office),
    ]
}
