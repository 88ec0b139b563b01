//! Proxy settings as the operating system keeps them, one [`ProxySetting`] per place:
//! the environment, Windows' WinHTTP and user settings (read in `proxy_windows`), macOS's
//! `scutil --proxy` output. Which of them the probes follow is decided in
//! [`crate::route::discovery`].

use crate::http::url::redact_credentials;

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

/// An environment of the given variables, for tests of the sources that read one.
#[cfg(test)]
pub(crate) fn test_env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::test_env as env;
    use super::*;

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
    }
}
