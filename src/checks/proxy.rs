//! `network:proxy`: which proxy settings this machine has, where each comes from, whether
//! they agree, and whether the proxy the probes use lets Microsoft 365 through.
//!
//! Sources, each shown on its own: the `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`
//! variables (either case); on Windows the machine's WinHTTP setting and the user's
//! settings (manual proxy, PAC URL, WPAD auto-detect), read through the WinHTTP API; on
//! macOS the output of `scutil --proxy`. On Windows a difference between the WinHTTP and
//! the user's settings is the classic "works in the browser, fails in Office".
//!
//! Then the proxy in use is tried with a `CONNECT` to a Microsoft 365 endpoint: an
//! unreachable proxy, a 407 (credentials wanted) and a 403 block page each have their own
//! remediation. The same failures also show on the endpoints themselves, because the
//! probes take the same route ([`crate::probe::route`]).
//!
//! Proxy URLs may carry `user:password@`; every text made here goes through
//! [`redact_credentials`].

use std::time::{Duration, Instant};

use crate::catalog::Scheme;
use crate::engine::monitor::SweepPlan;
use crate::model::{ms, Cause, CheckKind, CheckResult, Status};
use crate::probe::route::{self, redact_credentials, Bypass, Route, RoutePlan, StaticRoutes};
use crate::probe::Dns;

/// Check id.
pub const ID: &str = "network:proxy";
/// How long the tunnel test may take at most, whatever the stage timeouts.
const TEST_CAP: Duration = Duration::from_secs(10);

/// One proxy configuration, as found in one place. Proxy URLs may hold credentials: show
/// them only through [`ProxySetting::describe`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxySetting {
    /// Proxy for HTTPS traffic (`host:port` or `http://host:port`).
    pub https: Option<String>,
    /// Proxy for plain-HTTP traffic.
    pub http: Option<String>,
    /// Hosts that go direct, as written in the source.
    pub bypass: Option<String>,
    /// A PAC file's URL.
    pub pac_url: Option<String>,
    /// WPAD auto-detection (the PAC URL is found on the network).
    pub auto_detect: bool,
}

impl ProxySetting {
    /// From Windows' shapes: a proxy list that is either `host:port` for every protocol or
    /// `http=host:port;https=host:port;...`, a bypass list, a PAC URL, auto-detect.
    pub fn from_windows(
        proxy: Option<&str>,
        bypass: Option<&str>,
        pac_url: Option<String>,
        auto_detect: bool,
    ) -> Self {
        let mut s = ProxySetting {
            pac_url,
            auto_detect,
            bypass: bypass.map(str::to_string),
            ..Default::default()
        };
        if let Some(list) = proxy.map(str::trim).filter(|p| !p.is_empty()) {
            if list.contains('=') {
                for part in list.split([';', ' ']).filter(|p| !p.is_empty()) {
                    match part.split_once('=') {
                        Some((k, v)) if k.eq_ignore_ascii_case("https") => s.https = Some(v.to_string()),
                        Some((k, v)) if k.eq_ignore_ascii_case("http") => s.http = Some(v.to_string()),
                        _ => {}
                    }
                }
            } else {
                let first = list.split([';', ' ']).next().unwrap_or(list).to_string();
                s.https = Some(first.clone());
                s.http = Some(first);
            }
        }
        s
    }

    /// From the environment, `lookup` being `std::env::var` (passed in for tests). Lower
    /// case wins over upper case, as in curl.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| {
            [name.to_ascii_lowercase(), name.to_string()]
                .iter()
                .find_map(|n| lookup(n).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
        };
        let all = var("ALL_PROXY");
        ProxySetting {
            https: var("HTTPS_PROXY").or_else(|| all.clone()),
            http: var("HTTP_PROXY").or(all),
            bypass: var("NO_PROXY"),
            pac_url: None,
            auto_detect: false,
        }
    }

    /// Whether this source sends everything direct.
    pub fn is_direct(&self) -> bool {
        self.https.is_none() && self.http.is_none() && self.pac_url.is_none() && !self.auto_detect
    }

    /// One line, credentials removed.
    pub fn describe(&self) -> String {
        if self.is_direct() {
            return "direct (no proxy)".into();
        }
        let mut parts = Vec::new();
        match (&self.https, &self.http) {
            (Some(a), Some(b)) if a == b => parts.push(format!("proxy {}", redact_credentials(a))),
            (a, b) => {
                if let Some(a) = a {
                    parts.push(format!("HTTPS proxy {}", redact_credentials(a)));
                }
                if let Some(b) = b {
                    parts.push(format!("HTTP proxy {}", redact_credentials(b)));
                }
            }
        }
        if let Some(b) = &self.bypass {
            parts.push(format!("bypass {b}"));
        }
        if let Some(p) = &self.pac_url {
            parts.push(format!("PAC {}", redact_credentials(p)));
        }
        if self.auto_detect {
            parts.push("auto-detect (WPAD) on".into());
        }
        parts.join(", ")
    }

    /// The routes this setting gives: a PAC file wins over a manual proxy, as on Windows
    /// and macOS. WPAD auto-detection alone is not followed (the probes go direct).
    pub fn plan(&self, source: &str) -> Result<RoutePlan, String> {
        if let Some(url) = &self.pac_url {
            return Ok(RoutePlan::Pac {
                url: url.clone(),
                source: source.to_string(),
            });
        }
        let https = self.https.as_deref().map(Route::from_proxy_url).transpose()?;
        let http = self.http.as_deref().map(Route::from_proxy_url).transpose()?;
        if https.is_none() && http.is_none() {
            return Ok(RoutePlan::Direct);
        }
        let bypass = Bypass::parse(self.bypass.as_deref().unwrap_or(""));
        Ok(RoutePlan::Static {
            routes: StaticRoutes { https, http, bypass },
            source: source.to_string(),
        })
    }
}

/// Reads `scutil --proxy` output (macOS): the HTTPS and HTTP proxies when enabled, the
/// exceptions list, the PAC URL when enabled, and WPAD auto-discovery.
pub fn parse_scutil(text: &str) -> ProxySetting {
    let mut values: Vec<(String, String)> = Vec::new();
    let mut exceptions: Vec<String> = Vec::new();
    let mut in_array: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line == "}" {
            in_array = None;
            continue;
        }
        let Some((key, value)) = line.split_once(" : ") else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match &in_array {
            Some(name) if name == "ExceptionsList" => exceptions.push(value.to_string()),
            Some(_) => {}
            None if value.starts_with("<array>") => in_array = Some(key.to_string()),
            None => values.push((key.to_string(), value.to_string())),
        }
    }
    let get = |k: &str| values.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let on = |k: &str| get(k) == Some("1");
    let proxy = |enable: &str, host: &str, port: &str| {
        let host = get(host).filter(|_| on(enable))?;
        Some(match get(port) {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        })
    };
    ProxySetting {
        https: proxy("HTTPSEnable", "HTTPSProxy", "HTTPSPort"),
        http: proxy("HTTPEnable", "HTTPProxy", "HTTPPort"),
        bypass: (!exceptions.is_empty()).then(|| exceptions.join(", ")),
        pac_url: get("ProxyAutoConfigURLString")
            .filter(|_| on("ProxyAutoConfigEnable"))
            .map(str::to_string),
        auto_detect: on("ProxyAutoDiscoveryEnable"),
    }
}

/// Where a setting was found (`"WinHTTP (machine)"`), and the setting or why it could not
/// be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySource {
    pub name: &'static str,
    pub setting: Result<ProxySetting, String>,
}

/// Environment source name.
pub const ENVIRONMENT: &str = "environment";
pub const WINHTTP: &str = "WinHTTP (machine)";
pub const WININET: &str = "user settings (WinINet)";
pub const SCUTIL: &str = "macOS (scutil --proxy)";

/// Every proxy source of this machine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Discovery {
    pub sources: Vec<ProxySource>,
    /// The proxy variables that are set, values redacted: shown one by one.
    pub env_vars: Vec<(String, String)>,
}

/// The proxy variables, both cases.
const ENV_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

impl Discovery {
    /// Reads this machine's settings.
    pub fn read() -> Self {
        Self::from_parts(|k| std::env::var(k).ok(), os_sources())
    }

    /// From an environment and the OS's sources (for tests).
    pub fn from_parts(lookup: impl Fn(&str) -> Option<String>, os: Vec<ProxySource>) -> Self {
        let env_vars = ENV_VARS
            .iter()
            .filter_map(|k| {
                lookup(k)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (k.to_string(), redact_credentials(&v)))
            })
            .collect();
        let mut sources = os;
        sources.push(ProxySource {
            name: ENVIRONMENT,
            setting: Ok(ProxySetting::from_env(&lookup)),
        });
        Self { sources, env_vars }
    }

    fn setting(&self, name: &str) -> Option<&ProxySetting> {
        self.sources
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.setting.as_ref().ok())
    }

    /// The routes the probes take without `--proxy`: the first source (in the order of
    /// [`os_sources`], the environment last) that names a proxy or a PAC file. On Windows
    /// the user's settings come first: Office's sign-in runs in the user's session.
    pub fn plan(&self) -> RoutePlan {
        for source in &self.sources {
            if let Ok(setting) = &source.setting {
                if let Ok(plan) = setting.plan(source.name) {
                    if plan != RoutePlan::Direct {
                        return plan;
                    }
                }
            }
        }
        RoutePlan::Direct
    }

    /// On Windows: how WinHTTP and the user's settings differ, if they do.
    pub fn mismatch(&self) -> Option<String> {
        mismatch(self.setting(WININET)?, self.setting(WINHTTP)?)
    }
}

/// Compares the user's and the machine's settings. A PAC file or auto-detect on one side
/// and a direct WinHTTP on the other is the common case.
pub fn mismatch(user: &ProxySetting, machine: &ProxySetting) -> Option<String> {
    let user_proxied = !user.is_direct();
    let machine_proxied = !machine.is_direct();
    let differ = match (user_proxied, machine_proxied) {
        (false, false) => false,
        (true, true) => user.pac_url.is_none() && !user.auto_detect && user.https != machine.https,
        _ => true,
    };
    differ.then(|| {
        format!(
            "the user's settings ({}) and WinHTTP ({}) differ: works in the browser, fails in Office",
            user.describe(),
            machine.describe()
        )
    })
}

/// The OS's own sources, most relevant first.
fn os_sources() -> Vec<ProxySource> {
    #[cfg(windows)]
    {
        use crate::platform::proxy_windows;
        vec![
            ProxySource {
                name: WININET,
                setting: proxy_windows::current_user(),
            },
            ProxySource {
                name: WINHTTP,
                setting: proxy_windows::winhttp_default(),
            },
        ]
    }
    #[cfg(target_os = "macos")]
    {
        let out = std::process::Command::new("scutil").arg("--proxy").output();
        let setting = match out {
            Ok(o) if o.status.success() => Ok(parse_scutil(&String::from_utf8_lossy(&o.stdout))),
            Ok(o) => Err(format!("scutil --proxy exited with {}", o.status)),
            Err(e) => Err(format!("cannot run scutil --proxy: {e}")),
        };
        vec![ProxySource {
            name: SCUTIL,
            setting,
        }]
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    {
        Vec::new()
    }
}

/// The routes for a session: `--proxy URL` (or `--proxy direct`), else the machine's
/// discovered settings. The error names the flag's bad value without its credentials.
pub fn session_plan(explicit: Option<&str>) -> Result<RoutePlan, String> {
    match explicit.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("direct") || v.eq_ignore_ascii_case("none") => {
            Ok(RoutePlan::Direct)
        }
        Some(url) => Ok(RoutePlan::single(Route::from_proxy_url(url)?, "--proxy")),
        None => Ok(Discovery::read().plan()),
    }
}

/// How a tunnel through the proxy went.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TunnelTest {
    proxy: String,
    target: String,
    outcome: Result<(), (Cause, String)>,
}

/// The `network:proxy` check.
pub async fn check(plan: &SweepPlan) -> CheckResult {
    let started = Instant::now();
    let discovery = Discovery::read();
    let test = match tokio::time::timeout(TEST_CAP, try_tunnel(plan)).await {
        Ok(t) => t,
        Err(_) => Some(TunnelTest {
            proxy: plan.settings.routes.source(),
            target: "Microsoft 365".into(),
            outcome: Err((
                Cause::TcpTimeout,
                format!("no answer within {} s", TEST_CAP.as_secs()),
            )),
        }),
    };
    let mut r = judge(&discovery, &plan.settings.routes, plan.checks.lab, test.as_ref());
    r.duration_ms = ms(started.elapsed());
    r
}

/// Opens a tunnel through the proxy to the first HTTPS endpoint the probes send through
/// one; `None` when no endpoint goes through a proxy (or a PAC file decides).
async fn try_tunnel(plan: &SweepPlan) -> Option<TunnelTest> {
    let settings = &plan.settings;
    let (endpoint, addr, auth) = plan
        .endpoints
        .iter()
        .filter(|e| e.probe && e.scheme == Scheme::Https)
        .find_map(|e| match settings.route_for(e) {
            Route::HttpProxy { addr, auth } => Some((e, addr, auth)),
            Route::Direct => None,
        })?;
    let port = settings.port_for(endpoint);
    let target = format!("{}:{port}", endpoint.host);
    let proxy = addr.to_string();
    let fail = |cause, why: String| {
        Some(TunnelTest {
            proxy: proxy.clone(),
            target: target.clone(),
            outcome: Err((cause, why)),
        })
    };
    let resolver = match Dns::new(&settings.dns, settings.timeout) {
        Ok(r) => r,
        Err(why) => return fail(Cause::DnsServfail, why),
    };
    let ips = match resolver.resolve(&addr.host, settings.timeout).await {
        Ok(ips) => ips,
        Err(f) => {
            return fail(
                f.cause,
                format!("cannot resolve the proxy's name {}: {}", addr.host, f.detail),
            )
        }
    };
    let mut stream = match crate::probe::tcp::connect(&ips, addr.port, settings.timeout).await {
        Ok((s, _)) => s,
        Err(f) => return fail(f.cause, f.detail),
    };
    let outcome = route::connect_tunnel(
        &mut stream,
        &addr,
        auth.as_ref(),
        &endpoint.host,
        port,
        settings.timeout,
    )
    .await
    .map_err(|f| (f.cause, f.detail));
    Some(TunnelTest {
        proxy,
        target,
        outcome,
    })
}

/// The proxy the probes use, without credentials: `host:port`, or the PAC file.
fn proxy_in_use(routes: &RoutePlan) -> Option<String> {
    match routes {
        RoutePlan::Direct => None,
        RoutePlan::Static { routes, .. } => match routes.https.as_ref().or(routes.http.as_ref())? {
            Route::HttpProxy { addr, .. } => Some(addr.to_string()),
            Route::Direct => None,
        },
        RoutePlan::Pac { .. } | RoutePlan::PerUrl { .. } => Some(routes.source()),
    }
}

/// The check's result from the facts: a plain function, tested without a network.
fn judge(discovery: &Discovery, routes: &RoutePlan, lab: bool, test: Option<&TunnelTest>) -> CheckResult {
    let mut facts = Vec::new();
    let machine_note = if lab {
        " (this machine; not used while monitoring a lab)"
    } else {
        ""
    };
    for s in &discovery.sources {
        let shown = match &s.setting {
            Ok(setting) => setting.describe(),
            Err(why) => format!("cannot read: {why}"),
        };
        facts.push((format!("{}{machine_note}", s.name), shown));
    }
    for (k, v) in &discovery.env_vars {
        facts.push((format!("{k}{machine_note}"), v.clone()));
    }
    facts.push(("probes use".into(), routes.source()));
    // Machine-readable facts for the findings rules: is a proxy in the path, and which.
    let configured = !matches!(routes, RoutePlan::Direct);
    facts.push((
        "proxy_configured".into(),
        if configured { "yes" } else { "no" }.into(),
    ));
    if let Some(p) = test.map(|t| t.proxy.clone()).or_else(|| proxy_in_use(routes)) {
        facts.push(("proxy".into(), p));
    }
    let mismatch = if lab { None } else { discovery.mismatch() };
    if let Some(m) = &mismatch {
        facts.push(("mismatch".into(), m.clone()));
    }

    let (mut status, mut remediation) = (Status::Pass, None);
    let mut summary: String;
    match test {
        Some(t) => {
            facts.push((
                "tunnel test".into(),
                format!("CONNECT {} via {}", t.target, t.proxy),
            ));
            match &t.outcome {
                Ok(()) => summary = format!("proxy {} tunnels to Microsoft 365 ({})", t.proxy, t.target),
                Err((cause, why)) => {
                    status = Status::Fail;
                    facts.push(("error".into(), why.clone()));
                    let (text, rem) = match cause {
                        Cause::HttpProxyAuth => (
                            format!("proxy {} asks for credentials (HTTP 407)", t.proxy),
                            "proxy-auth",
                        ),
                        Cause::HttpBlocked => (
                            format!("proxy {} blocks Microsoft 365 (HTTP 403)", t.proxy),
                            "proxy-block",
                        ),
                        c if c.stage() == Some(crate::model::StageName::Tcp)
                            || c.stage() == Some(crate::model::StageName::Dns) =>
                        {
                            (format!("proxy {} is unreachable: {why}", t.proxy), "proxy")
                        }
                        _ => (
                            format!("proxy {} does not tunnel to Microsoft 365: {why}", t.proxy),
                            "proxy",
                        ),
                    };
                    summary = text;
                    remediation = Some(rem);
                }
            }
        }
        None => {
            summary = match routes {
                RoutePlan::Direct => "no proxy: connections go direct".into(),
                RoutePlan::Pac { .. } | RoutePlan::PerUrl { .. } => {
                    format!(
                        "routes decided by a PAC file ({}); see {}",
                        routes.source(),
                        super::pac::ID
                    )
                }
                RoutePlan::Static { .. } => format!(
                    "proxy configured ({}) but every endpoint bypasses it",
                    routes.source()
                ),
            }
        }
    }
    if let (Some(m), Status::Pass) = (&mismatch, status) {
        status = Status::Warn;
        summary = m.clone();
        remediation = Some("proxy");
    }
    let mut r = CheckResult::simple(ID, CheckKind::Network, "proxy settings", status, summary);
    r.facts = facts;
    r.remediation = remediation.map(str::to_string);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn environment_variables_either_case_lower_wins() {
        let s = ProxySetting::from_env(env(&[
            ("HTTPS_PROXY", "http://upper:8080"),
            ("https_proxy", "http://lower:8080"),
            ("ALL_PROXY", "http://all:3128"),
            ("no_proxy", ".contoso.com,localhost"),
        ]));
        assert_eq!(s.https.as_deref(), Some("http://lower:8080"));
        assert_eq!(s.http.as_deref(), Some("http://all:3128"), "ALL_PROXY fills in");
        assert_eq!(s.bypass.as_deref(), Some(".contoso.com,localhost"));
        assert!(ProxySetting::from_env(env(&[])).is_direct());
    }

    #[test]
    fn windows_proxy_lists() {
        let s = ProxySetting::from_windows(
            Some("proxy.contoso.com:8080"),
            Some("<local>;*.contoso.com"),
            None,
            false,
        );
        assert_eq!(s.https.as_deref(), Some("proxy.contoso.com:8080"));
        assert_eq!(s.http, s.https);
        let s = ProxySetting::from_windows(Some("http=p1:80;https=p2:443;ftp=p3:21"), None, None, false);
        assert_eq!(
            (s.http.as_deref(), s.https.as_deref()),
            (Some("p1:80"), Some("p2:443"))
        );
        let s = ProxySetting::from_windows(None, None, Some("http://pac/proxy.pac".into()), true);
        assert_eq!(s.describe(), "PAC http://pac/proxy.pac, auto-detect (WPAD) on");
        assert_eq!(
            s.plan("x").unwrap(),
            RoutePlan::Pac {
                url: "http://pac/proxy.pac".into(),
                source: "x".into()
            }
        );
    }

    #[test]
    fn mismatch_between_winhttp_and_the_user() {
        let direct = ProxySetting::default();
        let manual = ProxySetting::from_windows(Some("proxy:8080"), None, None, false);
        let other = ProxySetting::from_windows(Some("proxy2:8080"), None, None, false);
        let pac = ProxySetting::from_windows(None, None, Some("http://pac/p.pac".into()), false);
        assert_eq!(mismatch(&direct, &direct), None);
        assert_eq!(mismatch(&manual, &manual), None);
        assert!(mismatch(&manual, &other).is_some());
        assert!(mismatch(&pac, &direct)
            .unwrap()
            .contains("works in the browser, fails in Office"));
        assert!(mismatch(&direct, &manual).is_some());
        assert_eq!(
            mismatch(&pac, &manual),
            None,
            "a PAC file may well pick that same proxy"
        );
    }

    #[test]
    fn plan_prefers_os_sources_then_environment() {
        let user = ProxySource {
            name: WININET,
            setting: Ok(ProxySetting::from_windows(
                Some("userproxy:8080"),
                Some("<local>"),
                None,
                false,
            )),
        };
        let machine = ProxySource {
            name: WINHTTP,
            setting: Ok(ProxySetting::default()),
        };
        let d = Discovery::from_parts(
            env(&[("HTTPS_PROXY", "http://envproxy:3128")]),
            vec![user, machine],
        );
        let RoutePlan::Static { routes, source } = d.plan() else {
            panic!("{:?}", d.plan())
        };
        assert_eq!(source, WININET);
        assert_eq!(routes.https.unwrap().describe(), "PROXY userproxy:8080");
        assert!(d.mismatch().is_some());
        let d = Discovery::from_parts(env(&[("HTTPS_PROXY", "http://envproxy:3128")]), vec![]);
        assert_eq!(d.plan().source(), ENVIRONMENT);
        assert_eq!(Discovery::from_parts(env(&[]), vec![]).plan(), RoutePlan::Direct);
    }

    #[test]
    fn explicit_proxy_flag() {
        assert_eq!(session_plan(Some("direct")).unwrap(), RoutePlan::Direct);
        assert_eq!(session_plan(Some("http://p:8080")).unwrap().source(), "--proxy");
        let e = session_plan(Some("https://bob:S3cret@p:8080")).unwrap_err();
        assert!(!e.contains("S3cret"), "{e}");
    }

    #[test]
    fn credentials_are_redacted_in_every_fact() {
        let d = Discovery::from_parts(
            env(&[
                ("HTTPS_PROXY", "http://alice:Hunter2@proxy.contoso.com:8080"),
                ("no_proxy", "localhost"),
            ]),
            vec![],
        );
        let routes = d.plan();
        let test = TunnelTest {
            proxy: "proxy.contoso.com:8080".into(),
            target: "login.microsoftonline.com:443".into(),
            outcome: Err((Cause::HttpProxyAuth, "HTTP 407".into())),
        };
        let r = judge(&d, &routes, false, Some(&test));
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("Hunter2") && !text.contains("alice"), "{text}");
        assert!(
            text.contains("http://<credentials>@proxy.contoso.com:8080"),
            "{text}"
        );
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.remediation.as_deref(), Some("proxy-auth"));
    }

    #[test]
    fn outcomes_pick_their_remediation() {
        let d = Discovery::default();
        let routes = RoutePlan::single(Route::from_proxy_url("p:3128").unwrap(), "lab");
        let outcome = |o| TunnelTest {
            proxy: "p:3128".into(),
            target: "a:443".into(),
            outcome: o,
        };
        let r = judge(&d, &routes, true, Some(&outcome(Ok(()))));
        assert_eq!((r.status, r.remediation.as_deref()), (Status::Pass, None));
        for (cause, rem, words) in [
            (Cause::HttpProxyAuth, "proxy-auth", "credentials"),
            (Cause::HttpBlocked, "proxy-block", "blocks"),
            (Cause::TcpRefused, "proxy", "unreachable"),
            (Cause::Other, "proxy", "does not tunnel"),
        ] {
            let r = judge(&d, &routes, true, Some(&outcome(Err((cause, "why".into())))));
            assert_eq!(
                (r.status, r.remediation.as_deref()),
                (Status::Fail, Some(rem)),
                "{cause:?}"
            );
            assert!(r.summary.contains(words), "{}", r.summary);
        }
        let fact =
            |r: &CheckResult, k: &str| r.facts.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let r = judge(&d, &routes, true, Some(&outcome(Ok(()))));
        assert_eq!(fact(&r, "proxy_configured").as_deref(), Some("yes"));
        assert_eq!(fact(&r, "proxy").as_deref(), Some("p:3128"));
        let r = judge(&d, &RoutePlan::Direct, false, None);
        assert_eq!(r.status, Status::Pass);
        assert!(r.summary.contains("direct"));
        assert_eq!(fact(&r, "proxy_configured").as_deref(), Some("no"));
        assert_eq!(fact(&r, "proxy"), None);
    }

    #[test]
    fn a_mismatch_is_a_warning_unless_monitoring_a_lab() {
        let user = ProxySource {
            name: WININET,
            setting: Ok(ProxySetting::from_windows(Some("p:8080"), None, None, false)),
        };
        let machine = ProxySource {
            name: WINHTTP,
            setting: Ok(ProxySetting::default()),
        };
        let d = Discovery::from_parts(env(&[]), vec![user, machine]);
        let r = judge(&d, &RoutePlan::Direct, false, None);
        assert_eq!(
            (r.status, r.remediation.as_deref()),
            (Status::Warn, Some("proxy"))
        );
        assert!(r.summary.contains("works in the browser, fails in Office"));
        assert_eq!(judge(&d, &RoutePlan::Direct, true, None).status, Status::Pass);
    }
}
