//! Where this machine's proxy settings come from, and which of them the probes follow.
//!
//! Sources, each kept on its own so the proxy check can show them side by side: the
//! `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` variables (either case); on Windows
//! the user's settings (WinINet) and WinHTTP's machine default; on macOS `scutil --proxy`.
//! On Windows a difference between the last two is the classic "works in the browser,
//! fails in Office".

use crate::platform::proxy::ProxySetting;

use super::{Bypass, Route, RouteSettings, StaticRoutes};
use crate::http::url::redact_credentials;

/// The routes one setting gives: a PAC file wins over a manual proxy, as on Windows and
/// macOS. WPAD auto-detection alone is not followed (the probes go direct).
pub fn settings_of(setting: &ProxySetting, source: &str) -> Result<RouteSettings, String> {
    if let Some(url) = &setting.pac_url {
        return Ok(RouteSettings::Pac {
            url: url.clone(),
            source: source.to_string(),
        });
    }
    let https = setting.https.as_deref().map(Route::from_proxy_url).transpose()?;
    let http = setting.http.as_deref().map(Route::from_proxy_url).transpose()?;
    if https.is_none() && http.is_none() {
        return Ok(RouteSettings::Direct);
    }
    let bypass = Bypass::parse(setting.bypass.as_deref().unwrap_or(""));
    Ok(RouteSettings::Static {
        routes: StaticRoutes { https, http, bypass },
        source: source.to_string(),
    })
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
    pub fn settings(&self) -> RouteSettings {
        for source in &self.sources {
            if let Ok(setting) = &source.setting {
                if let Ok(plan) = settings_of(setting, source.name) {
                    if plan != RouteSettings::Direct {
                        return plan;
                    }
                }
            }
        }
        RouteSettings::Direct
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
            Ok(o) if o.status.success() => Ok(crate::platform::proxy::parse_scutil(
                &String::from_utf8_lossy(&o.stdout),
            )),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::proxy::test_env as env;

    #[test]
    fn a_pac_url_wins_over_a_manual_proxy() {
        let s = ProxySetting::from_windows(Some("p:8080"), None, Some("http://pac/proxy.pac".into()), true);
        assert_eq!(
            settings_of(&s, "x").unwrap(),
            RouteSettings::Pac {
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
        let RouteSettings::Static { routes, source } = d.settings() else {
            panic!("{:?}", d.settings())
        };
        assert_eq!(source, WININET);
        assert_eq!(routes.https.unwrap().describe(), "PROXY userproxy:8080");
        assert!(d.mismatch().is_some());
        let d = Discovery::from_parts(env(&[("HTTPS_PROXY", "http://envproxy:3128")]), vec![]);
        assert_eq!(d.settings().source(), ENVIRONMENT);
        assert_eq!(
            Discovery::from_parts(env(&[]), vec![]).settings(),
            RouteSettings::Direct
        );
    }
}
