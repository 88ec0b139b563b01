//! Operated by 21Vianet: from "URLs and IP address ranges for Microsoft 365 operated by
//! 21Vianet" (<https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges-21vianet>),
//! endpoint data version 2023062900, service area "Microsoft 365 Common and Office Online".
//!
//! Sign-in is at `login.partner.microsoftonline.cn` (set 17, Allow), with
//! `login.microsoftonline.com` still listed (set 13, Default). Office licenses at
//! `ols.officeapps.partner.office365.cn`; activation and the other Office hosts it shares
//! with the worldwide cloud are in the same set (11, Allow).

use super::Role::{Activation, Other, SignIn};
use super::{crl, https, Entry, CRL_FILES};

pub(super) const PAGE: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges-21vianet";

const SIGN_IN: Option<(u32, &str)> = Some((17, "Allow"));
const SIGN_IN_WORLDWIDE: Option<(u32, &str)> = Some((13, "Default"));
const OFFICE: Option<(u32, &str)> = Some((11, "Allow"));

pub(super) const ENTRIES: &[Entry] = &[
    https(
        "login.partner.microsoftonline.cn",
        SignIn,
        SIGN_IN,
        "Entra ID sign-in (21Vianet)",
    ),
    https(
        "login.microsoftonline.com",
        SignIn,
        SIGN_IN_WORLDWIDE,
        "Entra ID sign-in",
    ),
    https(
        "ols.officeapps.partner.office365.cn",
        Activation,
        OFFICE,
        "Office licensing service (21Vianet)",
    ),
    https(
        "activation.sls.microsoft.com",
        Activation,
        OFFICE,
        "Product activation",
    ),
    https(
        "officecdn.microsoft.com",
        Other,
        OFFICE,
        "Office content delivery",
    ),
    https(
        "office15client.microsoft.com",
        Other,
        OFFICE,
        "Office client services",
    ),
    https(
        "odc.officeapps.live.com",
        Other,
        OFFICE,
        "Office discovery and configuration",
    ),
    https("crl.microsoft.com", Other, OFFICE, "Certificate services"),
    crl(CRL_FILES[0], OFFICE),
    crl(CRL_FILES[1], OFFICE),
    crl(CRL_FILES[2], OFFICE),
];
