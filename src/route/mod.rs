//! How each endpoint is reached this sweep: directly, or through which proxy, and why.
//!
//! Office on a corporate network rarely talks to Microsoft 365 directly: a proxy named in
//! the environment, in the WinHTTP or user settings, or chosen per URL by a PAC file sits
//! in between, and is often the thing that breaks sign-in. This room turns those settings
//! into one [`RoutePlan`] per sweep, made by the engine before the probes start and
//! handed to the probes (which take the route it gives each endpoint) and to the checks
//! that report on routing (proxy, PAC) — so what a check shows is what the probes did,
//! and a PAC file is downloaded once per sweep.
//!
//! - [`RouteSettings`]: what the session was told (`--proxy`, `--pac-url`, a lab's
//!   proxy) or `Machine`: this machine's settings, read again every sweep;
//! - [`discovery`]: the machine's proxy sources, each on its own;
//! - [`pac`]: the PAC file, downloaded and run in a sandbox;
//! - [`proxy_url`], [`bypass`]: proxy addresses, credentials and bypass lists;
//! - [`vpn_paths`]: which interface carries an address, and whether it is a VPN.
//!
//! Nothing here opens a connection except the PAC download; name lookups go through the
//! [`Network`] the engine hands in (the probes' resolver).

pub mod bypass;
pub mod discovery;
pub mod pac;
pub mod proxy_url;
pub mod vpn_paths;

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use crate::catalog::{Endpoint, Scheme};
use crate::http::url::redact_credentials;
use crate::model::error::InputError;
pub use bypass::Bypass;
pub use discovery::Discovery;
pub use pac::PacRun;
pub use proxy_url::{parse_proxy_url, ProxyAuth, ProxyServer};

/// How a probe's connection reaches one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Route {
    #[default]
    Direct,
    /// Through an HTTP proxy: CONNECT for HTTPS, absolute-form requests for HTTP.
    HttpProxy {
        addr: ProxyServer,
        auth: Option<ProxyAuth>,
    },
}

impl Route {
    /// The route in PAC words, without credentials: `DIRECT` or `PROXY host:port`.
    pub fn describe(&self) -> String {
        match self {
            Route::Direct => "DIRECT".into(),
            Route::HttpProxy { addr, auth: None } => format!("PROXY {addr}"),
            Route::HttpProxy { addr, auth: Some(_) } => format!("PROXY {addr} (with credentials)"),
        }
    }

    /// A proxy route from a proxy URL (`http://user:pass@host:port`, or `host:port`).
    pub fn from_proxy_url(text: &str) -> Result<Route, String> {
        let (addr, auth) = parse_proxy_url(text)?;
        Ok(Route::HttpProxy { addr, auth })
    }
}

/// Fixed proxies per scheme, with the hosts that bypass them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticRoutes {
    pub https: Option<Route>,
    pub http: Option<Route>,
    pub bypass: Bypass,
}

/// How a session chooses its routes; set once, when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RouteSettings {
    /// This machine's own proxy settings ([`Discovery`]), read again at every sweep so a
    /// changed setting shows on the next one.
    Machine,
    /// Every endpoint direct.
    #[default]
    Direct,
    /// Fixed proxies (environment, WinINet/WinHTTP manual settings, `--proxy`, the lab).
    Static { routes: StaticRoutes, source: String },
    /// A PAC file decides per URL; it is downloaded and run at the start of every sweep.
    Pac { url: String, source: String },
}

impl RouteSettings {
    /// One proxy for every endpoint (`--proxy URL`, or a lab's proxy).
    pub fn single(route: Route, source: impl Into<String>) -> Self {
        match route {
            Route::Direct => RouteSettings::Direct,
            route => RouteSettings::Static {
                routes: StaticRoutes {
                    https: Some(route.clone()),
                    http: Some(route),
                    bypass: Bypass::default(),
                },
                source: source.into(),
            },
        }
    }

    /// The settings asked for on the command line, if any: `--pac-url` (an http://,
    /// https:// or file:// URL), or `--proxy` (`direct`, or a proxy URL). Errors never
    /// show the proxy's credentials.
    pub fn from_flags(proxy: Option<&str>, pac_url: Option<&str>) -> Result<Option<Self>, InputError> {
        if let Some(url) = pac_url {
            let url = url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with("file://")) {
                return Err(InputError::plain(format!(
                    "--pac-url {}: expected an http://, https:// or file:// URL",
                    redact_credentials(url)
                )));
            }
            return Ok(Some(RouteSettings::Pac {
                url: url.to_string(),
                source: "--pac-url".into(),
            }));
        }
        match proxy.map(str::trim) {
            None => Ok(None),
            Some(p) if p.eq_ignore_ascii_case("direct") || p.eq_ignore_ascii_case("none") => {
                Ok(Some(RouteSettings::Direct))
            }
            Some(p) => Route::from_proxy_url(p)
                .map(|r| Some(RouteSettings::single(r, "--proxy")))
                .map_err(|e| InputError::plain(format!("--proxy: {e}"))),
        }
    }

    /// Where the routes come from, for the detail view ("HTTPS_PROXY (environment)").
    pub fn source(&self) -> String {
        match self {
            RouteSettings::Machine => "this machine's proxy settings".into(),
            RouteSettings::Direct => "no proxy".into(),
            RouteSettings::Static { source, .. } => source.clone(),
            RouteSettings::Pac { url, source } => format!("{source}: PAC {}", redact_credentials(url)),
        }
    }
}

/// What planning needs from the network: name lookups, with the sweep's resolver.
pub trait Network: Sync {
    /// The addresses of `name`, or why there are none.
    fn resolve(&self, name: &str) -> impl Future<Output = Result<Vec<IpAddr>, String>> + Send;
    /// Cap for each lookup and for the PAC download.
    fn timeout(&self) -> Duration;
    /// What `myIpAddress()` answers in a PAC file.
    fn my_ip(&self) -> IpAddr;
}

/// The routes of one sweep.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoutePlan {
    /// What decided them: the session's settings, or (for [`RouteSettings::Machine`]) the
    /// machine's, as read for this sweep. Never `Machine` itself.
    pub settings: RouteSettings,
    /// The machine's proxy sources as read for this sweep; shown by the proxy check
    /// whatever decides the routes.
    pub discovery: Discovery,
    /// The PAC file's run, when a PAC file decides.
    pub pac: Option<PacRun>,
}

impl RoutePlan {
    /// A plan from settings that need no network (not a PAC file, not `Machine`), with
    /// nothing discovered: for tests and fixed routes.
    pub fn fixed(settings: RouteSettings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }

    /// The route for one endpoint.
    pub fn route_for(&self, e: &Endpoint) -> Route {
        match &self.settings {
            RouteSettings::Direct | RouteSettings::Machine => Route::Direct,
            RouteSettings::Static { routes, .. } => {
                if routes.bypass.matches(&e.host) {
                    return Route::Direct;
                }
                let r = match e.scheme {
                    Scheme::Https => &routes.https,
                    Scheme::Http => &routes.http,
                };
                r.clone().unwrap_or_default()
            }
            RouteSettings::Pac { .. } => self
                .pac
                .as_ref()
                .map(|run| run.route_for(&e.url()))
                .unwrap_or_default(),
        }
    }

    /// Where the routes come from, for the detail view and the proxy check.
    pub fn source(&self) -> String {
        self.settings.source()
    }

    /// Whether every endpoint goes direct because nothing names a proxy.
    pub fn is_direct(&self) -> bool {
        matches!(self.settings, RouteSettings::Direct | RouteSettings::Machine)
    }

    /// The proxy the probes use, without credentials: `host:port`, or the PAC file.
    pub fn proxy_in_use(&self) -> Option<String> {
        match &self.settings {
            RouteSettings::Direct | RouteSettings::Machine => None,
            RouteSettings::Static { routes, .. } => match routes.https.as_ref().or(routes.http.as_ref())? {
                Route::HttpProxy { addr, .. } => Some(addr.to_string()),
                Route::Direct => None,
            },
            RouteSettings::Pac { .. } => Some(self.source()),
        }
    }
}

/// Decides this sweep's routes: reads the machine's proxy sources, and when a PAC file
/// decides, downloads and runs it for `endpoints`. A PAC file that cannot be used sends
/// everything direct, as Windows does; the run says why.
pub async fn plan(settings: &RouteSettings, endpoints: &[Endpoint], net: &impl Network) -> RoutePlan {
    let discovery = Discovery::read();
    let settings = match settings {
        RouteSettings::Machine => discovery.settings(),
        other => other.clone(),
    };
    let pac = match &settings {
        RouteSettings::Pac { url, source } => Some(pac::run(url, source, endpoints, net).await),
        _ => None,
    };
    RoutePlan {
        settings,
        discovery,
        pac,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_in_debug_display_or_descriptions() {
        let route = Route::from_proxy_url("http://alice:Hunter2!@proxy.contoso.com:8080").unwrap();
        let debug = format!("{route:?}");
        assert!(!debug.contains("Hunter2") && !debug.contains("alice"), "{debug}");
        assert_eq!(
            route.describe(),
            "PROXY proxy.contoso.com:8080 (with credentials)"
        );
        let plan = RouteSettings::Pac {
            url: "http://alice:Hunter2!@pac.contoso.com/proxy.pac".into(),
            source: "test".into(),
        };
        assert!(!plan.source().contains("Hunter2"), "{}", plan.source());
    }

    #[test]
    fn static_plans_route_by_scheme_and_bypass() {
        let proxy = Route::from_proxy_url("proxy:8080").unwrap();
        let plan = RoutePlan::fixed(RouteSettings::Static {
            routes: StaticRoutes {
                https: Some(proxy.clone()),
                http: None,
                bypass: Bypass::parse(".officeapps.live.com"),
            },
            source: "test".into(),
        });
        let catalog = crate::catalog::Catalog::builtin();
        let find = |host: &str, scheme: Scheme| {
            catalog
                .endpoints
                .iter()
                .find(|e| e.host == host && e.scheme == scheme)
                .unwrap()
                .clone()
        };
        assert_eq!(
            plan.route_for(&find("login.microsoftonline.com", Scheme::Https)),
            proxy
        );
        assert_eq!(
            plan.route_for(&find("ols.officeapps.live.com", Scheme::Https)),
            Route::Direct
        );
        assert_eq!(
            plan.route_for(&find("crl.microsoft.com", Scheme::Http)),
            Route::Direct
        );
        assert_eq!(RouteSettings::single(Route::Direct, "x"), RouteSettings::Direct);
    }
}
