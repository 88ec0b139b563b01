//! Sign-in and activation error codes explained (`m365mon explain CODE`).
//!
//! Office, the sign-in broker and the `Microsoft-Windows-AAD/Operational` log show bare
//! hex codes. This module turns one into what it means, which checks to look at and which
//! remediation entry applies. Three sources, in this order:
//!
//! 1. a table of codes seen during sign-in and activation (facts.md section 7, plus two
//!    TPM key errors from winerror.h);
//! 2. `0x8007xxxx` (a Windows error wrapped in an HRESULT, a documented layout) and bare
//!    numbers 12001..=12199: the Windows error is looked up in a table of WinHTTP/WinINet
//!    and Winsock errors;
//! 3. `0xCAA8xxxx` (a WinHTTP/WinINet error in the low 16 bits) and `0xCAA3xxxx` (an HTTP
//!    status in the low 16 bits): these layouts come from an unofficial copy of the
//!    broker's header, so the result is marked [`Confidence::Likely`].
//!
//! Anything else is unknown ([`explain`] returns `None`): a guess would send a technician
//! the wrong way.

use std::fmt::Write as _;

use serde::Serialize;

use crate::diagnosis::remediation;

/// How sure the meaning is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Listed by Microsoft, or decoded with a layout Microsoft documents.
    Documented,
    /// Decoded from the unofficial 0xCAA8/0xCAA3 layout.
    Likely,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Documented => "documented",
            Confidence::Likely => "likely",
        }
    }
}

/// What a code means and where to look next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub code: u32,
    /// The code as Windows prints it, e.g. `0xCAA82EE2`.
    pub hex: String,
    /// A few words, e.g. "Request timed out".
    pub title: String,
    /// What it means for sign-in and activation.
    pub meaning: String,
    pub confidence: Confidence,
    /// Where the meaning comes from (the table, or how the code was decoded).
    pub basis: String,
    /// Checks and causes to look at, in the vocabulary of `remediation` (`tcp-timeout`,
    /// `network:proxy`, `endpoint:...`).
    pub checks: Vec<&'static str>,
    /// The remediation entry to follow, if one applies.
    pub remediation: Option<&'static str>,
}

/// Parses a code as a technician types it: hex with or without `0x` in any case, or a
/// decimal number (negative values are signed HRESULTs, as .NET and some logs print them).
///
/// A string of exactly eight decimal digits is read as hex, because that is how Office
/// and Windows print codes ("error code 80070164"); write other decimals with fewer or
/// more digits, or prefix hex with `0x` to be explicit.
pub fn parse_code(input: &str) -> Result<u32, String> {
    let s = input.trim();
    let bad = || {
        format!(
            "{input:?} is not an error code: write it as hex (0xCAA82EE2 or CAA82EE2) or as a decimal number"
        )
    };
    if s.is_empty() {
        return Err(
            "no error code given: write it as hex (0xCAA82EE2 or CAA82EE2) or as a decimal number".into(),
        );
    }
    let too_big =
        || format!("{input:?} does not fit in 32 bits; sign-in and activation codes are 8 hex digits");
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return parse_hex(hex).ok_or_else(bad)?.ok_or_else(too_big);
    }
    if let Some(neg) = s.strip_prefix('-') {
        if neg.is_empty() || !neg.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let v: i64 = neg.parse().map_err(|_| too_big())?;
        return i32::try_from(-v).map(|v| v as u32).map_err(|_| too_big());
    }
    let all_digits = s.bytes().all(|b| b.is_ascii_digit());
    if all_digits && s.len() != 8 {
        return s
            .parse::<u64>()
            .ok()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(too_big);
    }
    parse_hex(s).ok_or_else(bad)?.ok_or_else(too_big)
}

/// `None` when not hex digits at all, `Some(None)` when too large.
fn parse_hex(s: &str) -> Option<Option<u32>> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digits = s.trim_start_matches('0');
    if digits.len() > 8 {
        return Some(None);
    }
    Some(Some(if digits.is_empty() {
        0
    } else {
        u32::from_str_radix(digits, 16).ok()?
    }))
}

/// One code with a known meaning.
struct Known {
    code: u32,
    title: &'static str,
    meaning: &'static str,
    checks: &'static [&'static str],
    remediation: Option<&'static str>,
}

const ACTIVATION_ENDPOINTS: &[&str] = &[
    "endpoint:activation.sls.microsoft.com",
    "endpoint:ols.officeapps.live.com/olsc",
    "endpoint:officeclient.microsoft.com",
];

/// Codes seen during sign-in and activation (facts.md section 7), plus the TPM key errors
/// behind "Trusted Platform Module malfunctioned".
const KNOWN: &[Known] = &[
    Known {
        code: 0xCAA7_0004,
        title: "Server or proxy not found",
        meaning: "The broker could not reach the server, or the proxy it was told to use. Most often the proxy \
                  setting names a proxy that does not exist or cannot be reached from here (a stale WinHTTP proxy, \
                  or a PAC file naming an internal proxy while off the company network).",
        checks: &["network:proxy", "dns-nxdomain", "dns-timeout"],
        remediation: Some("proxy"),
    },
    Known {
        code: 0xCAA7_0007,
        title: "Connection interrupted during the download",
        meaning: "The connection dropped while a response was being received: a proxy, firewall or IPS cut it, \
                  or the network (Wi-Fi, VPN) is unstable.",
        checks: &["tcp-reset", "http-timeout", "network:vpn"],
        remediation: Some("connection-reset"),
    },
    Known {
        code: 0xCAA8_0000,
        title: "Activation service cannot be reached",
        meaning: "Office could not reach its activation service right now. If this persists, the activation and \
                  licensing endpoints are usually blocked while sign-in works.",
        checks: ACTIVATION_ENDPOINTS,
        remediation: Some("activation-blocked"),
    },
    Known {
        code: 0xCAA2_0003,
        title: "Invalid grant",
        meaning: "Entra ID refused the token the device presented. The usual causes are a wrong clock, which \
                  makes the token look expired or not yet valid, and a federated sign-in (AD FS or another \
                  identity provider) issuing something Entra ID does not accept.",
        checks: &["network:clock", "host:federated-sign-in"],
        remediation: Some("clock-skew"),
    },
    Known {
        code: 0xCAA2_0004,
        title: "Blocked by Conditional Access",
        meaning: "A Conditional Access policy in the tenant requires something this sign-in does not meet \
                  (a compliant or hybrid-joined device, a trusted location, MFA). The tenant's sign-in logs name \
                  the policy.",
        checks: &["host:device-join"],
        remediation: Some("conditional-access"),
    },
    Known {
        code: 0x8007_0164,
        title: "Blocked by Windows Information Protection",
        meaning: "A Windows Information Protection policy does not allow Office, so activation cannot use \
                  protected work resources. Office must be on the policy's allowed apps list.",
        checks: &["host:wip"],
        remediation: Some("wip"),
    },
    Known {
        code: 0x8009_0016,
        title: "Keyset does not exist (NTE_BAD_KEYSET)",
        meaning: "The key that protects the account's tokens is gone or unreadable, typically after the TPM was \
                  reset or the motherboard changed. Office reports it as \"Trusted Platform Module \
                  malfunctioned\".",
        checks: &["host:tpm", "host:token-broker-cache"],
        remediation: Some("tpm-malfunction"),
    },
    Known {
        code: 0x8009_0030,
        title: "Key device not ready (NTE_DEVICE_NOT_READY)",
        meaning: "The TPM that holds the account's keys did not respond; Windows and Office usually report it as \
                  a Trusted Platform Module problem.",
        checks: &["host:tpm"],
        remediation: Some("tpm-malfunction"),
    },
];

/// A Windows network error (WinHTTP/WinINet 12xxx or Winsock 10xxx/11xxx).
struct WinError {
    number: u16,
    title: &'static str,
    name: &'static str,
    meaning: &'static str,
    checks: &'static [&'static str],
    remediation: Option<&'static str>,
}

const DNS_CAUSES: &[&str] = &["dns-nxdomain", "dns-servfail", "dns-timeout", "network:proxy"];
const TLS_TRUST: &[&str] = &["tls-intercepted", "tls-untrusted", "tls-expired", "network:clock"];

/// WinHTTP and WinINet share most numbers in 12001..=12199; where they differ (12175) the
/// WinHTTP meaning is used, because that is what the broker's codes carry (facts.md).
const WIN_ERRORS: &[WinError] = &[
    WinError {
        number: 12002,
        title: "Request timed out",
        name: "ERROR_WINHTTP_TIMEOUT",
        meaning:
            "The request timed out: packets are dropped on the way (firewall) or a proxy holds the request.",
        checks: &["tcp-timeout", "tls-timeout", "http-timeout", "network:proxy"],
        remediation: Some("firewall"),
    },
    WinError {
        number: 12007,
        title: "Server name not resolved",
        name: "ERROR_WINHTTP_NAME_NOT_RESOLVED",
        meaning:
            "The server name could not be resolved: DNS does not answer for it (or, behind a proxy, the \
                  proxy's own name does not resolve).",
        checks: DNS_CAUSES,
        remediation: Some("dns-failure"),
    },
    WinError {
        number: 12029,
        title: "Cannot connect",
        name: "ERROR_WINHTTP_CANNOT_CONNECT",
        meaning:
            "The connection to the server (or the proxy) could not be made: a firewall blocks it, or the \
                  configured proxy is not there.",
        checks: &["tcp-timeout", "tcp-refused", "network:proxy"],
        remediation: Some("firewall"),
    },
    WinError {
        number: 12030,
        title: "Connection aborted",
        name: "ERROR_WINHTTP_CONNECTION_ERROR",
        meaning:
            "The connection was aborted or reset after it opened: typically a proxy, firewall or IPS cutting \
                  it.",
        checks: &["tcp-reset", "tls-handshake"],
        remediation: Some("connection-reset"),
    },
    WinError {
        number: 12031,
        title: "Connection reset",
        name: "ERROR_INTERNET_CONNECTION_RESET",
        meaning: "The connection was reset by the other end or by a device in the path.",
        checks: &["tcp-reset"],
        remediation: Some("connection-reset"),
    },
    WinError {
        number: 12037,
        title: "Certificate date invalid",
        name: "ERROR_WINHTTP_SECURE_CERT_DATE_INVALID",
        meaning:
            "A certificate is expired or not yet valid as this machine sees the time: usually the clock, \
                  or an inspection device with an old certificate.",
        checks: &["tls-expired", "network:clock"],
        remediation: Some("tls-expired"),
    },
    WinError {
        number: 12038,
        title: "Certificate is for another name",
        name: "ERROR_WINHTTP_SECURE_CERT_CN_INVALID",
        meaning:
            "The certificate is for another name: something else answers in Microsoft's place (hosts file, \
                  DNS override, captive portal, proxy).",
        checks: &["tls-wrong-name"],
        remediation: Some("tls-wrong-name"),
    },
    WinError {
        number: 12045,
        title: "Certificate issuer not trusted",
        name: "ERROR_WINHTTP_SECURE_INVALID_CA",
        meaning:
            "The certificate chain ends in a root this machine does not trust: TLS inspection whose root is \
                  not installed, or an outdated root store.",
        checks: &["tls-untrusted", "tls-intercepted"],
        remediation: Some("tls-untrusted"),
    },
    WinError {
        number: 12057,
        title: "Revocation check failed",
        name: "ERROR_WINHTTP_SECURE_CERT_REV_FAILED",
        meaning: "The certificate's revocation could not be checked: the certificate revocation lists \
                  (crl.microsoft.com, plain HTTP on port 80) cannot be fetched.",
        checks: &[
            "endpoint:crl.microsoft.com",
            "endpoint:crl.microsoft.com/pki/crl/products/MicrosoftRootAuthority.crl",
            "tcp-timeout",
        ],
        remediation: Some("firewall"),
    },
    WinError {
        number: 12152,
        title: "Invalid server response",
        name: "ERROR_WINHTTP_INVALID_SERVER_RESPONSE",
        meaning:
            "The answer was not valid HTTP: a device in the path answered instead of the server, or mangled \
                  the response.",
        checks: &["http-protocol", "network:proxy"],
        remediation: Some("http-timeout"),
    },
    WinError {
        number: 12157,
        title: "Secure channel error",
        name: "ERROR_WINHTTP_SECURE_CHANNEL_ERROR",
        meaning:
            "The secure channel could not be set up: TLS 1.2 is unavailable on this system, or a device in \
                  the path interferes with the handshake.",
        checks: &["tls-handshake", "host:tls12"],
        remediation: Some("tls-handshake"),
    },
    WinError {
        number: 12163,
        title: "Internet disconnected",
        name: "ERROR_INTERNET_DISCONNECTED",
        meaning: "Windows reports the internet connection as lost, so the request was not even attempted.",
        checks: &["network:ncsi"],
        remediation: Some("ncsi"),
    },
    WinError {
        number: 12166,
        title: "PAC script error",
        name: "ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT",
        meaning: "The proxy auto-configuration (PAC) script failed to run.",
        checks: &["network:proxy"],
        remediation: Some("proxy"),
    },
    WinError {
        number: 12167,
        title: "PAC file download failed",
        name: "ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT",
        meaning: "The proxy auto-configuration (PAC) file could not be downloaded.",
        checks: &["network:proxy"],
        remediation: Some("proxy"),
    },
    WinError {
        number: 12169,
        title: "Invalid certificate",
        name: "ERROR_WINHTTP_SECURE_INVALID_CERT",
        meaning: "The server's certificate is invalid: it was replaced or damaged on the way.",
        checks: &["tls-untrusted", "tls-intercepted"],
        remediation: Some("tls-untrusted"),
    },
    WinError {
        number: 12170,
        title: "Certificate revoked",
        name: "ERROR_WINHTTP_SECURE_CERT_REVOKED",
        meaning:
            "The certificate presented has been revoked: whoever presented it is not the genuine service.",
        checks: &["tls-intercepted", "tls-untrusted"],
        remediation: Some("tls-interception"),
    },
    WinError {
        number: 12175,
        title: "Certificate not validated",
        name: "ERROR_WINHTTP_SECURE_FAILURE",
        meaning:
            "The server's certificate could not be validated: a wrong clock, or TLS inspection presenting \
                  its own certificate.",
        checks: TLS_TRUST,
        remediation: Some("tls-interception"),
    },
    WinError {
        number: 12178,
        title: "No proxy found for the URL",
        name: "ERROR_WINHTTP_AUTO_PROXY_SERVICE_ERROR",
        meaning: "No proxy could be determined for the URL: the automatic proxy configuration failed.",
        checks: &["network:proxy"],
        remediation: Some("proxy"),
    },
    WinError {
        number: 12179,
        title: "Certificate has the wrong usage",
        name: "ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE",
        meaning:
            "The certificate is not meant for a server: typically an inspection device signing with the \
                  wrong kind of certificate.",
        checks: &["tls-intercepted"],
        remediation: Some("tls-interception"),
    },
    WinError {
        number: 12180,
        title: "Proxy auto-detection failed",
        name: "ERROR_WINHTTP_AUTODETECTION_FAILED",
        meaning: "Proxy auto-detection (WPAD) found no PAC file location.",
        checks: &["network:proxy"],
        remediation: Some("proxy"),
    },
    WinError {
        number: 10051,
        title: "Network unreachable",
        name: "WSAENETUNREACH",
        meaning: "The network is unreachable: no route to the server (VPN or adapter down).",
        checks: &["tcp-timeout", "network:vpn"],
        remediation: Some("generic-connectivity"),
    },
    WinError {
        number: 10054,
        title: "Connection reset",
        name: "WSAECONNRESET",
        meaning: "The connection was reset by the other end or by a device in the path.",
        checks: &["tcp-reset"],
        remediation: Some("connection-reset"),
    },
    WinError {
        number: 10060,
        title: "Connection timed out",
        name: "WSAETIMEDOUT",
        meaning: "The connection attempt timed out: a firewall drops the packets.",
        checks: &["tcp-timeout"],
        remediation: Some("firewall"),
    },
    WinError {
        number: 10061,
        title: "Connection refused",
        name: "WSAECONNREFUSED",
        meaning: "The connection was refused: nothing listens there, or a firewall rejects it.",
        checks: &["tcp-refused"],
        remediation: Some("firewall"),
    },
    WinError {
        number: 10065,
        title: "Host unreachable",
        name: "WSAEHOSTUNREACH",
        meaning: "The host is unreachable: no route to it.",
        checks: &["tcp-timeout", "network:vpn"],
        remediation: Some("generic-connectivity"),
    },
    WinError {
        number: 11001,
        title: "Host not found",
        name: "WSAHOST_NOT_FOUND",
        meaning: "The host name was not found in DNS.",
        checks: DNS_CAUSES,
        remediation: Some("dns-failure"),
    },
];

const UNOFFICIAL: &str = "the layout comes from an unofficial copy of the broker's header";

fn win_error(number: u32) -> Option<&'static WinError> {
    WIN_ERRORS.iter().find(|w| u32::from(w.number) == number)
}

/// Explains a code, or `None` when m365mon does not know it.
pub fn explain(code: u32) -> Option<Explanation> {
    let hex = format!("0x{code:08X}");
    if let Some(k) = KNOWN.iter().find(|k| k.code == code) {
        return Some(Explanation {
            code,
            hex,
            title: k.title.into(),
            meaning: k.meaning.into(),
            confidence: Confidence::Documented,
            basis: "listed among the codes seen during Microsoft 365 sign-in and activation".into(),
            checks: k.checks.to_vec(),
            remediation: k.remediation,
        });
    }
    let (family, low) = (code >> 16, code & 0xFFFF);
    let decoded = |w: &WinError, confidence, basis: String| {
        Some(from_win_error(code, hex.clone(), w, confidence, basis))
    };
    match family {
        // HRESULT_FROM_WIN32: a Windows error in the low 16 bits.
        0x8007 => {
            let w = win_error(low)?;
            let basis = format!(
                "decoded: 0x8007 wraps a Windows error in an HRESULT; 0x{low:04X} = {low} = {}",
                w.name
            );
            decoded(w, Confidence::Documented, basis)
        }
        // The broker's network family: WinHTTP/WinINet errors only.
        0xCAA8 => {
            let w = win_error(low).filter(|w| is_winhttp(u32::from(w.number)))?;
            let basis = format!(
                "decoded from the code's layout, 0xCAA8 carrying a WinHTTP/WinINet error: 0x{low:04X} = {low} = {}; \
                 {UNOFFICIAL}",
                w.name
            );
            decoded(w, Confidence::Likely, basis)
        }
        0xCAA3 => http_status(code, hex.clone(), low as u16),
        // A bare WinHTTP/WinINet error number, as dsregcmd and some logs print it.
        0 if is_winhttp(low) => {
            let w = win_error(low)?;
            decoded(
                w,
                Confidence::Documented,
                format!("a WinHTTP/WinINet error number: {}", w.name),
            )
        }
        _ => None,
    }
}

/// The WinHTTP/WinINet error range.
fn is_winhttp(number: u32) -> bool {
    (12001..12200).contains(&number)
}

fn from_win_error(
    code: u32,
    hex: String,
    w: &WinError,
    confidence: Confidence,
    basis: String,
) -> Explanation {
    Explanation {
        code,
        hex,
        title: format!("{} ({})", w.title, w.name),
        meaning: w.meaning.into(),
        confidence,
        basis,
        checks: w.checks.to_vec(),
        remediation: w.remediation,
    }
}

/// 0xCAA3xxxx: the low 16 bits are the HTTP status the broker received.
fn http_status(code: u32, hex: String, status: u16) -> Option<Explanation> {
    if !(100..=599).contains(&status) {
        return None;
    }
    let phrase = reason_phrase(status);
    let (meaning, checks, remediation): (String, &'static [&'static str], Option<&'static str>) = match status {
        407 => (
            "A proxy asked for credentials (407) and the broker could not answer the challenge.".into(),
            &["http-proxy-auth", "network:proxy"],
            Some("proxy-auth"),
        ),
        403 => (
            "The request was refused (403); when a proxy or web filter sends it, a rule blocks the endpoint."
                .into(),
            &["http-blocked", "network:proxy"],
            Some("proxy-block"),
        ),
        401 => (
            "The service did not accept the sign-in (401): the cached sign-in is stale or belongs to the wrong \
             account."
                .into(),
            &["host:office-account", "host:office-credentials"],
            Some("sign-out-sign-in"),
        ),
        408 => ("The server gave up waiting for the request (408).".into(), &["http-timeout"], Some("http-timeout")),
        502 | 504 => (
            format!(
                "A gateway or proxy could not get an answer from the server ({status} {phrase}): the proxy's own \
                 route to Microsoft 365 fails."
            ),
            &["network:proxy", "http-timeout"],
            Some("proxy"),
        ),
        511 => (
            "The network wants you to sign in first (511): a captive portal holds the traffic.".into(),
            &["network:ncsi", "tls-wrong-name"],
            Some("ncsi"),
        ),
        429 => (
            "Too many requests (429): the service throttles this client; wait and try again.".into(),
            &[],
            None,
        ),
        500..=599 => (
            format!(
                "The service answered {status} {phrase}: a problem on the server side. Check Microsoft 365 \
                 service health before changing anything locally."
            ),
            &[],
            None,
        ),
        _ => (format!("The broker received HTTP {status} {phrase}."), &[], None),
    };
    Some(Explanation {
        code,
        hex,
        title: format!("HTTP {status} {phrase}"),
        meaning,
        confidence: Confidence::Likely,
        basis: format!(
            "decoded from the code's layout, 0xCAA3 carrying an HTTP status: 0x{status:04X} = {status}; {UNOFFICIAL}"
        ),
        checks: checks.to_vec(),
        remediation,
    })
}

/// The standard reason phrase of an HTTP status (RFC 9110 and registered extensions).
fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => match status / 100 {
            1 => "(informational)",
            2 => "(success)",
            3 => "(redirection)",
            4 => "(client error)",
            _ => "(server error)",
        },
    }
}

/// The explanation as plain text, followed by the remediation entry when there is one.
pub fn render_text(e: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ({}): {}", e.hex, e.code, e.title);
    let _ = writeln!(out, "  {}", e.meaning);
    let _ = writeln!(out, "  Confidence: {} ({})", e.confidence.as_str(), e.basis);
    if !e.checks.is_empty() {
        let _ = writeln!(out, "  Look at: {}", e.checks.join(", "));
    }
    match e.remediation.and_then(remediation::get) {
        Some(r) => {
            let _ = writeln!(out, "\nWhat to do ({}):", r.id);
            out.push_str(&remediation::render_text(r));
        }
        None => {
            let _ = writeln!(
                out,
                "  No local fix applies; run `m365mon check` to see what else fails."
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code in facts.md section 7 (the 0xCAA3xxxx family by its example, 407).
    const FACTS_CODES: &[u32] = &[
        0xCAA70004, 0xCAA70007, 0xCAA80000, 0xCAA82EE2, 0xCAA82EE7, 0xCAA82EFD, 0xCAA82EFE, 0xCAA82F8F,
        0xCAA82F86, 0xCAA82F87, 0xCAA30197, 0xCAA20003, 0xCAA20004, 0x80070164, 0x80072EE2, 0x80072EFD,
        0x80072F8F,
    ];

    fn ex(code: u32) -> Explanation {
        explain(code).unwrap_or_else(|| panic!("0x{code:08X} is not explained"))
    }

    #[test]
    fn every_facts_code_explains_with_valid_checks_and_remediation() {
        for &code in FACTS_CODES {
            let e = ex(code);
            assert_eq!(e.code, code);
            assert_eq!(e.hex, format!("0x{code:08X}"));
            assert!(!e.title.is_empty() && !e.meaning.is_empty(), "{}", e.hex);
            assert!(!e.checks.is_empty(), "{}: nothing to look at", e.hex);
            for c in &e.checks {
                assert!(
                    remediation::is_known_lead(c),
                    "{}: {c:?} is not a cause or check id",
                    e.hex
                );
            }
            let rem = e
                .remediation
                .unwrap_or_else(|| panic!("{}: no remediation", e.hex));
            assert!(
                remediation::get(rem).is_some(),
                "{}: unknown remediation {rem}",
                e.hex
            );
        }
    }

    #[test]
    fn every_table_entry_points_at_real_checks_and_entries() {
        let codes = KNOWN
            .iter()
            .map(|k| k.code)
            .chain(WIN_ERRORS.iter().map(|w| 0x8007_0000 | u32::from(w.number)));
        for code in codes {
            let e = ex(code);
            assert!(
                e.checks.iter().all(|c| remediation::is_known_lead(c)),
                "{}",
                e.hex
            );
            assert!(
                e.remediation.is_some_and(|r| remediation::get(r).is_some()),
                "{}",
                e.hex
            );
        }
        for (i, w) in WIN_ERRORS.iter().enumerate() {
            assert!(
                WIN_ERRORS[..i].iter().all(|o| o.number != w.number),
                "{} listed twice",
                w.number
            );
        }
    }

    #[test]
    fn facts_meanings_decode_to_the_right_fix() {
        let rem = |code| ex(code).remediation.unwrap();
        assert_eq!(rem(0xCAA82EE7), "dns-failure", "12007 = name not resolved");
        assert_eq!(rem(0xCAA82EFD), "firewall", "12029 = cannot connect");
        assert_eq!(rem(0xCAA82EFE), "connection-reset", "12030 = connection aborted");
        assert_eq!(rem(0xCAA82F86), "proxy", "12166 = PAC script error");
        assert_eq!(rem(0xCAA82F87), "proxy", "12167 = PAC download failed");
        assert_eq!(rem(0xCAA82F8F), "tls-interception", "12175 = secure failure");
        assert_eq!(rem(0xCAA30197), "proxy-auth", "407");
        assert_eq!(rem(0xCAA70004), "proxy");
        assert_eq!(rem(0xCAA80000), "activation-blocked");
        assert_eq!(rem(0x80070164), "wip");
        assert_eq!(rem(0xCAA20003), "clock-skew");
        assert_eq!(ex(0xCAA82EE2).title, "Request timed out (ERROR_WINHTTP_TIMEOUT)");
        assert!(ex(0x80072EFD).title.contains("ERROR_WINHTTP_CANNOT_CONNECT"));
        assert!(ex(0x80072F8F).title.contains("ERROR_WINHTTP_SECURE_FAILURE"));
        assert_eq!(ex(0x80090016).remediation, Some("tpm-malfunction"));
    }

    #[test]
    fn confidence_follows_the_source_of_the_layout() {
        for code in [0xCAA82EE2, 0xCAA82F8F, 0xCAA30197, 0xCAA301F7] {
            let e = ex(code);
            assert_eq!(e.confidence, Confidence::Likely, "{}", e.hex);
            assert!(e.basis.contains("unofficial"), "{}", e.hex);
        }
        for code in [0xCAA70004, 0x80070164, 0x80072EE2, 12002] {
            assert_eq!(ex(code).confidence, Confidence::Documented, "0x{code:08X}");
        }
    }

    #[test]
    fn http_family_decodes_any_status_with_its_phrase() {
        assert_eq!(
            ex(0xCAA30000 | 407).title,
            "HTTP 407 Proxy Authentication Required"
        );
        assert_eq!(ex(0xCAA30000 | 404).title, "HTTP 404 Not Found");
        assert_eq!(ex(0xCAA30000 | 503).title, "HTTP 503 Service Unavailable");
        assert_eq!(ex(0xCAA30000 | 599).title, "HTTP 599 (server error)");
        assert_eq!(ex(0xCAA30000 | 403).remediation, Some("proxy-block"));
        assert_eq!(ex(0xCAA30000 | 503).remediation, None);
        for status in 100..=599u32 {
            assert!(explain(0xCAA30000 | status).is_some(), "status {status}");
        }
        assert!(explain(0xCAA30000 | 99).is_none());
        assert!(explain(0xCAA30000 | 600).is_none());
    }

    #[test]
    fn win32_decoding_covers_winhttp_and_winsock() {
        assert_eq!(ex(0x80072EE7).remediation, Some("dns-failure"));
        assert_eq!(ex(0x8007274C).remediation, Some("firewall"), "10060 WSAETIMEDOUT");
        assert_eq!(
            ex(0x80072746).remediation,
            Some("connection-reset"),
            "10054 WSAECONNRESET"
        );
        assert_eq!(
            ex(0x80072AF9).remediation,
            Some("dns-failure"),
            "11001 WSAHOST_NOT_FOUND"
        );
        assert_eq!(
            ex(12180).title,
            "Proxy auto-detection failed (ERROR_WINHTTP_AUTODETECTION_FAILED)"
        );
        // The broker family carries WinHTTP errors only, not Winsock ones.
        assert!(explain(0xCAA8274C).is_none());
        // Unknown Windows errors are not guessed at.
        assert!(explain(0x80070005).is_none());
        assert!(explain(0xCAA82EE3).is_none());
    }

    #[test]
    fn unknown_codes_are_none() {
        assert!(explain(0x12345678).is_none());
        assert!(explain(0).is_none());
        assert!(explain(0xFFFFFFFF).is_none());
        assert!(explain(0xCAA50001).is_none());
    }

    #[test]
    fn parses_hex_decimal_and_signed_forms() {
        assert_eq!(parse_code("0xCAA82EE2"), Ok(0xCAA82EE2));
        assert_eq!(parse_code("0Xcaa82ee2"), Ok(0xCAA82EE2));
        assert_eq!(parse_code("caa82ee2"), Ok(0xCAA82EE2));
        assert_eq!(parse_code("  CAA82EE2\n"), Ok(0xCAA82EE2));
        assert_eq!(
            parse_code("80070164"),
            Ok(0x80070164),
            "eight digits as Windows prints them are hex"
        );
        assert_eq!(parse_code("0x80070164"), Ok(0x80070164));
        assert_eq!(parse_code("2147942756"), Ok(0x80070164), "decimal");
        assert_eq!(parse_code("-2147024540"), Ok(0x80070164), "signed HRESULT");
        assert_eq!(parse_code("12002"), Ok(12002));
        assert_eq!(parse_code("0x0000CAA82EE2"), Ok(0xCAA82EE2), "leading zeros");
        assert_eq!(parse_code(&u32::MAX.to_string()), Ok(u32::MAX));
    }

    #[test]
    fn garbage_input_is_a_clear_error() {
        for bad in [
            "",
            "   ",
            "0x",
            "xyz",
            "0xZZ",
            "CAA8-2EE2",
            "12.5",
            "-",
            "-0x5",
            "0x 12",
            "error 12002",
        ] {
            let err = parse_code(bad).expect_err(bad);
            assert!(err.contains("error code"), "{bad:?}: {err}");
        }
        for big in ["0x1CAA82EE2", "4294967296", "-2147483649", "123456789012"] {
            let err = parse_code(big).expect_err(big);
            assert!(err.contains("32 bits"), "{big:?}: {err}");
        }
    }

    #[test]
    fn render_text_shows_meaning_confidence_and_fix() {
        let text = render_text(&ex(0xCAA30197));
        let head = format!(
            "0xCAA30197 ({}): HTTP 407 Proxy Authentication Required\n",
            0xCAA30197u32
        );
        assert!(text.starts_with(&head), "{text}");
        assert!(text.contains("Confidence: likely (decoded from the code's layout"));
        assert!(text.contains("Look at: http-proxy-auth, network:proxy"));
        assert!(text.contains("What to do (proxy-auth):"));
        assert!(text.contains("netsh winhttp set proxy"));
        let no_fix = render_text(&ex(0xCAA30000 | 503));
        assert!(no_fix.contains("No local fix applies"));
    }

    #[test]
    fn serializes_for_json_output() {
        let v = serde_json::to_value(ex(0xCAA82EE2)).unwrap();
        assert_eq!(v["code"], 0xCAA82EE2u32);
        assert_eq!(v["hex"], "0xCAA82EE2");
        assert_eq!(v["confidence"], "likely");
        assert_eq!(v["remediation"], "firewall");
        assert!(v["checks"].as_array().is_some_and(|a| !a.is_empty()));
    }
}
