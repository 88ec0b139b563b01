//! Lab scenarios: which faults the lab puts on the wire, for which hosts, and when.
//!
//! A scenario is what a technician would otherwise have to stage with a real firewall, a
//! real TLS-inspecting proxy or a broken DNS server. The monitor never reads it: it only
//! sees what any client would see on the wire.
//!
//! ```toml
//! name = "example"
//! description = "what this rehearses"
//! latency_ms = 0            # added to every endpoint's answer
//!
//! [[fault]]
//! host = "activation.sls.microsoft.com"   # exact host, "*" for all, or "*.suffix"
//! mode = "blackhole"
//! status = 403              # only with mode = "http-status"
//! delay_ms = 2000           # only with mode = "slow"
//! after_secs = 0            # optional: the fault starts this long after the lab ...
//! until_secs = 60           # ... and ends here (timelines for demos)
//! family = "ipv6"           # optional: only this address family ("ipv4" or "ipv6";
//!                           # IPv6 needs `lab serve --ipv6`); default both
//! ```
//!
//! Faults act on four layers (DNS, socket, TLS, HTTP). On each layer the first fault of
//! the file that is active and matches the host wins, so a host can at the same time have
//! an intercepting proxy (TLS) that answers with a block page (HTTP).
//!
//! Beyond faults, a scenario can set up the network around the endpoints:
//!
//! ```toml
//! clock_offset_secs = -600          # the servers' Date headers are 10 min behind
//! captive_portal = "redirect"       # or "login-page": what www.msftconnecttest.com answers
//!
//! [[cname]]                          # extra CNAME records of the lab's DNS
//! name = "msoid.contoso.lab"
//! target = "clientconfig.partner.microsoftonline-p.net.cn"
//!
//! [proxy]                            # an HTTP proxy the monitor is pointed at
//! credentials = "lab:secret"         # require Basic credentials ...
//! publish_credentials = false        # ... and keep them out of the state file (a 407)
//! block = ["*"]                      # hosts answered with a 403 block page
//! unreachable = false                # true: nothing listens on the proxy's port
//! pac = true                         # serve a PAC file and point the monitor at it ...
//! pac_direct = ["*.microsoftonline.com"]  # ... sending these hosts direct, the rest via the proxy
//! pac_script = "function FindProxyForURL(url, host) { return \"DIRECT\"; }"  # or this script
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

use super::builtins::BUILTINS;
use crate::model::error::{line_of, read_input, InputError};
use crate::model::IpFamily;

/// The longest `latency_ms` or `delay_ms` accepted: longer than any client waits.
const MAX_DELAY_MS: u64 = 600_000;

/// A named set of faults with their timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Added before every HTTP answer of every endpoint (a slow path, not a fault).
    pub latency_ms: u64,
    pub faults: Vec<Fault>,
    /// Added to the time in every `Date` header the lab sends (a server clock that is off
    /// is indistinguishable, for the client, from its own clock being off).
    pub clock_offset_secs: i64,
    /// What the connectivity-indicator URL answers instead of its text.
    pub captive_portal: Option<CaptivePortal>,
    /// Extra CNAME records: (name, target), lower case.
    pub cnames: Vec<(String, String)>,
    /// An HTTP proxy in front of the endpoints.
    pub proxy: Option<LabProxy>,
}

/// How a captive portal answers `http://www.msftconnecttest.com/connecttest.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptivePortal {
    /// A 302 to the portal's login page.
    Redirect,
    /// The login page itself, with status 200.
    LoginPage,
}

/// The lab's HTTP proxy (`[proxy]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct LabProxy {
    /// Basic credentials required (`user:password`).
    pub credentials: Option<String>,
    /// Whether the state file's proxy URL carries the credentials.
    pub publish_credentials: bool,
    /// Host patterns answered with a 403 block page.
    pub block: Vec<String>,
    /// Nothing listens on the proxy's port.
    pub unreachable: bool,
    /// Serve a PAC file and publish its URL (the monitor then follows the PAC file).
    pub pac: bool,
    /// Host patterns the generated PAC file sends direct.
    pub pac_direct: Vec<String>,
    /// A PAC script to serve instead of the generated one; `{proxy}` becomes the proxy's
    /// `host:port`.
    pub pac_script: Option<String>,
}

/// One fault: what happens to which hosts, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    /// Exact host, `*` for all hosts, or `*.suffix` for every name under `suffix`.
    pub host: String,
    pub mode: FaultMode,
    /// The HTTP status answered (`http-status` only).
    pub status: Option<u16>,
    /// How long the answer is held back (`slow` only).
    pub delay_ms: Option<u64>,
    /// Seconds after the lab starts when the fault begins (default: at once).
    pub after_secs: Option<f64>,
    /// Seconds after the lab starts when the fault ends (default: never).
    pub until_secs: Option<f64>,
    /// Only this address family (its listener, its DNS record type); `None` for both.
    pub family: Option<IpFamily>,
}

/// What a fault does on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultMode {
    /// Nothing listens: the connection is refused (RST to the SYN).
    Refuse,
    /// SYNs go unanswered: the connection attempt times out, like a firewall that drops.
    Blackhole,
    /// The connection is accepted and then reset before any byte.
    Reset,
    /// A trusted corporate inspection root signs the certificate (TLS interception).
    TlsIntercept,
    /// The certificate chains to a root nobody trusts.
    BadCert,
    /// The certificate chains to the right root but has expired.
    ExpiredCert,
    /// The certificate chains to the right root but names another host.
    WrongName,
    /// The HTTP answer has this status (403 looks like a gateway block page).
    HttpStatus,
    /// The HTTP answer is held back for `delay_ms`.
    Slow,
    /// DNS answers "no such name".
    DnsNxdomain,
    /// DNS answers "server failure".
    DnsServfail,
    /// DNS never answers.
    DnsTimeout,
}

/// The layer a fault acts on; one fault per layer applies to a host at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Dns,
    Socket,
    Tls,
    Http,
}

impl FaultMode {
    pub const ALL: [FaultMode; 12] = [
        FaultMode::Refuse,
        FaultMode::Blackhole,
        FaultMode::Reset,
        FaultMode::TlsIntercept,
        FaultMode::BadCert,
        FaultMode::ExpiredCert,
        FaultMode::WrongName,
        FaultMode::HttpStatus,
        FaultMode::Slow,
        FaultMode::DnsNxdomain,
        FaultMode::DnsServfail,
        FaultMode::DnsTimeout,
    ];

    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultMode::Refuse => "refuse",
            FaultMode::Blackhole => "blackhole",
            FaultMode::Reset => "reset",
            FaultMode::TlsIntercept => "tls-intercept",
            FaultMode::BadCert => "bad-cert",
            FaultMode::ExpiredCert => "expired-cert",
            FaultMode::WrongName => "wrong-name",
            FaultMode::HttpStatus => "http-status",
            FaultMode::Slow => "slow",
            FaultMode::DnsNxdomain => "dns-nxdomain",
            FaultMode::DnsServfail => "dns-servfail",
            FaultMode::DnsTimeout => "dns-timeout",
        }
    }

    /// Parses a scenario-file name.
    pub fn parse(name: &str) -> Option<FaultMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }

    pub fn layer(self) -> Layer {
        match self {
            FaultMode::DnsNxdomain | FaultMode::DnsServfail | FaultMode::DnsTimeout => Layer::Dns,
            FaultMode::Refuse | FaultMode::Blackhole | FaultMode::Reset => Layer::Socket,
            FaultMode::TlsIntercept | FaultMode::BadCert | FaultMode::ExpiredCert | FaultMode::WrongName => {
                Layer::Tls
            }
            FaultMode::HttpStatus | FaultMode::Slow => Layer::Http,
        }
    }

    fn valid_names() -> String {
        Self::ALL.map(FaultMode::as_str).join(", ")
    }
}

impl fmt::Display for FaultMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Fault {
    /// A fault that is active from the start and never ends.
    pub fn new(host: &str, mode: FaultMode) -> Self {
        Self {
            host: host.to_string(),
            mode,
            status: None,
            delay_ms: None,
            after_secs: None,
            until_secs: None,
            family: None,
        }
    }

    /// The same fault, for one address family only.
    pub fn on_family(mut self, family: IpFamily) -> Self {
        self.family = Some(family);
        self
    }

    /// Whether the fault acts on traffic of `family` (`None`: traffic of no particular
    /// family, such as a CNAME query, which only faults for both families touch).
    pub fn covers_family(&self, family: Option<IpFamily>) -> bool {
        self.family.is_none() || self.family == family
    }

    /// Whether the fault's host pattern covers `host` (lower-case, no trailing dot).
    pub fn matches(&self, host: &str) -> bool {
        host_matches(&self.host, host)
    }

    /// When the fault begins, counted from the lab's start.
    pub fn starts(&self) -> Duration {
        Duration::from_secs_f64(self.after_secs.unwrap_or(0.0))
    }

    /// When the fault ends, counted from the lab's start; `None` for never.
    pub fn ends(&self) -> Option<Duration> {
        self.until_secs.map(Duration::from_secs_f64)
    }

    /// Whether the fault is in effect `at` this time after the lab's start.
    pub fn active_at(&self, at: Duration) -> bool {
        at >= self.starts() && self.ends().is_none_or(|end| at < end)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.mode, self.host)?;
        if let Some(status) = self.status {
            write!(f, " (status {status})")?;
        }
        if let Some(delay) = self.delay_ms {
            write!(f, " ({delay} ms)")?;
        }
        if let Some(family) = self.family {
            write!(f, " ({} only)", family.label())?;
        }
        match (self.after_secs, self.until_secs) {
            (Some(a), Some(u)) => write!(f, " from {a} s to {u} s"),
            (Some(a), None) => write!(f, " from {a} s"),
            (None, Some(u)) => write!(f, " until {u} s"),
            (None, None) => Ok(()),
        }
    }
}

/// Whether a scenario host pattern (`*`, `*.suffix` or an exact name) covers `host`.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            host.len() > suffix.len() + 1
                && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
        }
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// Checks a fault's host pattern: `*`, `*.suffix`, or an exact DNS name.
fn validate_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    let shape = "a fault host is an exact name, \"*\" or \"*.suffix\"";
    if name.is_empty() || name.len() > 253 {
        return Err(format!("host {pattern:?} is empty or too long; {shape}"));
    }
    if name.contains('*') {
        return Err(format!(
            "host {pattern:?}: a wildcard is only allowed as \"*\" or a leading \"*.\"; {shape}"
        ));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("host {pattern:?} has an empty or over-long label"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || label.starts_with('-') {
            return Err(format!("host {pattern:?} has characters a DNS name cannot have"));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    latency_ms: Option<Spanned<u64>>,
    #[serde(default)]
    fault: Vec<RawFault>,
    #[serde(default)]
    clock_offset_secs: Option<Spanned<i64>>,
    #[serde(default)]
    captive_portal: Option<Spanned<String>>,
    #[serde(default)]
    cname: Vec<RawCname>,
    #[serde(default)]
    proxy: Option<RawProxy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCname {
    name: Spanned<String>,
    target: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProxy {
    #[serde(default)]
    credentials: Option<Spanned<String>>,
    #[serde(default)]
    publish_credentials: bool,
    #[serde(default)]
    block: Vec<Spanned<String>>,
    #[serde(default)]
    unreachable: bool,
    #[serde(default)]
    pac: bool,
    #[serde(default)]
    pac_direct: Vec<Spanned<String>>,
    #[serde(default)]
    pac_script: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    host: Spanned<String>,
    mode: Spanned<String>,
    #[serde(default)]
    status: Option<Spanned<u16>>,
    #[serde(default)]
    delay_ms: Option<Spanned<u64>>,
    #[serde(default)]
    after_secs: Option<Spanned<f64>>,
    #[serde(default)]
    until_secs: Option<Spanned<f64>>,
    #[serde(default)]
    family: Option<Spanned<String>>,
}

impl Scenario {
    /// A scenario by its built-in name.
    pub fn builtin(name: &str) -> Option<Scenario> {
        let text = builtin_toml(name)?;
        let parsed = parse(Path::new(&format!("builtin:{name}")), text);
        // The built-in texts are tested to parse; a failure here is a bug in this file.
        Some(parsed.expect("built-in scenario parses"))
    }

    /// The built-in scenarios: (name, description).
    pub fn builtin_list() -> Vec<(&'static str, &'static str)> {
        BUILTINS.iter().map(|b| (b.name, b.description)).collect()
    }

    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, InputError> {
        let text = read_input(path)?;
        parse(path, &text)
    }

    /// A built-in scenario by name, else a scenario file by path.
    pub fn resolve(name_or_file: &str) -> Result<Scenario, InputError> {
        if let Some(s) = Self::builtin(name_or_file) {
            return Ok(s);
        }
        let path = Path::new(name_or_file);
        let looks_like_path = name_or_file.contains(['/', '\\']) || name_or_file.ends_with(".toml");
        if looks_like_path || path.exists() {
            return Self::load(path);
        }
        let names: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        Err(InputError::plain(format!(
            "unknown scenario {name_or_file:?}: built-in scenarios are {}; or give the path of a scenario .toml file",
            names.join(", ")
        )))
    }

    /// The faults in effect `at` this time after the lab's start.
    pub fn active_faults(&self, at: Duration) -> impl Iterator<Item = &Fault> {
        self.faults.iter().filter(move |f| f.active_at(at))
    }
}

/// The TOML text of a built-in scenario, for `lab` commands that show it.
pub fn builtin_toml(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|b| b.name == name).map(|b| b.toml)
}

/// Parses scenario text; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, InputError> {
    let raw: RawScenario = toml::from_str(text).map_err(|e| InputError::from_toml(path, text, &e))?;
    let at = |span: std::ops::Range<usize>, msg: String| InputError::at(path, line_of(text, span.start), msg);

    let latency_ms = match raw.latency_ms {
        Some(l) if *l.get_ref() > MAX_DELAY_MS => {
            return Err(at(
                l.span(),
                format!("latency_ms = {} is more than {MAX_DELAY_MS}", l.get_ref()),
            ))
        }
        Some(l) => l.into_inner(),
        None => 0,
    };
    let name = match raw.name {
        Some(n) if !n.trim().is_empty() => n.trim().to_string(),
        _ => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let mut faults = Vec::with_capacity(raw.fault.len());
    for r in raw.fault {
        faults.push(validate_fault(r, &at)?);
    }
    let clock_offset_secs = match raw.clock_offset_secs {
        Some(c) if c.get_ref().unsigned_abs() > MAX_CLOCK_OFFSET_SECS => {
            return Err(at(
                c.span(),
                format!(
                    "clock_offset_secs = {} is more than {MAX_CLOCK_OFFSET_SECS} s either way",
                    c.get_ref()
                ),
            ))
        }
        Some(c) => c.into_inner(),
        None => 0,
    };
    let captive_portal = match raw.captive_portal {
        None => None,
        Some(c) => Some(match c.get_ref().trim() {
            "redirect" => CaptivePortal::Redirect,
            "login-page" => CaptivePortal::LoginPage,
            other => {
                return Err(at(
                    c.span(),
                    format!("captive_portal = {other:?}: expected \"redirect\" or \"login-page\""),
                ))
            }
        }),
    };
    let mut cnames = Vec::with_capacity(raw.cname.len());
    for c in raw.cname {
        let name = c.name.get_ref().trim().trim_end_matches('.').to_ascii_lowercase();
        let target = c
            .target
            .get_ref()
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        for (value, span) in [(&name, c.name.span()), (&target, c.target.span())] {
            if value.starts_with("*") {
                return Err(at(
                    span,
                    format!("{value:?}: a CNAME is for one name, not a pattern"),
                ));
            }
            validate_pattern(value).map_err(|why| at(span, why))?;
        }
        cnames.push((name, target));
    }
    let proxy = raw.proxy.map(|p| validate_proxy(p, &at)).transpose()?;
    Ok(Scenario {
        name,
        description: raw.description.trim().to_string(),
        latency_ms,
        faults,
        clock_offset_secs,
        captive_portal,
        cnames,
        proxy,
    })
}

/// The largest `clock_offset_secs` accepted: ten years.
const MAX_CLOCK_OFFSET_SECS: u64 = 10 * 366 * 86_400;

/// Checks the `[proxy]` table.
fn validate_proxy(
    p: RawProxy,
    at: &dyn Fn(std::ops::Range<usize>, String) -> InputError,
) -> Result<LabProxy, InputError> {
    let credentials = match p.credentials {
        None => None,
        Some(c) => {
            let text = c.get_ref().clone();
            match text.split_once(':') {
                Some((user, _)) if !user.is_empty() && !user.contains(['@', '/']) => Some(text),
                _ => {
                    return Err(at(
                        c.span(),
                        "credentials must look like \"user:password\"".into(),
                    ))
                }
            }
        }
    };
    let patterns = |list: Vec<Spanned<String>>| -> Result<Vec<String>, InputError> {
        list.into_iter()
            .map(|h| {
                let host = h.get_ref().trim().to_ascii_lowercase();
                validate_pattern(&host).map_err(|why| at(h.span(), why))?;
                Ok(host)
            })
            .collect()
    };
    let needs_pac = p
        .pac_direct
        .first()
        .map(|d| d.span())
        .or_else(|| p.pac_script.as_ref().map(|s| s.span()));
    if let (Some(span), false) = (needs_pac, p.pac) {
        return Err(at(span, "pac_direct and pac_script need pac = true".into()));
    }
    let block = patterns(p.block)?;
    let pac_direct = patterns(p.pac_direct)?;
    Ok(LabProxy {
        credentials,
        publish_credentials: p.publish_credentials,
        block,
        unreachable: p.unreachable,
        pac: p.pac,
        pac_direct,
        pac_script: p.pac_script.map(Spanned::into_inner),
    })
}

/// Checks one `[[fault]]` table; errors point at the offending key's line.
fn validate_fault(
    r: RawFault,
    at: &dyn Fn(std::ops::Range<usize>, String) -> InputError,
) -> Result<Fault, InputError> {
    let host = r.host.get_ref().trim().to_ascii_lowercase();
    validate_pattern(&host).map_err(|why| at(r.host.span(), why))?;
    let mode = FaultMode::parse(r.mode.get_ref().trim()).ok_or_else(|| {
        at(
            r.mode.span(),
            format!(
                "unknown fault mode {:?}; valid modes: {}",
                r.mode.get_ref(),
                FaultMode::valid_names()
            ),
        )
    })?;
    match (&r.status, mode) {
        (None, FaultMode::HttpStatus) => {
            return Err(at(
                r.mode.span(),
                "mode = \"http-status\" needs `status` (e.g. status = 403)".into(),
            ))
        }
        (Some(s), FaultMode::HttpStatus) if !(200..=599).contains(s.get_ref()) => {
            return Err(at(
                s.span(),
                format!("status {} is not an HTTP status from 200 to 599", s.get_ref()),
            ))
        }
        (Some(s), m) if m != FaultMode::HttpStatus => {
            return Err(at(
                s.span(),
                format!(
                    "`status` only applies to mode = \"http-status\", not {m:?}",
                    m = m.as_str()
                ),
            ))
        }
        _ => {}
    }
    match (&r.delay_ms, mode) {
        (None, FaultMode::Slow) => {
            return Err(at(
                r.mode.span(),
                "mode = \"slow\" needs `delay_ms` (e.g. delay_ms = 2000)".into(),
            ))
        }
        (Some(d), FaultMode::Slow) if *d.get_ref() == 0 || *d.get_ref() > MAX_DELAY_MS => {
            return Err(at(d.span(), format!("delay_ms must be from 1 to {MAX_DELAY_MS}")))
        }
        (Some(d), m) if m != FaultMode::Slow => {
            return Err(at(
                d.span(),
                format!("`delay_ms` only applies to mode = \"slow\", not {:?}", m.as_str()),
            ))
        }
        _ => {}
    }
    for secs in [&r.after_secs, &r.until_secs].into_iter().flatten() {
        let v = *secs.get_ref();
        if !v.is_finite() || !(0.0..=1e9).contains(&v) {
            return Err(at(
                secs.span(),
                format!("{v} is not a number of seconds from 0 up"),
            ));
        }
    }
    if let (Some(after), Some(until)) = (&r.after_secs, &r.until_secs) {
        if until.get_ref() <= after.get_ref() {
            return Err(at(
                until.span(),
                format!(
                    "until_secs = {} must be later than after_secs = {}",
                    until.get_ref(),
                    after.get_ref()
                ),
            ));
        }
    }
    if let (None, Some(until)) = (&r.after_secs, &r.until_secs) {
        if *until.get_ref() <= 0.0 {
            return Err(at(
                until.span(),
                "until_secs = 0 would end the fault before it starts".into(),
            ));
        }
    }
    let family = match &r.family {
        None => None,
        Some(f) => Some(match f.get_ref().trim().to_ascii_lowercase().as_str() {
            "ipv4" | "4" => IpFamily::Ipv4,
            "ipv6" | "6" => IpFamily::Ipv6,
            other => {
                return Err(at(
                    f.span(),
                    format!("family {other:?}: expected \"ipv4\" or \"ipv6\" (leave it out for both)"),
                ))
            }
        }),
    };
    Ok(Fault {
        host,
        mode,
        status: r.status.map(Spanned::into_inner),
        delay_ms: r.delay_ms.map(Spanned::into_inner),
        after_secs: r.after_secs.map(Spanned::into_inner),
        until_secs: r.until_secs.map(Spanned::into_inner),
        family,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("scenario.toml")
    }

    #[test]
    fn every_builtin_parses_and_matches_its_listing() {
        for (name, description) in Scenario::builtin_list() {
            let s = Scenario::builtin(name).unwrap();
            assert_eq!(s.name, name);
            assert_eq!(s.description, description);
        }
        assert!(Scenario::builtin("nope").is_none());
        let firewall = Scenario::builtin("firewall").unwrap();
        assert!(firewall.faults.iter().all(|f| f.mode == FaultMode::Blackhole));
        assert_eq!(Scenario::builtin("slow").unwrap().latency_ms, 300);
    }

    #[test]
    fn timeline_switches_at_the_documented_times() {
        let t = Scenario::builtin("timeline").unwrap();
        let active = |secs: u64| t.active_faults(Duration::from_secs(secs)).count();
        assert_eq!(active(0), 0);
        assert_eq!(active(9), 0);
        assert_eq!(active(10), 3);
        assert_eq!(active(20), 6);
        assert_eq!(active(34), 6);
        assert_eq!(active(35), 0);
    }

    #[test]
    fn parses_every_field() {
        let s = parse(
            p(),
            r#"
name = "x"
description = "d"
latency_ms = 5
[[fault]]
host = "*.Live.com"
mode = "http-status"
status = 407
after_secs = 0.5
until_secs = 2
[[fault]]
host = "a.example"
mode = "slow"
delay_ms = 10
"#,
        )
        .unwrap();
        assert_eq!(s.latency_ms, 5);
        assert_eq!(s.faults[0].host, "*.live.com");
        assert_eq!(s.faults[0].status, Some(407));
        assert!(!s.faults[0].active_at(Duration::from_millis(400)));
        assert!(s.faults[0].active_at(Duration::from_millis(500)));
        assert!(!s.faults[0].active_at(Duration::from_secs(2)));
        assert_eq!(s.faults[1].delay_ms, Some(10));
        assert!(s.faults[1].active_at(Duration::from_secs(1_000_000)));
    }

    #[test]
    fn name_defaults_to_the_file_stem() {
        let s = parse(Path::new("dir/my-story.toml"), "").unwrap();
        assert_eq!(s.name, "my-story");
        assert!(s.faults.is_empty());
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*", "anything.example"));
        assert!(host_matches("*.live.com", "ols.officeapps.live.com"));
        assert!(host_matches("*.live.com", "OLS.officeapps.live.com."));
        assert!(!host_matches("*.live.com", "live.com"));
        assert!(!host_matches("*.live.com", "notlive.com"));
        assert!(host_matches("login.microsoft.com", "Login.Microsoft.com."));
        assert!(!host_matches("login.microsoft.com", "xlogin.microsoft.com"));
    }

    fn err(text: &str) -> InputError {
        parse(p(), text).unwrap_err()
    }

    #[test]
    fn a_fault_can_target_one_family_and_a_bad_family_is_named_at_its_line() {
        let s = parse(
            p(),
            "name = \"x\"\n[[fault]]\nhost = \"a.com\"\nmode = \"blackhole\"\nfamily = \"ipv6\"\n",
        )
        .unwrap();
        assert_eq!(s.faults[0].family, Some(IpFamily::Ipv6));
        assert!(s.faults[0].covers_family(Some(IpFamily::Ipv6)));
        assert!(!s.faults[0].covers_family(Some(IpFamily::Ipv4)));
        assert!(!s.faults[0].covers_family(None), "a CNAME query is no family's");
        assert_eq!(s.faults[0].to_string(), "blackhole a.com (IPv6 only)");
        let both = Fault::new("a.com", FaultMode::Refuse);
        assert!(both.covers_family(Some(IpFamily::Ipv4)) && both.covers_family(None));
        let e = err("name = \"x\"\n[[fault]]\nhost = \"a.com\"\nmode = \"refuse\"\nfamily = \"ipv5\"\n");
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.to_string().contains("expected \"ipv4\" or \"ipv6\""), "{e}");
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let e = err("name = \"x\"\n[[fault]]\nhost = \"a.com\"\nmode = \"blackhol\"\n");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(
            e.message.contains("blackhol") && e.message.contains("tls-intercept"),
            "{e}"
        );

        let e = err("[[fault]]\nhost = \"a.com\"\nmode = \"http-status\"\n");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("needs `status`"), "{e}");

        let e = err("[[fault]]\nhost = \"a.com\"\nmode = \"slow\"\n");
        assert!(e.message.contains("needs `delay_ms`"), "{e}");

        let e = err("[[fault]]\nhost = \"a.com\"\nmode = \"refuse\"\nafter_secs = 5\nuntil_secs = 5\n");
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("later than"), "{e}");

        let e = err("\n[[fault]]\nhost = \"a b.com\"\nmode = \"refuse\"\n");
        assert_eq!(e.line, Some(3), "{e}");

        let e = err("[[fault]]\nhost = \"a.*.com\"\nmode = \"refuse\"\n");
        assert!(e.message.contains("wildcard"), "{e}");

        let e = err("[[fault]]\nhost = \"a.com\"\nmode = \"refuse\"\nstatus = 403\n");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("only applies"), "{e}");

        let e = err("[[fault]]\nhost = \"a.com\"\nmode = \"http-status\"\nstatus = 99\n");
        assert!(e.message.contains("200 to 599"), "{e}");

        let e = err("[[fault]]\nhost = \"a.com\"\nmode = \"refuse\"\nafter_secs = -1\n");
        assert_eq!(e.line, Some(4), "{e}");

        let e = err("latency_ms = 5\nlatncy = 3\n");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("latncy"), "{e}");

        let e = err("[[fault]]\nmode = \"refuse\"\n");
        assert!(e.message.contains("host"), "{e}");
    }

    #[test]
    fn network_settings_parse() {
        let s = parse(
            p(),
            r#"
clock_offset_secs = -600
captive_portal = "login-page"
[[cname]]
name = "MSOID.contoso.lab."
target = "clientconfig.partner.microsoftonline-p.net.cn"
[proxy]
credentials = "lab:secret"
block = ["*.live.com"]
pac = true
pac_direct = ["*.microsoftonline.com"]
"#,
        )
        .unwrap();
        assert_eq!(s.clock_offset_secs, -600);
        assert_eq!(s.captive_portal, Some(CaptivePortal::LoginPage));
        assert_eq!(
            s.cnames,
            vec![(
                "msoid.contoso.lab".to_string(),
                "clientconfig.partner.microsoftonline-p.net.cn".to_string()
            )]
        );
        let proxy = s.proxy.unwrap();
        assert_eq!(proxy.credentials.as_deref(), Some("lab:secret"));
        assert!(!proxy.publish_credentials && !proxy.unreachable && proxy.pac);
        assert_eq!(proxy.block, vec!["*.live.com"]);
        assert!(parse(p(), "").unwrap().proxy.is_none());
    }

    #[test]
    fn network_settings_errors_name_the_line() {
        let e = err("name = \"x\"\ncaptive_portal = \"portal\"\n");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("login-page"), "{e}");
        let e = err("[proxy]\ncredentials = \"nopassword\"\n");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("user:password"), "{e}");
        let e = err("[proxy]\npac_direct = [\"a.com\"]\n");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("pac = true"), "{e}");
        let e = err("[proxy]\nblock = [\"a b\"]\n");
        assert_eq!(e.line, Some(2), "{e}");
        let e = err("[proxy]\nport = 8080\n");
        assert!(e.message.contains("port"), "{e}");
        let e = err("[[cname]]\nname = \"*.contoso.lab\"\ntarget = \"x.example\"\n");
        assert_eq!(e.line, Some(2), "{e}");
        let e = err("clock_offset_secs = 999999999999\n");
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn resolve_lists_builtins_for_an_unknown_name() {
        assert_eq!(Scenario::resolve("firewall").unwrap().name, "firewall");
        let e = Scenario::resolve("firewal").unwrap_err();
        assert!(
            e.message.contains("healthy") && e.message.contains("timeline"),
            "{e}"
        );
        let e = Scenario::resolve("missing/dir/x.toml").unwrap_err();
        assert!(e.to_string().contains("file not found"), "{e}");
    }

    #[test]
    fn fault_display_reads_like_a_sentence() {
        let mut f = Fault::new("a.com", FaultMode::HttpStatus);
        f.status = Some(403);
        f.after_secs = Some(10.0);
        f.until_secs = Some(35.0);
        assert_eq!(f.to_string(), "http-status a.com (status 403) from 10 s to 35 s");
    }
}
